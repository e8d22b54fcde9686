// A server built from the runtime the way generated code builds one, for the tests that need a real
// process: signals, sockets, start-up errors, hostile input.
import AgnostRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Sendable func hello(_ request: Request, _ context: Context) async throws -> Response {
    .text("hello, \(try context.parameters.require("name"))")
}

@Sendable func slow(_ request: Request, _ context: Context) async throws -> Response {
    let milliseconds = request.query["ms"].flatMap(Int.init) ?? 1000
    context.logger.info("slow request started")
    try await Task.sleep(for: .milliseconds(milliseconds))
    return .text("finished after \(milliseconds)ms")
}

@Sendable func fail(_ request: Request, _ context: Context) async throws -> Response {
    struct StoreUnavailable: Error {}
    throw StoreUnavailable()
}

/// Any JSON document, decoded all the way down, so that nesting and every string reach the decoder.
indirect enum JSONValue: Decodable {
    case scalar
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else if let object = try? container.decode([String: JSONValue].self) {
            self = .object(object)
        } else if container.decodeNil() || (try? container.decode(Bool.self)) != nil
            || (try? container.decode(Double.self)) != nil || (try? container.decode(String.self)) != nil
        {
            self = .scalar
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    var depth: Int {
        switch self {
        case .scalar: 0
        case .array(let values): 1 + (values.map(\.depth).max() ?? 0)
        case .object(let values): 1 + (values.values.map(\.depth).max() ?? 0)
        }
    }
}

@Sendable func decodeJSON(_ request: Request, _ context: Context) async throws -> Response {
    .text("depth \(try request.decode(JSONValue.self).depth)")
}

@Sendable func echoText(_ request: Request, _ context: Context) async throws -> Response {
    .text(request.text)
}

@Sendable func keyed(_ request: Request, _ context: Context) async throws -> Response {
    .text("key accepted")
}

// A test process that dies leaves no server behind: the fixture follows its parent.
let parent = getppid()
Task.detached {
    while getppid() == parent {
        try? await Task.sleep(for: .milliseconds(200))
    }
    exit(3)
}

var handlers = HandlerRegistry()
handlers.register(endpoint: "hello", hello)
handlers.register(endpoint: "slow", slow)
handlers.register(endpoint: "fail", fail)
handlers.register(endpoint: "decodeJSON", decodeJSON)
handlers.register(endpoint: "echoText", echoText)
handlers.register(endpoint: "keyed", keyed)
await AgnostServer.run(handlers)
