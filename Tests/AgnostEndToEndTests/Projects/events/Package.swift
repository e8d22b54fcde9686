// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "events",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "EventHandlers", targets: ["EventHandlers"])
    ],
    dependencies: [
        .package(url: "https://github.com/agnost-fn/agnost-runtime.git", from: "0.1.0")
    ],
    targets: [
        .target(
            name: "EventHandlers",
            dependencies: [.product(name: "AgnostRuntime", package: "agnost-runtime")]
        )
    ]
)
