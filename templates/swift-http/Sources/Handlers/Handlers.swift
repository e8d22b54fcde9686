import AgnostRuntime

/// `GET /hello/:name`: greets with the app's `GREETING`.
public func hello(_ request: Request, _ context: Context) async throws -> Response {
    let name = try context.parameters.require("name")
    let greeting = context.env["GREETING"] ?? "hello"
    return .text("\(greeting), \(name)!")
}

public struct EchoRequest: Codable, Sendable {
    public var message: String
}

public struct EchoResponse: Codable, Sendable, Equatable {
    public var message: String
    public var length: Int
}

/// `POST /echo`: answers with the message it was sent and its length; a body without `message` is a 400.
public func echo(_ request: Request, _ context: Context) async throws -> Response {
    let body = try request.decode(EchoRequest.self)
    guard !body.message.isEmpty else { throw HTTPError(.unprocessableContent, "message must not be empty") }
    return try .json(EchoResponse(message: body.message, length: body.message.count))
}

/// Middleware: reports the handler's time in a `Server-Timing` header, which browsers' developer tools show.
public func serverTiming(_ request: Request, _ context: Context, _ next: Next) async throws -> Response {
    let start = ContinuousClock.now
    var response = try await next(request, context)
    let (seconds, attoseconds) = (ContinuousClock.now - start).components
    let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
    response.headers[HTTPField.Name("Server-Timing")!] = "handler;dur=\(milliseconds)"
    return response
}
