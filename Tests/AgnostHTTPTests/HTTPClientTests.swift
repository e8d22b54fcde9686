import AgnostHTTP
import AgnostTestSupport
import Foundation
import Testing

@Suite struct HTTPClientTests {
    @Test func sendsCustomHeadersInOrderAndReusesTheConnection() throws {
        try withTestServer { server in
            let client = try HTTPClient()
            let request = HTTPClientRequest(
                url: server.url("/echo?q=1"),
                headers: [("X-Trace", "abc"), ("Accept", "application/json"), ("X-Empty", ""), ("X-Trace", "def")]
            )
            let first = try Echo(client.send(request))
            let second = try Echo(client.send(request))

            #expect(first.method == "GET")
            #expect(first.path == "/echo")
            #expect(first.query == "q=1")
            let custom = first.headers.filter { ["X-Trace", "X-Empty"].contains($0[0]) }
            #expect(custom == [["X-Trace", "abc"], ["X-Empty", ""], ["X-Trace", "def"]])
            #expect(first.headers("Accept") == ["application/json"])
            #expect(second.clientPort == first.clientPort)
            // A second client has a connection of its own, so equal ports above mean reuse, not coincidence.
            let other = try Echo(HTTPClient().send(request))
            #expect(other.clientPort != first.clientPort)
        }
    }

    @Test(arguments: ["POST", "PUT", "PATCH", "DELETE", "GET"])
    func sendsABodyWithAnyMethod(method: String) throws {
        try withTestServer { server in
            let body = Array("payload for \(method)".utf8)
            let request = HTTPClientRequest(
                method: method,
                url: server.url("/echo"),
                headers: [("Content-Type", "text/plain")],
                body: body
            )
            let echo = try Echo(HTTPClient().send(request))

            #expect(echo.method == method)
            #expect(echo.bodyBytes == body)
            #expect(echo.headers("Content-Length") == ["\(body.count)"])
            #expect(echo.headers("Content-Type") == ["text/plain"])
        }
    }

    @Test func binaryBodiesRoundTripWithZeroBytes() throws {
        try withTestServer { server in
            let client = try HTTPClient()
            let body: [UInt8] = [0, 0, 1] + Array(0...255) + [0]
            let echo = try Echo(client.send(HTTPClientRequest(method: "PUT", url: server.url("/echo"), body: body)))
            #expect(echo.bodyBytes == body)

            let response = try client.send(HTTPClientRequest(url: server.url("/big?bytes=600")))
            #expect(response.body == Array(0...255) + Array(0...255) + Array(0..<88))
        }
    }

    @Test func emptyAndMissingBodiesGetNoContentTypeOrExpect() throws {
        try withTestServer { server in
            let client = try HTTPClient()
            let withoutBody = try Echo(client.send(HTTPClientRequest(method: "POST", url: server.url("/echo"))))
            #expect(withoutBody.headers("Content-Length") == ["0"])
            #expect(withoutBody.headers("Content-Type").isEmpty)

            let emptyBody = try Echo(
                client.send(HTTPClientRequest(method: "DELETE", url: server.url("/echo"), body: []))
            )
            #expect(emptyBody.method == "DELETE")
            #expect(emptyBody.headers("Content-Length") == ["0"])

            // libcurl would ask for `100-continue` before a body this large.
            let large = [UInt8](repeating: 7, count: 2 << 20)
            let largeBody = try Echo(
                client.send(HTTPClientRequest(method: "POST", url: server.url("/echo"), body: large))
            )
            #expect(largeBody.bodyBytes == large)
            #expect(largeBody.headers("Expect").isEmpty)
            #expect(largeBody.headers("Content-Type").isEmpty)
        }
    }

    @Test func noOptionCarriesOverToTheNextRequest() throws {
        try withTestServer { server in
            let client = try HTTPClient()
            _ = try client.send(HTTPClientRequest(method: "PATCH", url: server.url("/echo"), body: [1, 2, 3]))
            let get = try Echo(client.send(HTTPClientRequest(url: server.url("/echo"))))
            #expect(get.method == "GET")
            #expect(get.bodyBytes.isEmpty)
            #expect(get.headers("Content-Length").isEmpty)

            _ = try client.send(HTTPClientRequest(method: "HEAD", url: server.url("/echo")))
            let afterHead = try client.send(HTTPClientRequest(url: server.url("/status/200")))
            #expect(afterHead.bodyText == "status 200")
        }
    }

