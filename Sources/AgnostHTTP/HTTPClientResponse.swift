/// The response to an ``HTTPClientRequest``, whatever its status: a 404 or a 500 is a response, not an error.
///
/// ```swift
/// let response = try client.send(HTTPClientRequest(url: "http://127.0.0.1:8080/todos/1"))
/// if response.status == 200, response.header("content-type") == "application/json" {
///     print(response.bodyText)
/// }
/// ```
public struct HTTPClientResponse: Sendable {
    /// The status code, such as 200, 302 or 404.
    public var status: Int
    /// The reason phrase of the status line, such as `Not Found`; empty when the server sent none (HTTP/2 never does).
    public var reason: String
    /// The protocol of the status line: `HTTP/1.0`, `HTTP/1.1` or `HTTP/2`.
    public var httpVersion: String
    /// The header fields of the final response in the order received; those of interim `1xx` responses are dropped.
    public var headers: [(name: String, value: String)]
    /// The body as received; a `Content-Encoding` is not undone.
    public var body: [UInt8]

    /// The value of the first header field called `name`, compared without regard to case.
    ///
    /// ```swift
    /// let location = response.header("Location")
    /// ```
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The body decoded as UTF-8, with invalid bytes replaced by U+FFFD.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
