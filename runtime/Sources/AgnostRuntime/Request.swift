public import HTTPTypes
public import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An HTTP request as a handler sees it, with its body already read (up to the configured limit).
///
/// ```swift
/// let draft = try request.decode(TodoDraft.self)      // 400 if the body is not that JSON
/// let verbose = request.query["verbose"] == "true"
/// let agent = request.headers[.userAgent]
/// ```
public struct Request: Sendable {
    public var method: HTTPRequest.Method
    /// The path as sent, without the query string (still percent-encoded).
    public var path: String
    public var query: Query
    public var headers: HTTPFields
    public var body: ByteBuffer

    public init(
        method: HTTPRequest.Method,
        path: String,
        query: Query = Query(""),
        headers: HTTPFields = [:],
        body: ByteBuffer = ByteBuffer()
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The body as UTF-8 text (invalid sequences replaced).
    public var text: String { String(buffer: body) }

    /// Decodes a JSON body; a body that does not decode becomes a 400 that says why.
    public func decode<Value: Decodable>(_ type: Value.Type = Value.self) throws(HTTPError) -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
        } catch let error as DecodingError {
            throw HTTPError(.badRequest, "request body is not a valid \(Value.self): \(error.briefDescription)")
        } catch {
            throw HTTPError(.badRequest, "request body is not valid JSON")
        }
    }
}

extension DecodingError {
    /// The coding path and reason, without the type dumps of the default description.
    var briefDescription: String {
        let context: Context
        switch self {
        case .typeMismatch(_, let found), .valueNotFound(_, let found), .keyNotFound(_, let found),
            .dataCorrupted(let found):
            context = found
        @unknown default:
            return "undecodable body"
        }
        let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        if case .keyNotFound(let key, _) = self {
            return "missing key '\(([path] + [key.stringValue]).filter { !$0.isEmpty }.joined(separator: "."))'"
        }
        return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
    }
}

/// The query string of a request, decoded on access (`+` as space, percent escapes).
///
/// ```swift
/// let page = request.query["page"].flatMap(Int.init) ?? 1
/// let tags = request.query.values(for: "tag")
/// ```
public struct Query: Sendable, Equatable {
    /// The raw query, without the leading `?`.
    public let raw: Substring

    public init(_ raw: Substring) {
        self.raw = raw
    }

    /// The first value of `name`, or `nil` when it is absent.
    public subscript(name: String) -> String? {
        for pair in pairs() where pair.name == name {
            return pair.value
        }
        return nil
    }

    /// Every value of `name`, in order.
    public func values(for name: String) -> [String] {
        pairs().filter { $0.name == name }.map(\.value)
    }

    private func pairs() -> [(name: String, value: String)] {
        raw.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count > 1 ? parts[1] : ""
            return (PercentEncoding.decodeFormComponent(parts[0]), PercentEncoding.decodeFormComponent(value))
        }
    }
}
