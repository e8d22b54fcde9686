/// A request for ``HTTPClient/send(_:uploadProgress:successfulBody:)`` or
/// ``HTTPClient/execute(_:uploadProgress:successfulBody:)``.
///
/// ```swift
/// let request = HTTPClientRequest(
///     method: "POST",
///     url: "http://127.0.0.1:8080/todos",
///     headers: [("Content-Type", "application/json")],
///     body: Array(#"{"title":"milk"}"#.utf8),
///     timeout: .seconds(5)
/// )
/// // A watch: no limit on the whole, but on silence.
/// let watch = HTTPClientRequest(url: podsURL + "?watch=true", timeout: nil, idleTimeout: .seconds(60))
/// ```
public struct HTTPClientRequest: Sendable {
    /// The method, sent exactly as given (`GET`, `POST`, `PROPFIND`, …). A `HEAD` request sends no body.
    public var method: String
    /// An `http` or `https` URL. Credentials in it (`http://user:password@host/`) are sent as basic
    /// authentication; they, the query and the fragment never appear in an ``HTTPClientError``.
    public var url: String
    /// Header fields, sent in this order. A field with an empty value is sent empty, not left out.
    public var headers: [(name: String, value: String)]
    /// The body, sent with a `Content-Length`. `POST`, `PUT` and `PATCH` without one send an empty body.
    /// Nothing sets a `Content-Type` for it: name one in ``headers`` when the server needs it.
    public var body: Body?
    /// The limit for the whole exchange, from connecting to the last byte of the response; nil sets none, for
    /// streams such as a Kubernetes watch, which should then have an ``idleTimeout``.
    public var timeout: Duration?
    /// Fails the request when no byte arrives or goes out for this long, however long the whole exchange takes:
    /// from the start until the response begins, and between any two pieces of it. nil sets no such limit.
    public var idleTimeout: Duration?
    /// The limit for connecting, TLS handshake included; nil leaves libcurl's default of 300 seconds, within
    /// ``timeout``.
    public var connectTimeout: Duration?

    /// Creates a request; only the URL is required.
    ///
    /// ```swift
    /// let request = HTTPClientRequest(url: "http://127.0.0.1:8080/todos?done=false")
    /// ```
    public init(
        method: String = "GET",
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil,
        timeout: Duration? = .seconds(30),
        idleTimeout: Duration? = nil,
        connectTimeout: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body.map(Body.bytes)
        self.timeout = timeout
        self.idleTimeout = idleTimeout
        self.connectTimeout = connectTimeout
    }

    /// Creates a request whose body is part of a file, read while it is sent.
    ///
    /// ```swift
    /// let request = HTTPClientRequest(
    ///     method: "PATCH", url: location, body: .file(path: "layer.tar.gz", range: 0..<(32 << 20)))
    /// ```
    public init(
        method: String,
        url: String,
        headers: [(name: String, value: String)] = [],
        body: Body,
        timeout: Duration? = .seconds(30),
        idleTimeout: Duration? = nil,
        connectTimeout: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.idleTimeout = idleTimeout
        self.connectTimeout = connectTimeout
    }

    /// What a request sends after its headers.
    public enum Body: Sendable, Equatable {
        /// Bytes in memory.
        case bytes([UInt8])
        /// The bytes `range` of the file at `path`, read as libcurl sends them, so that a large body never sits in
        /// memory. The file must hold the whole range when the request is sent.
        case file(path: String, range: Range<Int64>)

        /// How many bytes the body has.
        public var count: Int64 {
            switch self {
            case .bytes(let bytes): Int64(bytes.count)
            case .file(_, let range): Int64(range.count)
            }
        }
    }
}
