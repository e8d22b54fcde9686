import AgnostTestSupport
import Foundation
import Glibc
import Synchronization

/// A small HTTP/1.1 server on `127.0.0.1` for the client tests. It records each request and answers it as the
/// test's handler says: a whole response, or a chunked stream that ends, breaks off or stays open, as a watch does.
/// Connections are kept alive, as libcurl expects. Each connection has a thread of its own; ``stop()`` ends them all.
final class ScriptedServer: Sendable {
    struct Request: Sendable {
        var method: String
        /// The path without the query.
        var path: String
        /// The query's values, percent-decoded.
        var query: [String: String]
        /// Names in lower case.
        var headers: [String: String]
        var body: [UInt8]
    }

    enum Reply: Sendable {
        /// A response with a `Content-Length`.
        case response(status: Int, headers: [String: String], body: [UInt8])
        /// A `200` chunked stream of these pieces, then `end`.
        case stream([[UInt8]], end: StreamEnd)
    }

    enum StreamEnd: Sendable {
        /// The last chunk: a clean end.
        case finish
        /// The connection closes without the last chunk: a dropped stream.
        case drop
        /// Nothing more is sent until the client goes away.
        case hold
    }

    typealias Handler = @Sendable (Request, _ index: Int) -> Reply

    private let descriptor: Int32
    private let port: Int
    private let handler: Handler
    private let state = Mutex(State())

    private struct State {
        var requests: [Request] = []
        var stopped = false
        /// How many connections the client has closed while the server held them open.
        var clientClosedHeldStreams = 0
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { state.withLock { $0.requests } }
    var clientClosedHeldStreams: Int { state.withLock { $0.clientClosedHeldStreams } }

    init(_ handler: @escaping Handler) throws {
        let listener = try LoopbackListener()
        descriptor = listener.descriptor
        port = listener.port
        self.handler = handler
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    func stop() {
        state.withLock { $0.stopped = true }
    }

    deinit { close(descriptor) }

    private var stopped: Bool { state.withLock { $0.stopped } }

    /// Waits up to `timeout` for `condition`, polling.
    func wait(for timeout: Duration = .seconds(10), until condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    /// Whether `descriptor` became readable within 100 ms.
    private static func readable(_ descriptor: Int32) -> Bool {
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&request, 1, 100) > 0
    }

    private func acceptLoop() {
        while !stopped {
            guard Self.readable(descriptor) else { continue }
            let connection = accept(descriptor, nil, nil)
            guard connection >= 0 else { continue }
            let thread = Thread { [self] in
                serve(connection)
                close(connection)
            }
            thread.start()
        }
    }

    private func serve(_ connection: Int32) {
        var buffer: [UInt8] = []
        while !stopped {
            guard let request = readRequest(connection, &buffer) else { return }
            let index = state.withLock { state in
                state.requests.append(request)
                return state.requests.count - 1
            }
            switch handler(request, index) {
            case .response(let status, let headers, let body):
                var head = "HTTP/1.1 \(status) \(status < 300 ? "OK" : "Failed")\r\nContent-Length: \(body.count)\r\n"
                for (name, value) in headers { head += "\(name): \(value)\r\n" }
                guard send(connection, Array((head + "\r\n").utf8) + body) else { return }
            case .stream(let pieces, let end):
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                guard send(connection, Array(head.utf8)) else { return }
                for piece in pieces {
                    guard send(connection, Array(String(piece.count, radix: 16).utf8) + [13, 10] + piece + [13, 10])
                    else { return }
                    // Apart, so that the client reads them as separate pieces.
                    usleep(20_000)
                }
                switch end {
                case .finish:
                    guard send(connection, Array("0\r\n\r\n".utf8)) else { return }
                case .drop:
                    return
                case .hold:
                    var scratch = [UInt8](repeating: 0, count: 512)
                    while !stopped {
                        guard Self.readable(connection) else { continue }
                        let count = scratch.withUnsafeMutableBytes {
                            LoopbackSocket.receive(from: connection, into: $0)
                        }
                        if count <= 0 {
                            state.withLock { $0.clientClosedHeldStreams += 1 }
                            return
                        }
                    }
                    return
                }
            }
        }
    }

    private func send(_ connection: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { LoopbackSocket.sendAll($0, to: connection) }
    }

    /// Reads one request, or nil when the client closed the connection or the server stops.
    private func readRequest(_ connection: Int32, _ buffer: inout [UInt8]) -> Request? {
        var scratch = [UInt8](repeating: 0, count: 16 << 10)
        func fill() -> Bool {
            while !stopped {
                guard Self.readable(connection) else { continue }
                let count = scratch.withUnsafeMutableBytes { LoopbackSocket.receive(from: connection, into: $0) }
                guard count > 0 else { return false }
                buffer += scratch[..<count]
                return true
            }
            return false
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int? = nil
        while headEnd == nil {
            if buffer.count >= 4 {
                headEnd = (0...(buffer.count - 4)).first { Array(buffer[$0..<$0 + 4]) == separator }
            }
            if headEnd == nil, !fill() { return nil }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces
            )
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = headEnd! + 4
        while buffer.count < bodyStart + length {
            guard fill() else { return nil }
        }
        let body = Array(buffer[bodyStart..<bodyStart + length])
        buffer.removeFirst(bodyStart + length)
        let target = requestLine.count > 1 ? String(requestLine[1]) : "/"
        let components = URLComponents(string: target)
        var query: [String: String] = [:]
        for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }
        return Request(
            method: String(requestLine[0]),
            path: components?.path ?? target,
            query: query,
            headers: headers,
            body: body
        )
    }
}

extension ScriptedServer.Reply {
    /// A JSON response.
    static func json(_ status: Int, _ text: String, headers: [String: String] = [:]) -> Self {
        .response(
            status: status,
            headers: headers.merging(["Content-Type": "application/json"]) { first, _ in first },
            body: Array(text.utf8)
        )
    }

    /// A Kubernetes `Status` response.
    static func status(_ code: Int, reason: String, message: String, details: String = "{}") -> Self {
        .json(
            code,
            #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"\#(message)","reason":"\#(reason)","#
                + #""details":\#(details),"code":\#(code)}"#
        )
    }
}
