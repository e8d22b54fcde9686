/// A request for ``HTTPClient/send(_:)``.
///
/// ```swift
/// let request = HTTPClientRequest(
///     method: "POST",
///     url: "http://127.0.0.1:8080/todos",
///     headers: [("Content-Type", "application/json")],
///     body: Array(#"{"title":"milk"}"#.utf8),
///     timeout: .seconds(5)
/// )
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
    /// The limit for the whole exchange, from connecting to the last byte of the response.
    public var timeout: Duration

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
        timeout: Duration = .seconds(30)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body.map(Body.bytes)
        self.timeout = timeout
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
        timeout: Duration = .seconds(30)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
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

extension HTTPClientRequest {
    /// The timeout as libcurl takes it: rounded up to whole milliseconds and at least 1, because libcurl reads 0 as
    /// "no timeout", and at most `Int32.max` (24 days), the largest value every libcurl version stores unclipped.
    var timeoutMilliseconds: Int {
        let limit = Int(Int32.max)
        guard timeout > .zero else { return 1 }
        guard timeout < .milliseconds(limit) else { return limit }
        let (seconds, attoseconds) = timeout.components
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        return Int(seconds) * 1000 + Int((attoseconds + attosecondsPerMillisecond - 1) / attosecondsPerMillisecond)
    }
}
