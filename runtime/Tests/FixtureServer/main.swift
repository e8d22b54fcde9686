// A server built from the runtime the way generated code builds one, for the tests that need a real
// process: signals, sockets, start-up errors.
import AgnostRuntime

@Sendable func hello(_ request: Request, _ context: Context) async throws -> Response {
    .text("hello, \(try context.parameters.require("name"))")
}

@Sendable func slow(_ request: Request, _ context: Context) async throws -> Response {
    let milliseconds = request.query["ms"].flatMap(Int.init) ?? 1000
    context.logger.info("slow request started")
    try await Task.sleep(for: .milliseconds(milliseconds))
    return .text("finished after \(milliseconds)ms")
}

var handlers = HandlerRegistry()
handlers.register(endpoint: "hello", hello)
handlers.register(endpoint: "slow", slow)
await AgnostServer.run(handlers)
