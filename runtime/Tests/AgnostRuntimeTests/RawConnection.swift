import Foundation

/// An HTTP/1.1 response as read off a raw socket.
struct RawResponse {
    let status: Int
    let headers: [(name: String, value: String)]
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A TCP connection to 127.0.0.1 that sends exactly the bytes it is given, including the ones an HTTP client
/// would refuse to send, and reads with a deadline on every wait.
final class RawConnection {
    struct ConnectionRefused: Error {}
    struct ClosedEarly: Error {}
    struct ReadTimedOut: Error, CustomStringConvertible {
        let after: Duration
        var description: String { "no answer within \(after)" }
    }
    struct MalformedResponse: Error, CustomStringConvertible {
        let head: String
        var description: String { "not an HTTP response: \(head.prefix(200))" }
    }

    private let socket: Int32
    /// Bytes read past the end of the previous response.
    private var pending: [UInt8] = []

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ConnectionRefused() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socket)
            throw ConnectionRefused()
        }
    }

    deinit {
        close(socket)
    }

    /// Sends every byte; a server that closes meanwhile makes this return `false` instead of raising SIGPIPE.
    @discardableResult
    func send(_ bytes: [UInt8]) throws -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE || errno == ECONNRESET { return false }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            offset += sent
        }
        return true
    }

    @discardableResult
    func send(_ text: String) throws -> Bool {
        try send(Array(text.utf8))
    }

    /// One response, or `nil` if the server closed the connection before sending a byte of one.
    ///
    /// - Parameter bodyless: the request was `HEAD`, so the response has a `Content-Length` but no body.
    func readResponse(timeout: Duration = .seconds(10), bodyless: Bool = false) throws -> RawResponse? {
        let deadline = ContinuousClock.now + timeout
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while headEnd == nil {
            if let range = pending.firstRange(of: separator) {
                headEnd = range.upperBound
                break
            }
            guard try fill(until: deadline, timeout: timeout) else {
                if pending.isEmpty { return nil }
                throw ClosedEarly()
            }
        }
        let head = String(decoding: pending[..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let statusLine = lines.isEmpty ? "" : lines.removeFirst()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw MalformedResponse(head: head)
        }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let response = RawResponse(status: status, headers: headers, body: [])
        let length = bodyless || status == 204 || status == 304 ? 0 : Int(response.header("content-length") ?? "0") ?? 0
        while pending.count < headEnd! + length {
            guard try fill(until: deadline, timeout: timeout) else { throw ClosedEarly() }
        }
        let body = Array(pending[headEnd!..<(headEnd! + length)])
        pending.removeFirst(headEnd! + length)
        return RawResponse(status: status, headers: headers, body: body)
    }

    /// Whether the server closes the connection within `timeout`; bytes it sends first are kept for reading.
    func closes(within timeout: Duration) throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        do {
            while try fill(until: deadline, timeout: timeout) {}
            return true
        } catch is ReadTimedOut {
            return false
        }
    }

    /// Reads what is available; `false` once the peer has closed (or reset) the connection.
    private func fill(until deadline: ContinuousClock.Instant, timeout: Duration) throws -> Bool {
        let left = deadline - ContinuousClock.now
        guard left > .zero else { throw ReadTimedOut(after: timeout) }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(
            &descriptor,
            1,
            Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
        )
        if ready == 0 { throw ReadTimedOut(after: timeout) }
        if ready < 0 {
            if errno == EINTR { return true }
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if count < 0 && errno == ECONNRESET { return false }
        if count < 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        if count == 0 { return false }
        pending.append(contentsOf: buffer[0..<count])
        return true
    }
}
