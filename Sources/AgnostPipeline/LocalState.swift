import AgnostKnative
import Foundation

/// What a local run keeps in the project's `.agnost/state/`, which outlives it: the internal token its senders
/// derive theirs from, and per version the event hub's log and the address of the run that serves it now.
///
/// ```swift
/// let state = LocalState(project: project)
/// if let running = state.runningServer(of: "todo-v1") { print(running.ingressURL) }
/// ```
public struct LocalState: Sendable {
    public let directory: URL

    public init(project: Project) {
        directory = project.agnostDirectory.appendingPathComponent("state")
    }

    /// Where the run of one version is, for the commands that talk to it from another process.
    public struct RunningServer: Sendable, Hashable, Codable {
        public var pid: Int32
        public var service: String
        /// The server's own address.
        public var serverURL: String
        /// The event hub's broker ingress, which is also where its API is.
        public var ingressURL: String
    }

    /// The hub's log of `service`.
    public func eventsDirectory(of service: String) -> URL {
        directory.appendingPathComponent(service).appendingPathComponent("events")
    }

    func runFile(of service: String) -> URL {
        directory.appendingPathComponent(service).appendingPathComponent("run.json")
    }

    var internalTokenFile: URL { directory.appendingPathComponent("internal-token") }

    /// The run serving `service` now: nil when none is, or the one that wrote the file is gone (killed with
    /// `kill -9`, it could not remove it).
    public func runningServer(of service: String) -> RunningServer? {
        guard let data = try? Data(contentsOf: runFile(of: service)),
            let running = try? JSONDecoder().decode(RunningServer.self, from: data),
            kill(running.pid, 0) == 0 || errno == EPERM
        else { return nil }
        return running
    }

    func record(_ running: RunningServer) throws(PipelineError) {
        let file = runFile(of: running.service)
        do {
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try JSONEncoder().encode(running).write(to: file, options: .atomic)
        } catch {
            throw PipelineError(
                .configuration,
                "cannot write \(file.path): \(error.localizedDescription)",
                context: file.path,
                underlying: error
            )
        }
    }

    func forget(_ service: String) {
        try? FileManager.default.removeItem(at: runFile(of: service))
    }

    /// The project's internal token: read from `internal-token`, or made and written there (mode 0600) the first
    /// time, so that messages kept across runs still carry a token the next run accepts.
    public func internalToken() throws(PipelineError) -> String {
        let path = internalTokenFile.path
        if let data = FileManager.default.contents(atPath: path) {
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard token.utf8.count >= 32 else {
                throw PipelineError(
                    .configuration,
                    "\(path) does not hold an internal token of at least 32 characters; remove it, and a new one is "
                        + "made",
                    context: path,
                    underlying: POSIXError(.EINVAL)
                )
            }
            return token
        }
        let token = Deployer.newToken()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            guard
                FileManager.default.createFile(
                    atPath: path,
                    contents: Data(token.utf8),
                    attributes: [.posixPermissions: 0o600]
                )
            else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            throw PipelineError(
                .configuration,
                "cannot write \(path): \(error.localizedDescription)",
                context: path,
                underlying: error
            )
        }
        return token
    }
}
