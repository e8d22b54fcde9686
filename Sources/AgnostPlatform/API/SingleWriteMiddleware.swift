import Hummingbird

/// Sends each answer of a known, small length in one write: the OpenAPI transport streams a body to Hummingbird
/// even when it is a single buffer, and the head, the body and the end then went out as three writes, each with its
/// own wake-up of the connection's event loop (benchmarks/platform counted 3.5 writes per answer against 2).
struct SingleWriteMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Larger bodies, which the API does not send, keep streaming.
    static var largestBuffered: Int { 1 << 20 }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        guard let length = response.body.contentLength, length <= Self.largestBuffered else { return response }
        let collector = BodyCollector(capacity: length)
        try await response.body.write(collector)
        // Trailers are the one thing a single buffer cannot carry; the API sends none, but a body that has them
        // keeps them.
        guard collector.trailers == nil else {
            response.body = ResponseBody(contentLength: length) { [collected = collector.buffer, collector] writer in
                try await writer.write(collected)
                try await writer.finish(collector.trailers)
            }
            return response
        }
        response.body = ResponseBody(byteBuffer: collector.buffer)
        return response
    }
}

/// The body's buffers, gathered in one as the body writes them.
private final class BodyCollector: ResponseBodyWriter, @unchecked Sendable {
    // Unchecked: one body writes to it, then the middleware reads it, in order, on one task.
    var buffer: ByteBuffer
    var trailers: HTTPFields?

    init(capacity: Int) {
        buffer = ByteBuffer()
        buffer.reserveCapacity(capacity)
    }

    func write(_ part: ByteBuffer) async throws {
        var part = part
        buffer.writeBuffer(&part)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {
        trailers = trailingHeaders
    }
}
