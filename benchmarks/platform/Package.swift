// swift-tools-version:6.1
import PackageDescription

/// The reference of benchmarks/platform/run: Hummingbird alone, with a route that reads an app's version rows from
/// the SQLite file the platform wrote and returns them as the platform's JSON, built with the same flags. What it
/// leaves out (tokens, the generated server, the store's threads) is what the benchmark measures the cost of.
let package = Package(
    name: "bare-platform",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1")
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .executableTarget(
            name: "BareVersions",
            dependencies: ["CSQLite", .product(name: "Hummingbird", package: "hummingbird")]
        ),
    ]
)
