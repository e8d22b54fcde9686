public import NIOCore

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// One delivery of a queue message to its handler.
///
/// ```swift
/// public func sendEmail(_ message: QueueMessage, _ context: Context) async throws {
///     let email = try message.decode(Email.self)     // a body that is not an Email: 400, never retried
///     if message.attempt ?? 1 > 1 { context.logger.info("redelivery") }
///     try await mailer.send(email, idempotencyKey: message.id)
/// }
/// ```
public struct QueueMessage: Sendable {
    /// The CloudEvent id: unique per message, and redeliveries keep it, so handlers can deduplicate.
    public let id: String
    /// The queue's `name` in `agnost.yaml`.
    public let queue: String
    /// 1 on the first delivery, then counting retries; `nil` when the sender does not count (Knative's Broker).
    public let attempt: Int?
    public let body: ByteBuffer
    /// The event's `datacontenttype`, such as `application/json`.
    public let contentType: String?
    /// The event's `source`: who sent the message.
    public let source: String
    /// When the message was sent, from the event's `time`.
    public let time: Date?

    public init(
        id: String,
        queue: String,
        attempt: Int? = nil,
        body: ByteBuffer,
        contentType: String? = nil,
        source: String = "",
        time: Date? = nil
    ) {
        self.id = id
        self.queue = queue
        self.attempt = attempt
        self.body = body
        self.contentType = contentType
        self.source = source
        self.time = time
    }

    /// The body as UTF-8 text (invalid sequences replaced).
    public var text: String { String(buffer: body) }

    /// Decodes a JSON body. A body that does not decode never will, so it throws a ``PermanentFailure``: the
    /// delivery is answered 400 and the message is dead-lettered rather than retried.
    public func decode<Value: Decodable>(_ type: Value.Type = Value.self) throws(PermanentFailure) -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
        } catch let error as DecodingError {
            throw PermanentFailure("message body is not a valid \(Value.self): \(error.briefDescription)")
        } catch {
            throw PermanentFailure("message body is not valid JSON")
        }
    }
}

/// One firing of a cron job.
///
/// ```swift
/// public func cleanup(_ tick: CronTick, _ context: Context) async throws {
///     let cutoff = (tick.scheduledTime ?? Date()).addingTimeInterval(-86_400)
///     try await store.deleteOlder(than: cutoff)
/// }
/// ```
public struct CronTick: Sendable {
    /// The job's `name` in `agnost.yaml`.
    public let job: String
    /// The schedule as written.
    public let schedule: String
    /// When the scheduler fired, from the event's `time`; `nil` when the event has none.
    public let scheduledTime: Date?

    public init(job: String, schedule: String, scheduledTime: Date? = nil) {
        self.job = job
        self.schedule = schedule
        self.scheduledTime = scheduledTime
    }
}

/// Thrown by a queue or cron handler for an event that will never succeed, such as a malformed message: the
/// delivery is answered 400, so the broker dead-letters it at once instead of retrying.
///
/// Any other error (except ``HTTPError``, whose status is kept) answers 500, which the broker retries.
///
/// ```swift
/// guard email.to.contains("@") else { throw PermanentFailure("no valid recipient: \(email.to)") }
/// ```
public struct PermanentFailure: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
