import AgnostRuntime
import Foundation

/// Appends `line` to RECORD_FILE with one `write` on an O_APPEND descriptor, so concurrent handlers never
/// interleave their lines.
private func record(_ line: String, _ context: Context) throws {
    let path = context.env["RECORD_FILE"] ?? "/dev/null"
    let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
    guard descriptor >= 0 else { throw HTTPError(.internalServerError, "cannot open \(path)") }
    defer { close(descriptor) }
    let bytes = Array((line + "\n").utf8)
    guard write(descriptor, bytes, bytes.count) == bytes.count else {
        throw HTTPError(.internalServerError, "cannot write \(path)")
    }
}

/// `POST /work/:count`: sends `count` messages to the queue `work`, each acknowledged by the broker.
public func sendWork(_ request: Request, _ context: Context) async throws -> Response {
    let count = try context.parameters.require("count", as: Int.self)
    for index in 0..<count {
        try await context.queue("work").send(["index": index])
    }
    return try .json(["sent": count], status: .accepted)
}

/// Queue `work`: records the message's id, slowly enough that a run killed mid-way has messages in hand. A
/// message `{"refuse": true}` is a permanent failure.
public func work(_ message: QueueMessage, _ context: Context) async throws {
    if message.text.contains("refuse") {
        try record("refused \(message.id) \(message.attempt ?? 0)", context)
        throw PermanentFailure("refused on request")
    }
    // Slow enough that 1,020 messages, 32 at a time, take the kill test's ~13 s to handle, so its kills land
    // while they are being delivered.
    try await Task.sleep(for: .milliseconds(400))
    try record("work \(message.id) \(message.attempt ?? 0)", context)
}

/// Queue `flaky`: fails every time, so its messages move to `parked` after the last retry.
public func flaky(_ message: QueueMessage, _ context: Context) async throws {
    try record("flaky \(message.id) \(message.attempt ?? 0)", context)
    throw HTTPError(.serviceUnavailable, "flaky fails")
}

/// Queue `parked`: the dead-letter queue of `flaky`.
public func parked(_ message: QueueMessage, _ context: Context) async throws {
    try record("parked \(message.id) \(message.attempt ?? 0)", context)
}

/// Cron jobs: the job, when it was scheduled and when it ran, in seconds since 1970.
public func tick(_ tick: CronTick, _ context: Context) async throws {
    let scheduled = tick.scheduledTime?.timeIntervalSince1970 ?? 0
    try record("tick \(tick.job) \(scheduled) \(Date().timeIntervalSince1970)", context)
}

/// `GET /store`: the host and port the settings file gives resource `store`, and its password's length.
public func storeSettings(_ request: Request, _ context: Context) async throws -> Response {
    let store = try context.resources.require("store")
    return .text("\(store.host ?? "-"):\(store.port.map(String.init) ?? "-") \(store.password?.count ?? 0)")
}
