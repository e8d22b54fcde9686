// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "swift-http",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Handlers", targets: ["Handlers"])
    ],
    dependencies: [
        .package(path: "../../runtime")
    ],
    targets: [
        .target(
            name: "Handlers",
            dependencies: [.product(name: "AgnostRuntime", package: "runtime")]
        ),
        .testTarget(
            name: "HandlersTests",
            dependencies: ["Handlers", .product(name: "AgnostRuntimeTesting", package: "runtime")]
        ),
    ]
)
