import AgnostHTTP
import Foundation

/// The server of `Fixtures/http_server.py`, running for the duration of one test.
struct TestServer {
    let port: Int

    func url(_ pathAndQuery: String) -> String {
        "http://127.0.0.1:\(port)\(pathAndQuery)"
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

/// Runs `body` against a fresh fixture server, which is stopped afterwards even when `body` throws.
func withTestServer<T>(_ body: (TestServer) throws -> T) throws -> T {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/http_server.py")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script.path]
    // The server also exits when its stdin closes, so it cannot outlive a test process that crashed.
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    defer {
        process.terminate()
        process.waitUntilExit()
        // Only now: closing the pipe earlier, or letting it be released, would stop the server under the test.
        try? input.fileHandleForWriting.close()
    }
    let line = readLine(from: output.fileHandleForReading)
    guard let port = Int(line) else {
        throw FixtureError(description: "the fixture server did not print its port but \"\(line)\"")
    }
    return try body(TestServer(port: port))
}

/// A local TCP port that nothing listens on: one the system handed out for binding, closed again.
func closedPort() throws -> Int {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "python3", "-c",
        "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1]); s.close()",
    ]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let line = readLine(from: output.fileHandleForReading)
    process.waitUntilExit()
    guard let port = Int(line) else { throw FixtureError(description: "no free port but \"\(line)\"") }
    return port
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