    @Test func headRequestsReturnHeadersWithoutWaitingForABody() throws {
        try withTestServer { server in
            let response = try HTTPClient().send(
                HTTPClientRequest(method: "HEAD", url: server.url("/status/200"), timeout: .seconds(5))
            )
            #expect(response.status == 200)
            #expect(response.header("Content-Length") == "10")
            #expect(response.body.isEmpty)
        }
    }

    @Test(arguments: [
        (404, "Not Found", "status 404"), (500, "Internal Server Error", "status 500"), (204, "No Content", ""),
    ])
    func errorAndEmptyStatusesAreReturnedNotThrown(status: Int, reason: String, body: String) throws {
        try withTestServer { server in
            let response = try HTTPClient().send(HTTPClientRequest(url: server.url("/status/\(status)")))
            #expect(response.status == status)
            #expect(response.reason == reason)
            #expect(response.bodyText == body)
        }
    }

    @Test func redirectsAreReturnedNotFollowed() throws {
        try withTestServer { server in
            let response = try HTTPClient().send(HTTPClientRequest(url: server.url("/redirect")))
            #expect(response.status == 302)
            #expect(response.header("Location") == "/echo")
            #expect(response.bodyText == "redirecting")
        }
    }

    @Test func responseHeadersAreParsedInOrderAndLookedUpWithoutCase() throws {
        try withTestServer { server in
            let response = try HTTPClient().send(HTTPClientRequest(url: server.url("/echo")))
            #expect(response.status == 200)
            #expect(response.reason == "OK")
            #expect(response.httpVersion == "HTTP/1.1")
            #expect(response.header("content-type") == "application/json")
            #expect(response.header("X-MULTI") == "first")
            #expect(response.headers.filter { $0.name.lowercased() == "x-multi" }.map(\.value) == ["first", "second"])
            #expect(response.header("X-Missing") == nil)
        }
    }

    @Test func onlyTheFinalResponsesHeadersAreKept() throws {
        try withTestServer { server in
            let client = try HTTPClient()
            let hinted = try client.send(HTTPClientRequest(url: server.url("/early-hints")))
            #expect(hinted.status == 200)
            #expect(hinted.reason == "OK")
            #expect(hinted.header("X-Final") == "yes")
            #expect(hinted.header("X-Interim") == nil)
            #expect(hinted.header("Link") == nil)
            #expect(hinted.bodyText == "final")

            // A caller may still ask for `100 Continue`; the interim response then leaves no trace either.
            let continued = try client.send(
                HTTPClientRequest(
                    method: "POST",
                    url: server.url("/echo"),
                    headers: [("Expect", "100-continue")],
                    body: [1, 2, 3]
                )
            )
            #expect(continued.status == 200)
            #expect(continued.reason == "OK")
            #expect(continued.header("Content-Type") == "application/json")
            #expect(try Echo(continued).headers("Expect") == ["100-continue"])
        }
    }

