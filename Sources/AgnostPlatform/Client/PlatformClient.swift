import AgnostHTTP
import Foundation

/// A failed call to the platform's API: it could not be reached, or it answered with a problem.
public struct PlatformClientError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The platform could not be reached, or the connection failed.
        case unreachable
        /// The platform answered with a problem; ``PlatformClientError/status`` says which.
        case refused
        /// The answer is not what the API document says.
        case invalidAnswer
    }

    public let code: Code
    /// The platform's `detail`, or what failed on the way.
    public let message: String
    /// The HTTP status of a ``Code/refused`` call.
    public let status: Int?
    /// Every line that belongs to the message, such as an uploaded spec's diagnostics.
    public let details: [String]
    /// The method and path of the call.
    public let context: String
    public let underlying: (any Error & Sendable)?

    init(
        _ code: Code,
        _ message: String,
        status: Int? = nil,
        details: [String] = [],
        context: String,
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.status = status
        self.details = details
        self.context = context
        self.underlying = underlying
    }

    public var description: String { message }
}

/// A platform's answer: its status, its `ETag` and `Location` when it sends them, and its JSON body.
public struct PlatformAnswer: Sendable {
    public var status: Int
    public var etag: String?
    public var location: String?
    public var body: [UInt8]

    /// The body decoded as `T`.
    public func decode<T: Decodable>(_ type: T.Type, context: String) throws(PlatformClientError) -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RecordCoding.parse(text) ?? (try? Date(text, strategy: .iso8601)) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: text))
            }
            return date
        }
        do {
            return try decoder.decode(T.self, from: Data(body))
        } catch {
            throw PlatformClientError(
                .invalidAnswer,
                "the platform's answer to \(context) is not what its API describes: \(error)",
                context: context,
                underlying: error
            )
        }
    }
}

/// Calls a platform's REST API with a bearer token.
///
/// ```swift
/// let client = try PlatformClient(url: "http://127.0.0.1:8090", token: token)
/// let answer = try await client.call("GET", "/apps")
/// let apps = try answer.decode(PlatformViews.Page<PlatformViews.App>.self, context: "GET /apps")
/// ```
public struct PlatformClient: Sendable {
    /// The platform's address without `/v1`, such as `http://127.0.0.1:8090`: what credentials are stored for.
    public let url: String
    private let token: String

    /// - Throws: ``PlatformClientError`` when `url` is not an `http` or `https` address.
    public init(url: String, token: String) throws(PlatformClientError) {
        self.url = try Self.normalized(url)
        self.token = token
    }

    /// `http://host:port` of what a person typed: `host:port`, with a trailing `/` or `/v1`.
    public static func normalized(_ url: String) throws(PlatformClientError) -> String {
        var text = url.trimmingCharacters(in: .whitespaces)
        if !text.contains("://") { text = "http://" + text }
        while text.hasSuffix("/") { text.removeLast() }
        if text.hasSuffix("/v1") { text.removeLast(3) }
        guard let components = URLComponents(string: text), ["http", "https"].contains(components.scheme ?? ""),
            components.host?.isEmpty == false, components.path.isEmpty, components.query == nil
        else {
            throw PlatformClientError(
                .unreachable,
                "'\(url)' is not a platform address; give one such as http://127.0.0.1:8090",
                context: url
            )
        }
        return text
    }

    /// Sends one call under `/v1`: the answer when its status is 2xx, else the platform's problem as the error.
    ///
    /// - Parameters:
    ///   - path: under `/v1`, with its query, such as `/apps?limit=10`; path segments percent-encoded already.
    ///   - body: JSON, or another content type's bytes.
    public func call(
        _ method: String,
        _ path: String,
        body: [UInt8]? = nil,
        contentType: String = "application/json",
        headers: [(name: String, value: String)] = []
    ) async throws(PlatformClientError) -> PlatformAnswer {
        let context = "\(method) \(path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path)"
        var fields = [(name: "Authorization", value: "Bearer \(token)"), (name: "Accept", value: "application/json")]
        if body != nil { fields.append((name: "Content-Type", value: contentType)) }
        let request = HTTPClientRequest(
            method: method,
            url: url + "/v1" + path,
            headers: fields + headers,
            body: body,
            timeout: .seconds(60),
            connectTimeout: .seconds(10)
        )
        let response: HTTPClientResponse
        do {
            response = try await withHTTPClient { client in try await client.execute(request) }
        } catch let error as HTTPClientError {
            throw PlatformClientError(
                .unreachable,
                "cannot reach the platform at \(url): \(error.message)",
                context: context,
                underlying: error
            )
        } catch {
            throw PlatformClientError(.unreachable, "cannot reach the platform at \(url)", context: context)
        }
        guard (200..<300).contains(response.status) else {
            let problem = try? JSONDecoder().decode(Problem.self, from: Data(response.body))
            throw PlatformClientError(
                .refused,
                problem?.detail ?? "the platform answered \(response.status) \(response.reason)",
                status: response.status,
                details: problem?.errors ?? [],
                context: context
            )
        }
        return PlatformAnswer(
            status: response.status,
            etag: response.header("ETag"),
            location: response.header("Location"),
            body: response.body
        )
    }

    /// A path segment, percent-encoded.
    public static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }

    private struct Problem: Decodable {
        var detail: String
        var errors: [String]?
    }
}
