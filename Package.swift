// swift-tools-version:6.1
import PackageDescription

/// The agnost-fn toolchain: spec checking, compiling handler packages into bundles, and the CLI.
/// The runtime that every function links is its own package under `runtime/`; the toolchain uses its
/// Foundation-free contract modules (bundle format, digests, cron expressions) so both sides share one definition.
let package = Package(
    name: "agnost-fn",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "agnost-fn", targets: ["agnost-fn"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-openapi-generator.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(path: "runtime"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CMongoC", pkgConfig: "libmongoc-1.0", providers: [.apt(["libmongoc-dev"])]),
        .target(
            name: "AgnostSpec",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "AgnostCron", package: "runtime"),
            ]
        ),
        .target(
            name: "AgnostCompiler",
            dependencies: [
                "AgnostSpec",
                .product(name: "AgnostBundle", package: "runtime"),
                .product(name: "AgnostDigest", package: "runtime"),
            ]
        ),
        .target(name: "AgnostHTTP", dependencies: ["CCurl"]),
        .target(name: "AgnostOCI", dependencies: ["COpenSSL", .product(name: "AgnostDigest", package: "runtime")]),
        .target(
            name: "AgnostImage",
            dependencies: ["AgnostOCI", "CArchive", "CZlib", .product(name: "AgnostDigest", package: "runtime")]
        ),
        .target(
            name: "AgnostRegistry",
            dependencies: ["AgnostHTTP", "AgnostOCI", .product(name: "AgnostDigest", package: "runtime")]
        ),
        .target(
            name: "AgnostPipeline",
            dependencies: [
                "AgnostSpec", "AgnostCompiler", "AgnostOCI", "AgnostImage", "AgnostRegistry", "AgnostKnative",
                "AgnostEvents", "AgnostPlatform",
                .product(name: "AgnostBundle", package: "runtime"),
                .product(name: "AgnostDigest", package: "runtime"),
            ]
        ),
        .target(
            name: "AgnostKnative",
            dependencies: [
                "AgnostHTTP", "AgnostOCI",
                .product(name: "Yams", package: "Yams"),
                .product(name: "AgnostBundle", package: "runtime"),
                .product(name: "AgnostDigest", package: "runtime"),
            ]
        ),
        .target(
            name: "AgnostEvents",
            dependencies: [
                "AgnostHTTP", "CZlib",
                .product(name: "AgnostBundle", package: "runtime"),
                .product(name: "AgnostCron", package: "runtime"),
                .product(name: "AgnostDigest", package: "runtime"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "AgnostPlatform",
            dependencies: [
                "AgnostSpec", "AgnostCompiler", "AgnostHTTP", "AgnostKnative", "AgnostOCI", "CSQLite", "CMongoC",
                "COpenSSL",
                .product(name: "AgnostBundle", package: "runtime"),
                .product(name: "AgnostDigest", package: "runtime"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .executableTarget(
            name: "agnost-fn",
            dependencies: [
                "AgnostSpec",
                "AgnostCompiler",
                "AgnostHTTP",
                "AgnostOCI",
                "AgnostImage",
                "AgnostRegistry",
                "AgnostPipeline",
                "AgnostKnative",
                "AgnostEvents",
                "AgnostPlatform",
                .product(name: "AgnostBundle", package: "runtime"),
                .product(name: "AgnostDigest", package: "runtime"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "AgnostSpecTests",
            dependencies: ["AgnostSpec", .product(name: "AgnostCron", package: "runtime")]
        ),
        .testTarget(
            name: "AgnostCompilerTests",
            dependencies: ["AgnostCompiler", "AgnostSpec"],
            exclude: ["Golden"]
        ),
        .testTarget(name: "AgnostHTTPTests", dependencies: ["AgnostHTTP", "AgnostTestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "AgnostOCITests",
            dependencies: ["AgnostOCI", .product(name: "AgnostDigest", package: "runtime")]
        ),
        .testTarget(
            name: "AgnostImageTests",
            dependencies: ["AgnostImage", "AgnostOCI", "AgnostTestSupport"],
            exclude: ["Golden"]
        ),
        .target(
            name: "AgnostTestSupport",
            path: "Tests/AgnostTestSupport",
            exclude: ["token_issuer.py", "kube_apiserver.py", "knative_validation.py"]
        ),
        .testTarget(
            name: "AgnostRegistryTests",
            dependencies: [
                "AgnostRegistry", "AgnostOCI", "AgnostImage", "AgnostTestSupport",
                .product(name: "AgnostDigest", package: "runtime"),
            ]
        ),
        .testTarget(
            name: "AgnostKnativeTests",
            dependencies: [
                "AgnostKnative", "AgnostHTTP", "AgnostOCI", "AgnostTestSupport",
                .product(name: "AgnostBundle", package: "runtime"),
                .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["Golden", "Fixtures"]
        ),
        .testTarget(
            name: "AgnostEventsTests",
            dependencies: [
                "AgnostEvents", "AgnostHTTP", "AgnostTestSupport",
                .product(name: "AgnostBundle", package: "runtime"),
                .product(name: "AgnostCron", package: "runtime"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Writes to an event log until killed, for the tests that kill it at random moments; or runs a hub, to
        // measure its ingress.
        .executableTarget(
            name: "EventsFixture",
            dependencies: ["AgnostEvents", .product(name: "AgnostBundle", package: "runtime")],
            path: "Tests/EventsFixture"
        ),
        .testTarget(
            name: "AgnostPlatformTests",
            dependencies: [
                "AgnostPlatform", "AgnostSpec", "AgnostHTTP", "AgnostKnative", "AgnostTestSupport",
                .product(name: "AgnostDigest", package: "runtime"),
            ]
        ),
        // Writes platform records concurrently until killed, for the durability test that kills it.
        .executableTarget(name: "StoreFixture", dependencies: ["AgnostPlatform"], path: "Tests/StoreFixture"),
        .testTarget(
            name: "AgnostEndToEndTests",
            dependencies: ["AgnostHTTP", "AgnostTestSupport", .product(name: "AgnostDigest", package: "runtime")],
            // Projects that the tests copy and build with agnost-fn, not sources of the test target.
            exclude: ["Projects"]
        ),
    ]
)