    @Test func aSlowServerTimesOutAndTheClientStaysUsable() throws {
        try withTestServer { server in
            let client = try HTTPClient()
            let clock = ContinuousClock()
            let start = clock.now
            let error = #expect(throws: HTTPClientError.self) {
                try client.send(HTTPClientRequest(url: server.url("/slow?ms=3000"), timeout: .milliseconds(300)))
            }
            #expect(clock.now - start < .seconds(2))
            #expect(error?.code == .timedOut)
            #expect(error?.message.contains("within its timeout of 300ms") == true)

            let response = try client.send(HTTPClientRequest(url: server.url("/slow?ms=1")))
            #expect(response.bodyText == "slow")
        }
    }

    @Test func aRefusedConnectionSaysSo() throws {
        let closed = try ClosedPort()
        let port = closed.port
        let error = #expect(throws: HTTPClientError.self) {
            try HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/x"))
        }
        #expect(error?.code == .couldNotConnect)
        #expect(error?.url == "http://127.0.0.1:\(port)/x")
        #expect(
            error?.message
                == "could not connect to http://127.0.0.1:\(port)/x: connection refused; is the server running, "
                + "and on this port?"
        )
    }

    @Test(arguments: [
        "", "not a url", "127.0.0.1:8080/x", "ftp://example.com/file", "http://", "http://exa mple.com/",
        "http://127.0.0.1:99999/", "http://[::1/", "http://127.0.0.1/x\r\nX-Injected: 1",
    ])
    func invalidURLsAreRejected(url: String) throws {
        let error = #expect(throws: HTTPClientError.self) {
            try HTTPClient().send(HTTPClientRequest(url: url, timeout: .seconds(5)))
        }
        #expect(error?.code == .invalidURL)
        #expect(error?.message.hasPrefix("invalid URL") == true)
    }

    @Test(arguments: [
        ("http://user:secret@127.0.0.1:1/x?apikey=k", "http://127.0.0.1:1/x"),
        ("http://user:secret@127.0.0.1:1/x#apikey=k", "http://127.0.0.1:1/x"),
        ("http://user:se?cret@127.0.0.1:1/x?apikey=k", "http://127.0.0.1:1/x"),
        ("http://user:secret@127.0.0.1:1?apikey=k", "http://127.0.0.1:1"),
        ("ftp://user:secret@127.0.0.1/x?apikey=k", "ftp://127.0.0.1/x"),
        ("http://user:secret@nonexistent.invalid/x?apikey=k", "http://nonexistent.invalid/x"),
    ])
    func errorsNeverRevealCredentialsOrTheQuery(url: String, shown: String) throws {
        let error = #expect(throws: HTTPClientError.self) {
            try HTTPClient().send(HTTPClientRequest(url: url, timeout: .seconds(20)))
        }
        #expect(error?.url == shown)
        #expect(error?.message.contains(shown) == true)
        for secret in ["secret", "cret", "user", "apikey=k"] {
            #expect(error?.description.contains(secret) == false)
        }
    }

    @Test(arguments: [false, true])
    func responsesOverTheLimitAreTooLarge(chunked: Bool) throws {
        try withTestServer { server in
            let client = try HTTPClient(maximumResponseSize: 1000)
            let suffix = chunked ? "&chunked=1" : ""
            let error = #expect(throws: HTTPClientError.self) {
                try client.send(HTTPClientRequest(url: server.url("/big?bytes=1001\(suffix)")))
            }
            #expect(error?.code == .tooLarge)
            #expect(error?.message.contains("limit of 1000 bytes") == true)

            let atLimit = try client.send(HTTPClientRequest(url: server.url("/big?bytes=1000\(suffix)")))
            #expect(atLimit.body.count == 1000)
        }
    }

    @Test func anUnknownHostCannotBeResolved() throws {
        let error = #expect(throws: HTTPClientError.self) {
            try HTTPClient().send(HTTPClientRequest(url: "http://nonexistent.invalid/x", timeout: .seconds(20)))
        }
        #expect(error?.code == .couldNotResolveHost)
        #expect(error?.message.contains("http://nonexistent.invalid/x") == true)
    }

    @Test func tlsToAPlainHTTPServerFails() throws {
        try withTestServer { server in
            let error = #expect(throws: HTTPClientError.self) {
                try HTTPClient().send(HTTPClientRequest(url: "https://127.0.0.1:\(server.port)/echo"))
            }
            #expect(error?.code == .tls)
            #expect(error?.message.hasPrefix("TLS with https://127.0.0.1:\(server.port)/echo failed: ") == true)
        }
    }

    @Test func aConnectionClosedWithoutAResponseFailsToReceive() throws {
        try withTestServer { server in
            let error = #expect(throws: HTTPClientError.self) {
                try HTTPClient().send(HTTPClientRequest(url: server.url("/close")))
            }
            #expect(error?.code == .receiveFailed)
            #expect(error?.message.contains("closed the connection without a response") == true)
        }
    }

    @Test func aResponseCutInItsHeadersFailsToReceive() throws {
        try withTestServer { server in
            let client = try HTTPClient()
            let error = #expect(throws: HTTPClientError.self) {
                try client.send(HTTPClientRequest(method: "PATCH", url: server.url("/truncated"), body: [1, 2, 3]))
            }
            #expect(error?.code == .receiveFailed)
            #expect(error?.message.contains("closed in the middle of the response headers") == true)
            #expect(try client.send(HTTPClientRequest(url: server.url("/early-hints"))).status == 200)
        }
    }

    @Test func aServerThatDoesNotSpeakHTTPFailsToReceive() throws {
        try withTestServer { server in
            let error = #expect(throws: HTTPClientError.self) {
                try HTTPClient().send(HTTPClientRequest(url: server.url("/not-http")))
            }
            #expect(error?.code == .receiveFailed)
            #expect(error?.message.contains("did not answer with an HTTP response") == true)
        }
    }

    @Test(arguments: [
        HTTPClientRequest(method: "GET /x", url: "http://127.0.0.1:1/"),
        HTTPClientRequest(method: "", url: "http://127.0.0.1:1/"),
        HTTPClientRequest(url: "http://127.0.0.1:1/", headers: [("Bad Name", "x")]),
        HTTPClientRequest(url: "http://127.0.0.1:1/", headers: [("X-Token", "secret\r\nX-Injected: 1")]),
        HTTPClientRequest(url: "http://127.0.0.1:1/", headers: [("X-Token", "secret\0rest")]),
    ])
    func malformedMethodsAndHeadersAreRejectedBeforeSending(request: HTTPClientRequest) throws {
        let error = #expect(throws: HTTPClientError.self) { try HTTPClient().send(request) }
        // Port 1 refuses connections, so any other code means the request went out.
        #expect(error?.code == .other)
        #expect(error?.message.contains("secret") == false)
    }

    @Test(arguments: ["PUT", "PATCH", "POST"])
    func aFileRangeIsSentAsTheBodyWithProgress(method: String) throws {
        let file = try temporaryFile(Array(repeating: 0xAB, count: 1000) + Array((0..<200_000).map { UInt8($0 % 251) }))
        defer { unlink(file) }
        try withTestServer { server in
            let sent = Counter()
            let request = HTTPClientRequest(
                method: method,
                url: server.url("/echo"),
                headers: [("Content-Type", "application/octet-stream")],
                body: .file(path: file, range: 1000..<201_000)
            )
            let echo = try Echo(HTTPClient().send(request, uploadProgress: { sent.values.append($0) }))

            #expect(echo.method == method)
            #expect(echo.bodyBytes == (0..<200_000).map { UInt8($0 % 251) })
            #expect(echo.headers("Content-Length") == ["200000"])
            #expect(echo.headers("Expect").isEmpty)
            #expect(sent.values.last == 200_000)
            #expect(sent.values == sent.values.sorted())
            #expect(sent.values.count > 1)
        }
    }

    @Test func aFileBodyThatCannotBeReadFailsNamingTheFile() throws {
        let file = try temporaryFile(Array(repeating: 1, count: 10))
        defer { unlink(file) }
        try withTestServer { server in
            let client = try HTTPClient()
            let short = #expect(throws: HTTPClientError.self) {
                try client.send(
                    HTTPClientRequest(method: "PUT", url: server.url("/echo"), body: .file(path: file, range: 0..<100))
                )
            }
            #expect(short?.message.contains("cannot read the request body from \(file)") == true)
            #expect(short?.message.contains("ended before byte 100") == true)

            let missing = #expect(throws: HTTPClientError.self) {
                try client.send(
                    HTTPClientRequest(
                        method: "PUT",
                        url: server.url("/echo"),
                        body: .file(path: file + ".gone", range: 0..<1)
                    )
                )
            }
            #expect(missing?.message.contains("cannot open \(file).gone") == true)
            // The handle is still usable after both failures.
            #expect(try client.send(HTTPClientRequest(url: server.url("/status/204"))).status == 204)
        }
    }

    @Test func aSuccessfulBodyStreamsToTheReceiverAndAFailedOneStaysInTheResponse() throws {
        try withTestServer { server in
            let client = try HTTPClient(maximumResponseSize: 1000)
            let received = Counter()
            let streamed = try client.send(
                HTTPClientRequest(url: server.url("/big?bytes=300000&chunked=1")),
                successfulBody: { bytes in
                    received.bytes.append(contentsOf: bytes)
                    return true
                }
            )
            #expect(streamed.status == 200)
            #expect(streamed.body.isEmpty)
            #expect(received.bytes.count == 300_000)
            #expect(Array(received.bytes.prefix(300)) == Array(0...255) + Array(0..<44))

            let failed = try client.send(
                HTTPClientRequest(url: server.url("/status/404")),
                successfulBody: { _ in
                    Issue.record("a 404's body reached the receiver")
                    return true
                }
            )
            #expect(failed.bodyText == "status 404")

            let stopped = #expect(throws: HTTPClientError.self) {
                try client.send(HTTPClientRequest(url: server.url("/big?bytes=300000")), successfulBody: { _ in false })
            }
            #expect(stopped?.message.contains("stopped by its receiver") == true)
        }
    }

    @Test func withHTTPClientReturnsTheResultAndRethrows() throws {
        try withTestServer { server in
            let status = try withHTTPClient { client in
                try client.send(HTTPClientRequest(url: server.url("/status/201"))).status
            }
            #expect(status == 201)
            #expect(throws: HTTPClientError.self) {
                try withHTTPClient { client in try client.send(HTTPClientRequest(url: "not a url")) }
            }
        }
    }
}

/// Collects what a client's callbacks report; they run on the calling thread, during `send`.
private final class Counter {
    var values: [Int64] = []
    var bytes: [UInt8] = []
}

private func temporaryFile(_ bytes: [UInt8]) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-http-\(UUID().uuidString)").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}
