import AgnostBundle
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The entry point of a function's server: the code generated from `agnost.yaml` registers the handlers and
/// calls ``run(_:)``.
///
/// ```swift
/// var handlers = HandlerRegistry()
/// handlers.register(endpoint: "getTodo", getTodo)
/// await AgnostServer.run(handlers)
/// ```
public enum AgnostServer {
    /// Serves until SIGTERM or SIGINT, then drains in-flight requests and exits 0. A start-up problem is
    /// printed to stderr as `error: …` and exits 1.
    public static func run(_ handlers: HandlerRegistry) async -> Never {
        do {
            try await serve(handlers, environment: ProcessEnvironment.read())
            exit(0)
        } catch {
            let message = "error: \((error as? RuntimeStartupError)?.message ?? String(describing: error))\n"
            _ = message.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
            exit(1)
        }
    }

    static func serve(_ handlers: HandlerRegistry, environment: [String: String]) async throws {
        let started = ContinuousClock.now
        let configuration = try RuntimeConfiguration(environment: environment)
        let output = StandardOutputLog()
        LoggingSystem.bootstrap { _ in
            RuntimeLogHandler(output: output, format: configuration.logFormat, level: configuration.logLevel)
        }
        let logger = Logger(label: "agnost")
        let manifest = try BundleLoader.load(path: configuration.bundlePath)
        let dispatcher = try Dispatcher(
            manifest: manifest,
            handlers: handlers,
            configuration: configuration,
            processEnvironment: environment,
            logOutput: output,
            timers: MultiThreadedEventLoopGroup.singleton
        )
        var serverLogger = logger
        // Hummingbird's own per-connection messages are noise at info; keep its warnings and errors.
        serverLogger.logLevel = max(configuration.logLevel, .warning)
        let application = Application(
            responder: DispatchResponder(dispatcher: dispatcher),
            server: TimedHTTP1Channel.builder(
                headerTimeout: configuration.headerTimeout,
                idleTimeout: configuration.idleTimeout
            ),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { channel in
                var metadata: Logger.Metadata = [
                    "address": "\(configuration.host):\(channel.localAddress?.port ?? configuration.port)",
                    "app": "\(manifest.app)",
                    "version": "\(manifest.version)",
                    "endpoints": "\(manifest.endpoints.count)",
                    "startupMs": "\(LogRenderer.formatMilliseconds((ContinuousClock.now - started).milliseconds))",
                ]
                for (name, value) in configuration.knative { metadata[name] = "\(value)" }
                logger.info("listening", metadata: metadata)
            },
            logger: serverLogger
        )
        Lifeline.watch(environment: environment)
        var group = ServiceGroupConfiguration(
            services: [application, ReadinessDrain(dispatcher: dispatcher)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: serverLogger
        )
        group.maximumGracefulShutdownDuration = dispatcher.longestTimeout + .seconds(1)
        group.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: group).run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE || error.errnoCode == EACCES {
            let reason = error.errnoCode == EADDRINUSE ? "the address is already in use" : "permission denied"
            throw RuntimeStartupError(
                .cannotListen,
                "cannot listen on \(configuration.host):\(configuration.port): \(reason); set PORT to a free port"
            )
        }
        logger.info("stopped after draining in-flight requests")
    }
}

/// Adapts the ``Dispatcher`` to Hummingbird's responder seam.
struct DispatchResponder: HTTPResponder {
    struct Context: InitializableFromSource {
        init(source: ApplicationRequestContextSource) {}
    }

    let dispatcher: Dispatcher

    func respond(to request: HummingbirdCore.Request, context: Context) async throws -> HummingbirdCore.Response {
        let response = await dispatcher.respond(to: request)
        return HummingbirdCore.Response(
            status: response.status,
            headers: response.headers,
            body: ResponseBody(byteBuffer: response.body)
        )
    }
}

/// Turns readiness off as soon as graceful shutdown starts, before the server stops accepting.
///
/// Listed after the application, so the service group shuts it down first.
struct ReadinessDrain: Service {
    let dispatcher: Dispatcher

    func run() async throws {
        try? await gracefulShutdown()
        dispatcher.beginDraining()
    }
}

enum ProcessEnvironment {
    static func read() -> [String: String] {
        var environment: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return environment
    }
}
