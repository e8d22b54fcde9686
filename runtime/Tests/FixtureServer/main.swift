// A server built from the runtime the way generated code builds one, for the tests that need a real
// process: signals, sockets, start-up errors, hostile input.
import AgnostRuntime

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

/// Appends `<id> <body> <time in ms or -> <attempt or ->` to the file named by `AGNOST_FIXTURE_EVENTS`, one
/// line per call, so that a test can count what each event did.
func recordCall(_ fields: [String]) {
    guard let path = getenv("AGNOST_FIXTURE_EVENTS") else { return }
    let line = fields.joined(separator: " ") + "\n"
    let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
    guard descriptor >= 0 else { return }
    _ = line.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, $0.count - 1) }
    close(descriptor)
}

func milliseconds(_ time: Date?) -> String {
    time.map { String(Int(($0.timeIntervalSince1970 * 1000).rounded())) } ?? "-"
}

/// Records the call, then ends as its body asks: `permanent`, `busy` (429), `fail` (500), `hang` (past the
/// queue's timeout), or anything else (success).
@Sendable func recordMessage(_ message: QueueMessage, _ context: Context) async throws {
    recordCall([message.id, message.text, milliseconds(message.time), message.attempt.map { String($0) } ?? "-"])
    struct Unreachable: Error {}
    switch message.text {
    case "permanent": throw PermanentFailure("this message can never succeed")
    case "busy": throw HTTPError(.tooManyRequests, "try later")
    case "fail": throw Unreachable()
    case "hang": try await Task.sleep(for: .seconds(30))
    default: break
    }
}

@Sendable func recordTick(_ tick: CronTick, _ context: Context) async throws {
    recordCall([context.requestId, tick.job, milliseconds(tick.scheduledTime), "-"])
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
handlers.register(queue: "recordMessage", recordMessage)
handlers.register(cron: "recordTick", recordTick)
await AgnostServer.run(handlers)
