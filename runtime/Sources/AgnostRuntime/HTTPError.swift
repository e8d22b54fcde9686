public import HTTPTypes

/// An error a handler throws to answer with a particular status; the client receives
/// `{"error": message, "requestId": …}`.
///
/// Any other error a handler throws becomes a 500 whose body does not reveal the error, which is logged instead.
///
/// ```swift
/// guard let todo = store[id] else { throw HTTPError(.notFound, "no todo with id \(id)") }
/// ```
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// Extra response headers, for example `WWW-Authenticate` or `Retry-After`.
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ message: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message ?? status.reasonPhrase
        self.headers = headers
    }

    public var description: String { "\(status.code) \(message)" }
}
