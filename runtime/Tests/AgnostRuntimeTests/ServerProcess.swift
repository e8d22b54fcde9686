import AgnostBundle
import Foundation
import Synchronization

/// The fixture server as a child process, with its output collected line by line.
final class ServerProcess: Sendable {
    let process: Process
    private let output = CollectedOutput()

    /// Starts the `FixtureServer` executable built next to the test bundle.
    init(environment: [String: String]) throws {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process = Process()
        process.executableURL = testBinary.deletingLastPathComponent().appendingPathComponent("FixtureServer")
        process.environment = environment
        let outputPipe = Pipe()
        let errors = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errors
        try process.run()
        // Blocking reads on threads of their own: Foundation's readabilityHandler crashes libdispatch when
        // the pipe closes under it.
        let collected = self.output
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
                process.terminate()
                throw WaitTimedOut(what: "the server to exit", output: lines.joined(separator: "\n"))
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
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

/// Writes a `bundle.json` for the fixture server's handlers into a fresh temporary directory.
func writeFixtureBundle() throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-rt-\(UUID().uuidString)")
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
        ]
    )
    let path = directory.appendingPathComponent("bundle.json").path
    try JSONEncoder().encode(manifest).write(to: URL(fileURLWithPath: path))
    return path
}

/// A one-request HTTP/1.1 client over a plain socket, so that the tests control connections exactly.
enum RawHTTP {
    struct ConnectionRefused: Error {}

    static func get(port: Int, path: String) throws -> (status: Int, body: String) {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ConnectionRefused() }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw ConnectionRefused() }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response.append(contentsOf: buffer[0..<count])
        }
        let text = String(decoding: response, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let status = parts.first?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, parts.dropFirst().joined(separator: "\r\n\r\n"))
    }
}
