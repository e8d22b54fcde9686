import AgnostDigest
import Foundation
import Testing

/// The fixture server over real sockets: limits, errors, API keys, HEAD and OPTIONS, and connection time limits.
@Suite(.serialized)
struct HTTPEdgeTests {
    static let apiKey = "fixture-key-1"

    /// Starts the fixture with an API key configured and a 300 000-byte body limit.
    static func start(_ extra: [String: String] = [:]) async throws -> (server: ServerProcess, port: Int) {
        let environment = [
            "PORT": "0", "AGNOST_HOST": "127.0.0.1", "AGNOST_BUNDLE": try writeFixtureBundle(),
            "AGNOST_API_KEYS": SHA256.hash(apiKey.utf8).hexString, "AGNOST_MAX_BODY": "300000",
        ]
        let server = try ServerProcess(environment: environment.merging(extra) { _, new in new })
        return (server, try await server.waitForPort())
    }

    private func request(_ connection: RawConnection, _ head: String, body: String = "") throws -> RawResponse {
        try connection.send(
            "\(head)\r\nHost: 127.0.0.1\r\n\(body.isEmpty ? "" : "Content-Length: \(body.utf8.count)\r\n")\r\n\(body)"
        )
        return try #require(try connection.readResponse(bodyless: head.hasPrefix("HEAD ")))
    }

    @Test func bodyOverTheLimitIs413() async throws {
        let (server, port) = try await Self.start()
        let declared = try RawConnection(port: port)
        try declared.send("POST /text HTTP/1.1\r\nHost: x\r\nContent-Length: 300001\r\n\r\n")
        try declared.send(String(repeating: "a", count: 300_001))
        #expect(try declared.readResponse()?.status == 413)
        // Chunked: no length up front, so the limit is found while reading.
        let chunked = try RawConnection(port: port)
        let chunk = String(repeating: "b", count: 100_000)
        var body = ""
        for _ in 0..<4 { body += "\(String(100_000, radix: 16))\r\n\(chunk)\r\n" }
        try chunked.send("POST /text HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\(body)0\r\n\r\n")
        #expect(try chunked.readResponse()?.status == 413)
        let fits = try RawConnection(port: port)
        #expect(try request(fits, "POST /text HTTP/1.1", body: String(repeating: "c", count: 300_000)).status == 200)
        try await server.stop()
    }

