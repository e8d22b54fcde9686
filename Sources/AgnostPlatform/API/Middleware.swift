import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Finds the caller of each request from its bearer token and runs the rest of the request as that caller; a
/// request without a known token gets 401 and reaches no handler.
struct AuthenticationMiddleware: ServerMiddleware {
    let platform: Platform

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let authorization = request.headerFields[.authorization]
        let bearer = authorization.flatMap { value -> String? in
            let parts = value.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            return String(parts[1]).trimmingCharacters(in: .whitespaces)
        }
        let caller: Caller
        do throws(PlatformError) {
            caller = try await platform.authenticate(bearer: bearer)
        } catch {
            var (response, body) = ProblemResponse.render(error)
            response.headerFields[.wwwAuthenticate] = "Bearer"
            return (response, body)
        }
        return try await PlatformAPI.$caller.withValue(caller) {
            try await next(request, body, metadata)
        }
    }
}

/// Answers what the generated server could not decode (a malformed body, a missing header, a value the document
/// does not allow) with a problem whose status the runtime chose, a 4xx, instead of letting it end as a 500.
struct ProblemMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        do {
            return try await next(request, body, metadata)
        } catch let error as ServerError {
            let status = error.httpStatus.code
            let problem = PlatformError(
                status >= 500 ? .storage : .invalidInput,
                status >= 500
                    ? "the platform could not answer \(operationID); its log says why"
                    : "the request does not fit the API: \(error.causeDescription)",
                context: operationID
            )
            return ProblemResponse.render(problem, status: status >= 500 ? 500 : status)
        }
    }
}

/// An `application/problem+json` response outside the generated handlers.
enum ProblemResponse {
    static func render(_ error: PlatformError, status: Int? = nil) -> (HTTPResponse, HTTPBody) {
        let status = status ?? error.status
        var object: [String: Any] = [
            "type": "https://agnost-fn.dev/problems/\(error.code.rawValue)",
            "title": PlatformError.title(of: status),
            "status": status,
            "detail": error.message,
        ]
        if !error.details.isEmpty { object["errors"] = error.details }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        var response = HTTPResponse(status: .init(code: status))
        response.headerFields[.contentType] = "application/problem+json"
        return (response, HTTPBody(Array(data)))
    }
}

/// Sends `ETag` as RFC 9110 wants it, a quoted string: the generated server percent-encodes header values as URI
/// components, quotes included, which clients would then send back in `If-Match` as an ETag they never saw.
struct ETagMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, body) = try await next(request, body, metadata)
        if let encoded = response.headerFields[.eTag], let decoded = encoded.removingPercentEncoding {
            response.headerFields[.eTag] = decoded
        }
        return (response, body)
    }
}
