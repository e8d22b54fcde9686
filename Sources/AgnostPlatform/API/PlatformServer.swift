import Foundation
import Hummingbird
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
import ServiceLifecycle

/// Where the platform's API listens, and how.
public struct PlatformServerConfiguration: Sendable {
    /// Loopback unless told otherwise.
    public var host: String
    /// 0 for a free port.
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = 8090) {
        self.host = host
        self.port = port
    }
}

/// Serves `platform`'s REST API under `/v1` for the duration of `body`, which gets the base URL once the port is
/// bound.
///
/// ```swift
/// try await withPlatformServer(platform, PlatformServerConfiguration(port: 0)) { url in
///     print("platform on", url)   // http://127.0.0.1:41234
///     try await Task.sleep(for: .seconds(3600))
/// }
/// ```
public func withPlatformServer<T: Sendable>(
    _ platform: Platform,
    _ configuration: PlatformServerConfiguration,
    logger: Logger = Logger(label: "agnost.platform"),
    _ body: (String) async throws -> T
) async throws -> T {
    let router = Router()
    router.add(middleware: SingleWriteMiddleware())
    let api = PlatformAPI(platform: platform)
    try api.registerHandlers(
        on: router,
        serverURL: try Servers.Server1.url(),
        // Compact JSON: the runtime's default pretty-printing tripled a version list's bytes; clients format it.
        configuration: Configuration(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: [.sortedKeys]),
        middlewares: [ProblemMiddleware(), ETagMiddleware(), AuthenticationMiddleware(platform: platform)]
    )
    let (bound, boundContinuation) = AsyncStream.makeStream(of: Int?.self)
    let application = Application(
        router: router,
        configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port)),
        onServerRunning: { channel in
            boundContinuation.yield(channel.localAddress?.port)
            boundContinuation.finish()
        },
        logger: logger
    )
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(
            services: [application, DeploymentService(platform: platform)],
            gracefulShutdownSignals: [],
            logger: logger
        )
    )
    let running = Task {
        defer { boundContinuation.finish() }
        try await group.run()
    }
    var iterator = bound.makeAsyncIterator()
    guard let next = await iterator.next(), let port = next else {
        await group.triggerGracefulShutdown()
        try await running.value
        throw PlatformError(
            .unavailable,
            "the platform cannot listen on \(configuration.host):\(configuration.port)",
            context: configuration.host
        )
    }
    let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
    do {
        let result = try await body("http://\(host):\(port)")
        await group.triggerGracefulShutdown()
        try await running.value
        return result
    } catch {
        await group.triggerGracefulShutdown()
        try? await running.value
        throw error
    }
}

/// The deployments the API records, run for as long as the server serves; a shutdown fails the running ones.
private struct DeploymentService: Service {
    let platform: Platform

    func run() async throws {
        await cancelWhenGracefulShutdown { await platform.runDeployments() }
    }
}