    @Test func timeoutIs504WhileAParallelRequestOnAnotherConnectionGets200() async throws {
        let (server, port) = try await Self.start()
        let late = try RawConnection(port: port)
        let started = ContinuousClock.now
        try late.send("GET /late?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try await server.waitForLine(containing: "slow request started")
        let parallel = try RawConnection(port: port)
        let fast = try request(parallel, "GET /hello/parallel HTTP/1.1")
        #expect(fast.status == 200)
        #expect(fast.text == "hello, parallel")
        // Far sooner than the slow handler's 3 s, which it would wait for if requests were served one at a time;
        // a tighter bound would measure the machine's load, not the server.
        #expect(ContinuousClock.now - started < .milliseconds(1500))
        let timedOut = try #require(try late.readResponse())
        #expect(timedOut.status == 504)
        #expect(timedOut.text.contains("late did not answer within 300ms"))
        #expect(ContinuousClock.now - started < .seconds(2))
        // The connection that timed out serves its next request.
        #expect(try request(late, "GET /hello/again HTTP/1.1").status == 200)
        try await server.stop()
    }

    @Test func aThrowingHandlerGets500AndTheNextRequestIsServed() async throws {
        let (server, port) = try await Self.start()
        let connection = try RawConnection(port: port)
        let failed = try request(connection, "GET /fail HTTP/1.1")
        #expect(failed.status == 500)
        #expect(failed.text.contains("\"error\":\"internal server error\""))
        #expect(!failed.text.contains("StoreUnavailable"))
        #expect(try request(connection, "GET /hello/next HTTP/1.1").text == "hello, next")
        #expect(server.lines.contains { $0.contains("handler threw an error") && $0.contains("StoreUnavailable") })
        try await server.stop()
    }

    @Test(arguments: [
        ("", 401), ("Authorization: Bearer wrong-key\r\n", 401), ("x-api-key: fixture-key-2\r\n", 401),
        ("Authorization: Bearer \(apiKey)\r\n", 200), ("x-api-key: \(apiKey)\r\n", 200),
    ])
    func apiKeys(header: String, expected: Int) async throws {
        let (server, port) = try await Self.start()
        let connection = try RawConnection(port: port)
        try connection.send("GET /keyed HTTP/1.1\r\nHost: x\r\n\(header)\r\n")
        let response = try #require(try connection.readResponse())
        #expect(response.status == expected)
        if expected == 401 {
            #expect(response.header("www-authenticate") == "Bearer")
            #expect(!response.text.contains(Self.apiKey))
        } else {
            #expect(response.text == "key accepted")
        }
        #expect(!server.lines.joined().contains(Self.apiKey))
        try await server.stop()
    }

    @Test func headAnswersAsGetWithoutABodyAndOptionsListsMethods() async throws {
        let (server, port) = try await Self.start()
        let connection = try RawConnection(port: port)
        let get = try request(connection, "GET /hello/ada HTTP/1.1")
        let head = try request(connection, "HEAD /hello/ada HTTP/1.1")
        #expect(head.status == 200)
        #expect(head.header("content-length") == "10")
        #expect(head.header("content-length") == get.header("content-length"))
        #expect(head.header("content-type") == get.header("content-type"))
        // Had the HEAD response carried a body, its bytes would be read here as the next response's start.
        let after = try request(connection, "GET /hello/bob HTTP/1.1")
        #expect(after.status == 200)
        #expect(after.text == "hello, bob")

        let options = try request(connection, "OPTIONS /hello/ada HTTP/1.1")
        #expect(options.status == 204)
        #expect(options.header("allow") == "GET, HEAD, OPTIONS")
        let keyed = try request(connection, "OPTIONS /keyed HTTP/1.1")
        #expect(keyed.status == 204)
        let refused = try request(connection, "DELETE /hello/ada HTTP/1.1")
        #expect(refused.status == 405)
        #expect(refused.header("allow") == "GET, HEAD, OPTIONS")
        let postOnly = try request(connection, "HEAD /json HTTP/1.1")
        #expect(postOnly.status == 405)
        #expect(postOnly.header("allow") == "OPTIONS, POST")

        for path in ["/agnost/health", "/agnost/ready"] {
            let probe = try request(connection, "HEAD \(path) HTTP/1.1")
            #expect(probe.status == 200)
            #expect(Int(probe.header("content-length") ?? "") ?? 0 > 0)
        }
        #expect(try request(connection, "GET /agnost/health HTTP/1.1").text == #"{"status":"ok"}"#)
        try await server.stop()
    }

    @Test func connectionsThatNeverFinishTheirHeaderAreClosedAtTheLimit() async throws {
        let (server, port) = try await Self.start(["AGNOST_HEADER_TIMEOUT": "1s"])
        let count = 300
        var stalled: [RawConnection] = []
        for _ in 0..<count {
            let connection = try RawConnection(port: port)
            try connection.send("GET /hello/slowloris HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
            stalled.append(connection)
        }
        let sent = ContinuousClock.now
        // While they stall, the server still serves others.
        #expect(try RawHTTP.get(port: port, path: "/hello/healthy").status == 200)
        #expect(try stalled[count - 1].closes(within: .milliseconds(500)) == false)
        var closed = 0
        for connection in stalled where try connection.closes(within: sent + .seconds(3) - ContinuousClock.now) {
            closed += 1
        }
        #expect(closed == count)
        #expect(ContinuousClock.now - sent < .seconds(3))
        #expect(try RawHTTP.get(port: port, path: "/agnost/health").status == 200)
        try await server.stop()
    }

    @Test func anIdleKeepAliveConnectionIsClosedAfterTheIdleLimit() async throws {
        let (server, port) = try await Self.start(["AGNOST_IDLE_TIMEOUT": "1s"])
        let connection = try RawConnection(port: port)
        #expect(try request(connection, "GET /hello/idle HTTP/1.1").status == 200)
        let served = ContinuousClock.now
        #expect(try connection.closes(within: .milliseconds(700)) == false)
        #expect(try connection.closes(within: .seconds(3)))
        let idle = ContinuousClock.now - served
        #expect(idle >= .milliseconds(900))
        #expect(idle < .seconds(3))
        try await server.stop()
    }

    @Test func aConnectionUsedMoreOftenThanTheIdleLimitKeepsBeingServed() async throws {
        // The 1.2 s pause outlasts the header limit: between requests only the idle limit counts.
        let (server, port) = try await Self.start(["AGNOST_HEADER_TIMEOUT": "500ms", "AGNOST_IDLE_TIMEOUT": "2s"])
        let connection = try RawConnection(port: port)
        for index in 0..<4 {
            let response = try request(connection, "GET /hello/\(index) HTTP/1.1")
            #expect(response.status == 200)
            #expect(response.text == "hello, \(index)")
            try await Task.sleep(for: .milliseconds(1200))
        }
        try await server.stop()
    }

    @Test func aSlowBodyAfterACompleteHeaderIsNotCutByTheHeaderLimit() async throws {
        let (server, port) = try await Self.start(["AGNOST_HEADER_TIMEOUT": "500ms"])
        let connection = try RawConnection(port: port)
        try connection.send("POST /text HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n")
        for letter in "trickl" {
            try await Task.sleep(for: .milliseconds(250))
            #expect(try connection.send(String(letter)))
        }
        let response = try #require(try connection.readResponse())
        #expect(response.status == 200)
        #expect(response.text == "trickl")
        try await server.stop()
    }

    @Test func aBodyStillArrivingAtTheEndpointTimeoutGets504() async throws {
        let (server, port) = try await Self.start(["AGNOST_HEADER_TIMEOUT": "10s"])
        let connection = try RawConnection(port: port)
        let started = ContinuousClock.now
        try connection.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
        let response = try #require(try connection.readResponse(timeout: .seconds(5)))
        #expect(response.status == 504)
        #expect(response.text.contains("upload did not answer within 500ms"))
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(try connection.closes(within: .seconds(2)))
        // A body still streaming in when the deadline cancels its read: bytes keep coming during the cancellation.
        let streaming = try RawConnection(port: port)
        try streaming.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        var open = true
        for _ in 0..<80 where open {
            open = try streaming.send("x")
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try streaming.readResponse(timeout: .seconds(5))?.status == 504)
        #expect(try RawHTTP.get(port: port, path: "/agnost/health").status == 200)
        #expect(server.process.isRunning)
        try await server.stop()
    }
}
