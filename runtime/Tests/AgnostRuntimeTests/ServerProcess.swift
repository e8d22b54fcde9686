import AgnostBundle
import Foundation
import Synchronization

/// The fixture server (or another program) as a child process, with its output collected line by line.
final class ServerProcess: Sendable {
    let process: Process
    private let output = CollectedOutput()

    /// Starts the `FixtureServer` executable built next to the test bundle.
    ///
    /// - Parameters:
    ///   - lifetime: the child is killed once it has run this long, whatever the test is doing; and when this object
    ///     goes away, as it does when a test fails, any child still running is killed at once.
    ///   - launcher: a command that runs the server as its last argument and `exec`s it (so that the child's pid is
    ///     the server's), such as `setpriv …`; empty runs the server directly.
    ///   - program: another program to run instead of the server, with its arguments, such as a Python peer.
    init(
        environment: [String: String],
        lifetime: Duration = .seconds(120),
        launcher: [String] = [],
        program: [String]? = nil
    ) throws {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let server = testBinary.deletingLastPathComponent().appendingPathComponent("FixtureServer")
        let command = launcher + (program ?? [server.path])
        process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = environment
        let outputPipe = Pipe()
        let errors = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errors
        try process.run()
        // Blocking reads on threads of their own: Foundation's readabilityHandler crashes libdispatch when
        // the pipe closes under it.
        let collected = self.output
        let process = self.process
        let deadline = ContinuousClock.now + lifetime
        Thread.detachNewThread {
            while process.isRunning {
                if ContinuousClock.now >= deadline {
                    kill(process.processIdentifier, SIGKILL)
                    return
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        Thread.detachNewThread {
            while case let data = outputPipe.fileHandleForReading.availableData, !data.isEmpty {
                collected.appendStandardOutput(data)
            }
        }
        Thread.detachNewThread {
            while case let data = errors.fileHandleForReading.availableData, !data.isEmpty {
                collected.appendStandardError(data)
            }
        }
    }

    var lines: [String] { output.lines }
    var standardError: String { output.standardError }

    /// Polls the collected output; fails the wait after `timeout`.
    func waitForLine(containing text: String, timeout: Duration = .seconds(20)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = lines.first(where: { $0.contains(text) }) { return line }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw WaitTimedOut(what: "a line containing '\(text)'", output: lines.joined(separator: "\n") + standardError)
    }

    /// The port from the start-up line `{"message":"listening","address":"127.0.0.1:PORT",…}`.
    func waitForPort() async throws -> Int {
        let line = try await waitForLine(containing: "\"listening\"")
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        let address = object?["address"] as? String ?? ""
        guard let port = address.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw WaitTimedOut(what: "a port in \(line)", output: "")
        }
        return port
    }

    func waitForExit(timeout: Duration = .seconds(20)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw WaitTimedOut(what: "the server to exit", output: lines.joined(separator: "\n"))
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    /// SIGTERM, then SIGKILL if the server has not exited after `grace`; returns the exit status.
    @discardableResult
    func stop(grace: Duration = .seconds(5)) async throws -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        return try await waitForExit(timeout: grace)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }
}

/// Output of a child process, split into lines as it arrives.
final class CollectedOutput: Sendable {
    private struct State {
        var lines: [String] = []
        var partialLine = ""
        var standardError = ""
    }

    private let state = Mutex(State())

    func appendStandardOutput(_ data: Data) {
        let chunk = String(decoding: data, as: UTF8.self)
        state.withLock { state in
            var lines = (state.partialLine + chunk).components(separatedBy: "\n")
            state.partialLine = lines.removeLast()
            state.lines.append(contentsOf: lines)
        }
    }

    func appendStandardError(_ data: Data) {
        let chunk = String(decoding: data, as: UTF8.self)
        state.withLock { $0.standardError += chunk }
    }

    var lines: [String] { state.withLock { $0.lines } }
    var standardError: String { state.withLock { $0.standardError } }
}

struct WaitTimedOut: Error, CustomStringConvertible {
    let what: String
    let output: String
    var description: String { "timed out waiting for \(what); output so far:\n\(output)" }
}

/// The `bundle.json` of the fixture server's handlers, written once per test run.
func writeFixtureBundle() throws -> String {
    try fixtureBundle.get()
}

/// One fixed path, rewritten atomically with the same sorted-key bytes by every run, so that runs leave one small file
/// behind rather than a directory each.
private let fixtureBundle = Result { () throws -> String in
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-rt-fixture")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let manifest = BundleManifest(
        app: "fixture",
        version: "v1",
        specDigest: "sha256:0",
        build: BuildInfo(configuration: "debug", toolchain: "test", inputDigest: "sha256:0"),
        endpoints: [
            EndpointPlan(
                name: "hello",
                method: "GET",
                path: "/hello/:name",
                handler: "hello",
                timeoutMilliseconds: 2000
            ),
            EndpointPlan(name: "slow", method: "GET", path: "/slow", handler: "slow", timeoutMilliseconds: 5000),
            EndpointPlan(name: "late", method: "GET", path: "/late", handler: "slow", timeoutMilliseconds: 300),
            EndpointPlan(name: "fail", method: "GET", path: "/fail", handler: "fail", timeoutMilliseconds: 2000),
            EndpointPlan(
                name: "decodeJSON",
                method: "POST",
                path: "/json",
                handler: "decodeJSON",
                timeoutMilliseconds: 5000
            ),
            EndpointPlan(
                name: "echoText",
                method: "POST",
                path: "/text",
                handler: "echoText",
                timeoutMilliseconds: 5000
            ),
            EndpointPlan(
                name: "upload",
                method: "POST",
                path: "/upload",
                handler: "echoText",
                timeoutMilliseconds: 500
            ),
            EndpointPlan(
                name: "keyed",
                method: "GET",
                path: "/keyed",
                handler: "keyed",
                timeoutMilliseconds: 2000,
                requiresAPIKey: true
            ),
        ],
        queues: [
            QueuePlan(
                name: "jobs",
                handler: "recordMessage",
                retries: 2,
                delayMilliseconds: 0,
                timeoutMilliseconds: 1000
            )
        ],
        cronJobs: [
            CronJobPlan(
                name: "tick",
                schedule: "* * * * *",
                timezone: "UTC",
                handler: "recordTick",
                enabled: false,
                timeoutMilliseconds: 2000
            )
        ]
    )
    let path = directory.appendingPathComponent("bundle.json").path
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    try encoder.encode(manifest).write(to: URL(fileURLWithPath: path), options: .atomic)
    return path
}

/// A one-request HTTP/1.1 client over a plain socket, so that the tests control connections exactly.
enum RawHTTP {
    static func get(port: Int, path: String) throws -> (status: Int, body: String) {
        let connection = try RawConnection(port: port)
        try connection.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        guard let response = try connection.readResponse() else { throw RawConnection.ClosedEarly() }
        return (response.status, response.text)
    }
}
