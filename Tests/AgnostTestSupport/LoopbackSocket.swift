import Foundation
import Glibc

/// The loopback TCP plumbing the test fixtures share: listening on a free port, connecting, and reads and writes that
/// survive signals and partial sends.
public enum LoopbackSocket {
    /// `127.0.0.1:port`.
    public static func address(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        return address
    }

    /// Returns a connected socket, or `nil` when nothing listens there, with `errno` saying why.
    public static func connect(port: Int) -> Int32? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var address = address(port: port)
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                Glibc.connect(descriptor, address, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 || (errno == EINTR && finishInterruptedConnect(descriptor)) else {
            let reason = errno
            close(descriptor)
            errno = reason
            return nil
        }
        return descriptor
    }

    /// After a signal interrupts `connect`, the handshake carries on in the kernel and calling `connect` again
    /// fails, so this waits for the handshake to end and reads its outcome instead.
    private static func finishInterruptedConnect(_ descriptor: Int32) -> Bool {
        var request = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        while poll(&request, 1, -1) < 0 {
            guard errno == EINTR else { return false }
        }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0
    }

    /// Returns the number of bytes read, 0 at the end of the stream, or -1 on an error other than an interruption.
    public static func receive(from descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            guard count < 0 && errno == EINTR else { return count }
        }
    }

    /// `send` may take only part of the bytes; `MSG_NOSIGNAL` turns a vanished peer into an error rather than a
    /// SIGPIPE that would end the whole test process.
    public static func sendAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent < 0 {
                guard errno == EINTR else { return false }
                continue
            }
            offset += sent
        }
        return true
    }
}

/// A port of `127.0.0.1` that refuses connections for as long as this value lives: bound, so that nothing else
/// can take it while a test counts on it, and never listening.
///
/// ```swift
/// let closed = try ClosedPort()
/// // connecting to 127.0.0.1:\(closed.port) is refused
/// ```
public final class ClosedPort {
    private let socket: LoopbackListener
    public var port: Int { socket.port }

    public init() throws(LoopbackSocketError) {
        socket = try LoopbackListener(listening: false)
    }

    deinit { close(socket.descriptor) }
}

/// A TCP socket listening on `127.0.0.1` at a port the system picked; its owner closes `descriptor`.
public struct LoopbackListener {
    public let descriptor: Int32
    public let port: Int

    /// - Parameter listening: false for a socket that holds its port but takes no connections.
    public init(listening: Bool = true) throws(LoopbackSocketError) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw LoopbackSocketError(call: "socket") }
        var address = LoopbackSocket.address(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let failedCall = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address -> String? in
                guard bind(descriptor, address, length) == 0 else { return "bind(127.0.0.1:0)" }
                guard getsockname(descriptor, address, &length) == 0 else { return "getsockname" }
                return !listening || listen(descriptor, SOMAXCONN) == 0 ? nil : "listen"
            }
        }
        if let failedCall {
            let error = LoopbackSocketError(call: failedCall)
            close(descriptor)
            throw error
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A socket call that failed.
public struct LoopbackSocketError: Error, CustomStringConvertible {
    /// The failing call and the system's reason, e.g. `bind(127.0.0.1:0): Address already in use (errno 98)`.
    public let description: String

    /// Reads `errno` at once, before anything else can overwrite it.
    init(call: String) {
        let code = errno
        description = "\(call): \(String(cString: strerror(code))) (errno \(code))"
    }
}
