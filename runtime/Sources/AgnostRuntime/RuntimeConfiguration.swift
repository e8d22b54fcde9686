import AgnostBundle
import AgnostDigest
public import Logging

/// A reason the server cannot start; printed as `error: <message>` and the process exits 1.
public struct RuntimeStartupError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidEnvironment
        case bundleNotFound
        case invalidBundle
        case handlerNotRegistered
        case cannotListen
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// The server's settings, read once from the environment at start-up.
///
/// ```swift
/// let configuration = try RuntimeConfiguration(environment: ["PORT": "9000", "LOG_LEVEL": "debug"])
/// ```
public struct RuntimeConfiguration: Sendable {
    /// Ports the Knative queue-proxy and its metrics own inside the pod.
    public static let reservedPorts: Set<Int> = [8012, 8013, 8022, 8008, 9090, 9091]

    /// `AGNOST_HOST`; all interfaces by default, as a container must. `agnost-fn run` passes 127.0.0.1.
    public var host = "0.0.0.0"
    /// `PORT`; 0 asks the kernel for a free port, which the start-up log line reports.
    public var port = 8080
    /// `AGNOST_MAX_BODY`, in bytes.
    public var maxBodyBytes = 1 << 20
    /// `LOG_LEVEL`: trace, debug, info, notice, warning, error, critical.
    public var logLevel = Logger.Level.info
    /// `AGNOST_LOG_FORMAT`: json or text.
    public var logFormat = LogFormat.json
    /// `AGNOST_API_KEYS`: comma-separated SHA-256 hashes (hex) of the accepted API keys.
    public var apiKeyHashes: [SHA256Digest] = []
    /// `AGNOST_HEADER_TIMEOUT`: how long a connection may take to send a whole request header, counted from
    /// when it opens or from the first byte of its next request. Past it the connection is closed without an
    /// answer.
    ///
    /// Ten seconds, as Go's servers are commonly configured (`ReadHeaderTimeout`): ample for any real client,
    /// whose header arrives in one packet, yet it frees the connection of a slowloris client, which dribbles a
    /// header forever, long before such clients can exhaust the server's file descriptors. A slow body after a
    /// complete header is not affected.
    public var headerTimeout = Duration.seconds(10)
    /// `AGNOST_IDLE_TIMEOUT`: how long a keep-alive connection may wait between requests before it is closed.
    ///
    /// Behind Knative, the queue-proxy (Go, `http.Transport` with a 90 s idle timeout) keeps connections to the
    /// container open for reuse. Whichever side closes an idle connection races a request the other side may be
    /// sending on it at that moment, and a non-idempotent request lost that way cannot be retried; so the
    /// client must be the one to close. Two minutes outlasts the proxy's 90 s with room for timer slack.
    public var idleTimeout = Duration.seconds(120)
    /// `AGNOST_INTERNAL_TOKEN`: the credential every caller of `/agnost/cron/…` and `/agnost/queue/…` must hold
    /// (or its ``AgnostBundle/SenderToken``); `nil` refuses them all.
    package var internalToken: InternalToken?
    /// `AGNOST_BROKER_URL`: where `send` POSTs queue messages; `nil` makes every send fail, saying so.
    package var brokerURL: String?
    /// `AGNOST_BUNDLE`; `nil` means `bundle.json` next to the executable.
    public var bundlePath: String?
    /// `K_SERVICE`, `K_REVISION`, `K_CONFIGURATION`, as Knative sets them; reported in the start-up log line.
    public var knative: [(name: String, value: String)] = []

    public init() {}

    /// Reads every setting from `environment`, and reports every bad one at once.
    public init(environment: [String: String]) throws(RuntimeStartupError) {
        var problems: [String] = []
        if let text = environment["PORT"] {
            if let port = Int(text), (0...65_535).contains(port), !Self.reservedPorts.contains(port) {
                self.port = port
            } else if let port = Int(text), Self.reservedPorts.contains(port) {
                problems.append(
                    "PORT=\(port) is reserved by Knative (8012, 8013, 8022, 8008, 9090, 9091); pick another"
                )
            } else {
                problems.append("PORT must be a number from 0 to 65535, got '\(text)'")
            }
        }
        if let host = environment["AGNOST_HOST"], !host.isEmpty {
            self.host = host
        }
        if let text = environment["AGNOST_MAX_BODY"] {
            if let bytes = Int(text), bytes > 0 {
                maxBodyBytes = bytes
            } else {
                problems.append("AGNOST_MAX_BODY must be a positive number of bytes, got '\(text)'")
            }
        }
        let limits: [(name: String, keyPath: WritableKeyPath<Self, Duration>)] = [
            ("AGNOST_HEADER_TIMEOUT", \.headerTimeout), ("AGNOST_IDLE_TIMEOUT", \.idleTimeout),
        ]
        for (name, keyPath) in limits {
            guard let text = environment[name] else { continue }
            if let duration = DurationText.parse(text), duration > .zero {
                self[keyPath: keyPath] = duration
            } else {
                problems.append(
                    "\(name) must be a duration greater than 0: a whole number followed by ms, s, m or h, "
                        + "like 500ms or 10s; got '\(text)'"
                )
            }
        }
        if let text = environment["LOG_LEVEL"] {
            if let level = Logger.Level(rawValue: text.lowercased()) {
                logLevel = level
            } else {
                let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
                problems.append("LOG_LEVEL must be one of \(levels), got '\(text)'")
            }
        }
        if let text = environment["AGNOST_LOG_FORMAT"] {
            if let format = LogFormat(rawValue: text.lowercased()) {
                logFormat = format
            } else {
                problems.append("AGNOST_LOG_FORMAT must be json or text, got '\(text)'")
            }
        }
        if let text = environment["AGNOST_API_KEYS"] {
            // Hashes are not secret, but an entry that is not a hash may be a key pasted by mistake: never echo it.
            for (index, entry) in text.split(separator: ",").enumerated() {
                var trimmed = entry
                while trimmed.first == " " { trimmed.removeFirst() }
                while trimmed.last == " " { trimmed.removeLast() }
                if let digest = SHA256Digest(hex: trimmed) {
                    apiKeyHashes.append(digest)
                } else {
                    problems.append(
                        "entry \(index + 1) of AGNOST_API_KEYS is not a SHA-256 hash (64 hex digits); "
                            + "store `printf %s KEY | sha256sum` there, never the key itself"
                    )
                }
            }
        }
        if let token = environment[EventContract.internalTokenVariable], !token.isEmpty {
            internalToken = InternalToken(token)
        }
        if let url = environment[EventContract.brokerURLVariable], !url.isEmpty {
            do {
                _ = try BrokerAddress.parse(url)
                brokerURL = url
            } catch {
                problems.append("\(EventContract.brokerURLVariable) \(error.reason)")
            }
        }
        bundlePath = environment["AGNOST_BUNDLE"].flatMap { $0.isEmpty ? nil : $0 }
        knative = ["K_SERVICE", "K_REVISION", "K_CONFIGURATION"].compactMap { name in
            environment[name].map { (name, $0) }
        }
        if !problems.isEmpty {
            throw RuntimeStartupError(.invalidEnvironment, problems.joined(separator: "\nerror: "))
        }
    }
}
