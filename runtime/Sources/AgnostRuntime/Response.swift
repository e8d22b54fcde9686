public import HTTPTypes
public import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a handler returns.
///
/// ```swift
/// return try .json(todo, status: .created)
/// return .text("pong")
/// return Response(status: .noContent)
/// ```
public struct Response: Sendable {
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    public var body: ByteBuffer

    public init(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body, `Content-Type: application/json`, with keys sorted so that equal values always give equal
    /// bytes (the encoder's own order follows a per-process hash seed).
    public static func json(
        _ value: some Encodable,
        status: HTTPResponse.Status = .ok,
        headers: HTTPFields = [:]
    ) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(value)
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ByteBuffer(bytes: data))
    }

    /// A plain-text body, `Content-Type: text/plain; charset=utf-8`.
    public static func text(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ByteBuffer(string: text))
    }
}

extension Response {
    /// The answer to a `HEAD` request: the same status and headers, with the length of the body it leaves out.
    func withoutBody() -> Response {
        var headers = headers
        if headers[.contentLength] == nil {
            headers[.contentLength] = String(body.readableBytes)
        }
        return Response(status: status, headers: headers)
    }
}
