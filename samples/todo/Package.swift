// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "todo",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TodoHandlers", targets: ["TodoHandlers"])
    ],
    dependencies: [
        // Never fetched from there: agnost-fn mirrors this URL to the runtime it was installed with.
        .package(url: "https://github.com/agnost-fn/agnost-runtime.git", from: "0.1.0")
    ],
    targets: [
        .target(
            name: "TodoHandlers",
            dependencies: [.product(name: "AgnostRuntime", package: "agnost-runtime")]
        ),
        .testTarget(
            name: "TodoHandlersTests",
            dependencies: ["TodoHandlers", .product(name: "AgnostRuntimeTesting", package: "agnost-runtime")]
        ),
    ]
)
