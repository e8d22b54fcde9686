import AgnostHTTP
import Foundation

/// The server of `Fixtures/http_server.py`, running for the duration of one test.
struct TestServer {
    let port: Int
    /// Whether it speaks TLS, and so `https`.
    let tls: Bool

    func url(_ pathAndQuery: String, host: String = "127.0.0.1") -> String {
        "\(tls ? "https" : "http")://\(host):\(port)\(pathAndQuery)"
    }
}

/// How the fixture server speaks TLS: its certificate and key, and the CA its clients' certificates must come from.
struct ServerTLS {
    var certificate: String
    var key: String
    var clientCA: String? = nil

    var arguments: [String] {
        ["--cert", certificate, "--key", key] + (clientCA.map { ["--client-ca", $0] } ?? [])
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

/// A started fixture server process; ``stop()`` ends it.
private struct ServerProcess {
    let process: Process
    let input: Pipe
    let server: TestServer

    init(tls: ServerTLS?) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/http_server.py")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // The deadline bounds the server even if this process hangs with its stdin open.
        process.arguments = ["python3", script.path, "--deadline", "1800"] + (tls?.arguments ?? [])
        // The server also exits when its stdin closes, so it cannot outlive a test process that crashed.
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let line = readLine(from: output.fileHandleForReading)
        guard let port = Int(line) else {
            Self.stop(process, input)
            throw FixtureError(description: "the fixture server did not print its port but \"\(line)\"")
        }
        server = TestServer(port: port, tls: tls != nil)
    }

    func stop() {
        Self.stop(process, input)
    }

    private static func stop(_ process: Process, _ input: Pipe) {
        process.terminate()
        process.waitUntilExit()
        // Only now: closing the pipe earlier, or letting it be released, would stop the server under the test.
        try? input.fileHandleForWriting.close()
    }
}

/// Runs `body` against a fresh fixture server, which is stopped afterwards even when `body` throws.
func withTestServer<T>(tls: ServerTLS? = nil, _ body: (TestServer) throws -> T) throws -> T {
    let process = try ServerProcess(tls: tls)
    defer { process.stop() }
    return try body(process.server)
}

/// Runs `body` against a fresh fixture server, which is stopped afterwards even when `body` throws.
func withTestServer<T>(
    tls: ServerTLS? = nil,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (TestServer) async throws -> T
) async throws -> T {
    let process = try ServerProcess(tls: tls)
    defer { process.stop() }
    return try await body(process.server)
}

private func readLine(from handle: FileHandle) -> String {
    var bytes: [UInt8] = []
    while !bytes.contains(UInt8(ascii: "\n")) {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        bytes += chunk
    }
    return String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
}

/// What `/echo` saw of a request.
struct Echo: Decodable {
    let method: String
    let path: String
    let query: String
    let headers: [[String]]
    let body: String
    let clientPort: Int

    init(_ response: HTTPClientResponse) throws {
        self = try JSONDecoder().decode(Echo.self, from: Data(response.body))
    }

    var bodyBytes: [UInt8] { Data(base64Encoded: body).map { Array($0) } ?? [] }

    /// The values of every header field called `name`, in the order received.
    func headers(_ name: String) -> [String] {
        headers.filter { $0[0].lowercased() == name.lowercased() }.map { $0[1] }
    }
}
