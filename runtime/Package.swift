// swift-tools-version:6.1
import PackageDescription

/// The runtime every function links. Its core stays Foundation-free (FoundationEssentials only) and
/// carries no C library beyond libc, so that a function's binary stays small and its build fast.
let package = Package(
    name: "AgnostRuntime",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "AgnostRuntime", targets: ["AgnostRuntime"]),
        .library(name: "AgnostRuntimeTesting", targets: ["AgnostRuntimeTesting"]),
        .library(name: "AgnostBundle", targets: ["AgnostBundle"]),
        .library(name: "AgnostDigest", targets: ["AgnostDigest"]),
        .library(name: "AgnostCron", targets: ["AgnostCron"]),
    ],
    dependencies: [
        // FullFoundation and ConfigurationSupport off: the server links FoundationEssentials only.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .target(name: "AgnostBundle", dependencies: ["AgnostDigest"]),
        .target(name: "AgnostDigest"),
        .target(name: "AgnostCron"),
        .target(
            name: "AgnostRuntime",
            dependencies: [
                "AgnostBundle",
                "AgnostDigest",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "AgnostRuntimeTesting",
            dependencies: [
                "AgnostRuntime",
                "AgnostBundle",
                "AgnostDigest",
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "FixtureServer", dependencies: ["AgnostRuntime"], path: "Tests/FixtureServer"),
        .testTarget(name: "AgnostCronTests", dependencies: ["AgnostCron"]),
        .testTarget(
            name: "AgnostRuntimeTests",
            dependencies: [
                "AgnostRuntime", "AgnostRuntimeTesting", "AgnostBundle", "AgnostDigest", "AgnostCron",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["CloudEventsInterop"]
        ),
    ]
)
