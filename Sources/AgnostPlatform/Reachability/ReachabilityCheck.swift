import AgnostSpec
import Foundation
import NIOCore
import NIOPosix

/// Where a resource listens, as its settings or its connection URI say, with the usual port of its type when
/// neither names one.
public struct ResourceEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The port a resource of `type` listens on unless told otherwise.
    public static func defaultPort(of type: ResourceType) -> Int {
        switch type {
        case .mongodb: 27_017
        case .postgres: 5432
        case .redis: 6379
        case .rabbitmq: 5672
        case .s3: 443
        }
    }

    /// The first host of `uri` (`scheme://user:password@host:port,host2/…`) and its port; nil when it names none.
    /// The URI's user and password are skipped, never kept.
    public init?(uri: String, type: ResourceType) {
        let bytes = uri.utf8
        guard let schemeEnd = uri.range(of: "://")?.upperBound else { return nil }
        let authorityEnd =
            bytes[schemeEnd...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }
            ?? uri.endIndex
        var authority = uri[schemeEnd..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let first = authority.split(separator: ",", maxSplits: 1).first ?? ""
        var host = Substring(first)
        var port = Self.defaultPort(of: type)
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if rest.hasPrefix(":") {
                guard let number = Int(rest.dropFirst()) else { return nil }
                port = number
            }
        } else if let colon = host.lastIndex(of: ":") {
            guard let number = Int(host[host.index(after: colon)...]) else { return nil }
            port = number
            host = host[..<colon]
        }
        guard !host.isEmpty, (1...65_535).contains(port) else { return nil }
        self.init(host: String(host), port: port)
    }
}

/// Whether a resource answers within a timeout, without credentials: a TCP connection to its endpoint, as Agnost's
/// engine monitor checks, and for MongoDB the server's answer to `ping` through libmongoc.
///
/// ```swift
/// let result = await ReachabilityCheck(timeout: .seconds(2)).check(ResourceEndpoint(host: "127.0.0.1", port: 6379))
/// result.reachable   // true
/// result.detail      // "TCP 127.0.0.1:6379 connected in 1 ms"
/// let mongo = await ReachabilityCheck().check(ResourceEndpoint(host: "127.0.0.1", port: 27017), of: .mongodb)
/// mongo.detail       // "MongoDB ping to 127.0.0.1:27017 answered in 2 ms"
/// ```
public struct ReachabilityCheck: Sendable {
    public var timeout: Duration

    public init(timeout: Duration = .seconds(3)) {
        self.timeout = timeout
    }

    /// Checks a resource of `type` at `endpoint`: MongoDB by its `ping` (over TLS when `tls`), others by TCP.
    public func check(
        _ endpoint: ResourceEndpoint,
        of type: ResourceType,
        tls: Bool = false
    ) async -> (reachable: Bool, detail: String) {
        switch type {
        case .mongodb: await ping(endpoint, tls: tls)
        case .postgres, .redis, .rabbitmq, .s3: await check(endpoint)
        }
    }

    /// Whether a resource's connection URI asks for TLS: `tls=true` or `ssl=true`, or a `mongodb+srv` one.
    public static func usesTLS(uri: String) -> Bool {
        if uri.hasPrefix("mongodb+srv://") { return true }
        let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
        return query.split(separator: "&").contains { $0.lowercased() == "tls=true" || $0.lowercased() == "ssl=true" }
    }

    /// Whether anything accepts a TCP connection at `endpoint`.
    public func check(_ endpoint: ResourceEndpoint) async -> (reachable: Bool, detail: String) {
        let started = ContinuousClock.now
        let milliseconds = Self.milliseconds(timeout)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(milliseconds))
        do {
            let channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
            let elapsed = ContinuousClock.now - started
            try? await channel.close()
            return (true, "TCP \(endpoint) connected in \(Self.milliseconds(elapsed)) ms")
        } catch {
            if case ChannelError.connectTimeout = error {
                return (false, "TCP \(endpoint): no answer within \(milliseconds) ms")
            }
            return (false, "TCP \(endpoint): \(Self.reason(error))")
        }
    }

    /// A direct connection to the one server at `endpoint` and its `ping`, through libmongoc, whose calls block:
    /// they run on NIO's blocking pool, not the cooperative one.
    private func ping(_ endpoint: ResourceEndpoint, tls: Bool) async -> (reachable: Bool, detail: String) {
        let timeout = Int32(clamping: Self.milliseconds(timeout))
        let subject = "MongoDB ping to \(endpoint)"
        do {
            return try await NIOThreadPool.singleton.runIfActive {
                let started = ContinuousClock.now
                do throws(StoreError) {
                    let uri = try MongoURI("mongodb://\(endpoint)/?directConnection=true&tls=\(tls)")
                    uri.set("connectTimeoutMS", milliseconds: timeout)
                    uri.set("serverSelectionTimeoutMS", milliseconds: timeout)
                    do throws(MongoError) {
                        _ = try MongoSingleClient(uri).withConnection { connection throws(MongoError) in
                            try connection.readCommand(BSONDocument(["ping": .int32(1)]), in: "admin")
                        }
                    } catch {
                        return (false, "\(subject): \(error.message)")
                    }
                } catch {
                    return (false, "\(subject): \(error.message)")
                }
                return (true, "\(subject) answered in \(Self.milliseconds(ContinuousClock.now - started)) ms")
            }
        } catch {
            return (false, "\(subject): \(error)")
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return reason(first.error)
        }
        return String(describing: error)
    }
}
