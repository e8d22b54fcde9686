// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "todo",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TodoHandlers", targets: ["TodoHandlers"])
    ],
    dependencies: [
        .package(path: "../../runtime")
    ],
    targets: [
        .target(
            name: "TodoHandlers",
            dependencies: [.product(name: "AgnostRuntime", package: "runtime")]
        ),
        .testTarget(
            name: "TodoHandlersTests",
            dependencies: ["TodoHandlers", .product(name: "AgnostRuntimeTesting", package: "runtime")]
        ),
    ]
)
