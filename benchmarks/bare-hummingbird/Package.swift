// swift-tools-version:6.1
import PackageDescription

/// The reference of the benchmark: Hummingbird alone serving the same route as samples/todo's `getTodo`, with the
/// same store and the same JSON encoding, built with the same flags. Only agnost-fn's runtime layer differs.
let package = Package(
    name: "bare-hummingbird",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: [])
    ],
    targets: [
        .executableTarget(name: "BareServer", dependencies: [.product(name: "Hummingbird", package: "hummingbird")])
    ]
)
