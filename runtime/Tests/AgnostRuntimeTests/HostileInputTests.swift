import Foundation
import Testing

/// One request nobody should send, as raw bytes.
struct HostileRequest: CustomTestStringConvertible, Sendable {
    let name: String
    let bytes: [UInt8]

    init(_ name: String, _ text: String) {
        self.init(name, Array(text.utf8))
    }

    init(_ name: String, _ bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }

    var testDescription: String { name }

    static let mebibyte = String(repeating: "a", count: 1 << 20)
    static let deepJSON = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)

    static func post(_ path: String, _ body: [UInt8]) -> [UInt8] {
        Array("POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    }

    static let all: [HostileRequest] = [
        .init("garbage request line", "GARBAGE\r\n\r\n"),
        .init("request line without a version", "GET /hello/a\r\n\r\n"),
        .init("unknown HTTP version", "GET /hello/a HTTP/9.9\r\nHost: x\r\n\r\n"),
        .init("request line with an extra token", "GET /hello/a HTTP/1.1 extra\r\nHost: x\r\n\r\n"),
        .init("control bytes as the method", "\u{1}\u{2} /hello/a HTTP/1.1\r\nHost: x\r\n\r\n"),
        .init("header without a colon", "GET /hello/a HTTP/1.1\r\nHost x\r\n\r\n"),
        .init("1 MiB header", "GET /hello/a HTTP/1.1\r\nHost: x\r\nX-Big: \(mebibyte)\r\n\r\n"),
        .init("1 MiB URL", "GET /hello/\(mebibyte) HTTP/1.1\r\nHost: x\r\n\r\n"),
        .init(
            "conflicting Content-Length",
            "POST /text HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde"
        ),
        .init(
            "Content-Length with Transfer-Encoding",
            "POST /text HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        ),
        .init(
            "chunk size that is not hex",
            "POST /text HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n"
        ),
        .init(
            "chunk size past 64 bits",
            "POST /text HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n"
        ),
        .init("JSON nested 100000 deep", post("/json", Array(deepJSON.utf8))),
        .init("invalid UTF-8 in a JSON body", post("/json", [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D])),
        .init(
            "invalid UTF-8 bytes in the path",
            Array("GET /hello/".utf8) + [0xFF, 0xFE, 0xC0] + Array(" HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        ),
        .init("percent-encoded invalid UTF-8 in the path", "GET /hello/%FF%FE%C0 HTTP/1.1\r\nHost: x\r\n\r\n"),
    ]
}

/// Bytes no client should send, against the fixture server: each gets a 4xx or a closed connection, never a
/// crash, a hang or a 5xx, and the server answers its health check afterwards.
@Suite(.serialized)
struct HostileInputTests {
    /// What the server did with one request: a status, or a closed connection.
    private func outcome(port: Int, sending bytes: [UInt8]) throws -> Int? {
        let connection = try RawConnection(port: port)
        // The server may refuse and close before the last byte arrives; what it answered is still read below.
        try connection.send(bytes)
        do {
            return try connection.readResponse(timeout: .seconds(10))?.status
        } catch is RawConnection.ClosedEarly {
            return nil
        }
    }

    @Test(arguments: HostileRequest.all)
    func isRefusedWithout5xxAndTheServerKeepsServing(request: HostileRequest) async throws {
        let (server, port) = try await HTTPEdgeTests.start(["AGNOST_MAX_BODY": "\(1 << 21)"])
        let status = try outcome(port: port, sending: request.bytes)
        #expect(status == nil || (400..<500).contains(status!), "\(request.name) got \(status.map(String.init) ?? "-")")
        #expect(try RawHTTP.get(port: port, path: "/agnost/health").status == 200)
        #expect(server.process.isRunning)
        #expect(!server.standardError.contains("Fatal error"))
        try await server.stop()
    }

    @Test func invalidUTF8TextIsDecodedWithReplacementCharacters() async throws {
        let (server, port) = try await HTTPEdgeTests.start()
        let connection = try RawConnection(port: port)
        try connection.send(HostileRequest.post("/text", [0x61, 0xFF, 0xFE, 0x62]))
        let response = try #require(try connection.readResponse())
        #expect(response.status == 200)
        #expect(response.text == "a\u{FFFD}\u{FFFD}b")
        try await server.stop()
    }

    @Test func oneServerSurvivesEveryHostileRequestInTurn() async throws {
        let (server, port) = try await HTTPEdgeTests.start(["AGNOST_MAX_BODY": "\(1 << 21)"])
        for request in HostileRequest.all {
            let status = try outcome(port: port, sending: request.bytes)
            #expect(
                status == nil || (400..<500).contains(status!),
                "\(request.name) got \(status.map(String.init) ?? "-")"
            )
            #expect(try RawHTTP.get(port: port, path: "/agnost/health").status == 200, "after \(request.name)")
        }
        #expect(server.process.isRunning)
        #expect(try await server.stop() == 0)
    }
}
