import AgnostBundle
import AgnostCompiler
import AgnostEvents
import Foundation

/// How `run` serves a project on this machine.
public struct LocalRunOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var configuration = BuildConfiguration.debug
    /// Rebuild and restart the server when the project's sources or spec change.
    public var watch = false
    public var verbose = false
    /// Variables set in the server's environment over this process's own.
    public var environment: [String: String] = [:]
    /// How often a watched project is looked at.
    public var pollInterval = Duration.milliseconds(300)

    public init() {}
}

/// What a local run reports, besides the build's own events.
public enum LocalRunEvent: Sendable {
    /// The event hub (the version's broker and cron scheduler) listens on `ingressURL` and keeps its messages in
    /// `stateDirectory`.
    case hubStarted(ingressURL: String, stateDirectory: String)
    /// What the hub did: a message accepted, delivered, retried or dead-lettered; a cron job fired.
    case hub(HubEvent)
    /// The server of `service` was started and will listen on `url`.
    case serverStarted(service: String, url: String, pid: Int32)
    /// The server ended by itself with `status`.
    case serverExited(status: Int32)
    /// A watched file changed; a rebuild starts.
    case rebuilding
    /// The rebuild failed; the server that was running keeps serving.
    case rebuildFailed(PipelineError)
    /// The rebuild produced the same bundle; the server keeps running.
    case rebuildUnchanged
    /// The rebuild changed the queues or cron jobs: the hub restarts with them, its stored messages kept.
    case restartingHub
    /// The server is being stopped, for a restart or because the run ends.
    case stoppingServer
    /// Resources `agnost.yaml` declares that the settings file (`file`) gives no settings: a handler asking for one
    /// gets an error.
    case resourcesWithoutSettings([String], file: String)
}

extension Workflow {
    /// Builds `project` and serves it until the task is cancelled (SIGINT or SIGTERM in the CLI), then stops the
    /// server gracefully and returns its exit status.
    ///
    /// Beside the server runs the version's event hub, its local Broker and PingSource: the server sends queue
    /// messages to its ingress (`AGNOST_BROKER_URL`), which keeps them under `.agnost/state/` until delivered, and
    /// fires the cron jobs. The hub outlives restarts of the server, and its messages outlive the run.
    ///
    /// Without `watch`, a server that ends by itself ends the run with its status. With `watch`, a change of the
    /// project rebuilds it; a build that fails is reported and the running server keeps serving; a server that
    /// ends by itself waits for the next change.
    ///
    /// ```swift
    /// let status = try await workflow.run(project, options: options) { event in print(event) }
    /// ```
    public func run(
        _ project: Project,
        options: LocalRunOptions,
        events: @escaping @Sendable (LocalRunEvent) -> Void
    ) async throws(PipelineError) -> Int32 {
        var chosen = options
        if chosen.port == 0 {
            // Chosen once, so that the server keeps its address across restarts and the run can name it.
            chosen.port = try Self.freePort(host: options.host)
        }
        let options = chosen
        var bundle = try await offCooperativePool { () throws(PipelineError) in
            try self.build(project, configuration: options.configuration, verbose: options.verbose)
        }
        let state = LocalState(project: project)
        let internalToken = try state.internalToken()
        var fingerprint = try? SourceFingerprint(project: project.directory, specFile: "agnost.yaml")
        while true {
            let session = LocalRunSession(
                workflow: self,
                project: project,
                options: options,
                state: state,
                internalToken: internalToken,
                events: events
            )
            switch try await session.serve(bundle, fingerprint: fingerprint) {
            case .ended(let status):
                return status
            case .eventsChanged(let rebuilt, let current):
                events(.restartingHub)
                (bundle, fingerprint) = (rebuilt, current)
            }
        }
    }

    /// A port the kernel has free on `host` now.
    private static func freePort(host: String) throws(PipelineError) -> Int {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        guard probe >= 0, inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw PipelineError(
                .configuration,
                "cannot pick a free port on \(host): give an IPv4 address and a port, or a port other than 0",
                context: host,
                underlying: POSIXError(.EINVAL)
            )
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(probe, generic, length) == 0 && getsockname(probe, generic, &length) == 0
            }
        }
        guard bound else {
            let reason = String(cString: strerror(errno))
            throw PipelineError(
                .configuration,
                "cannot pick a free port on \(host): \(reason)",
                context: host,
                underlying: POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL)
            )
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Runs blocking work (a `swift build` of minutes) on a thread of its own, so the cooperative pool, which the
/// event hub and the signal handling need meanwhile, is never held by it.
func offCooperativePool<Value: Sendable>(
    _ body: @escaping @Sendable () throws(PipelineError) -> Value
) async throws(PipelineError) -> Value {
    let result: Result<Value, PipelineError> = await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            do throws(PipelineError) {
                continuation.resume(returning: .success(try body()))
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
    }
    return try result.get()
}
