import Foundation

/// A queue message as the hub stores and delivers it: a CloudEvent and the queue it is for.
///
/// ```swift
/// let message = QueueMessage(
///     queue: "emails",
///     attributes: ["specversion": "1.0", "id": "e1", "source": "/agnost/shop-v1", "type": "dev.agnost.queue.message"],
///     contentType: "application/json",
///     body: Array(#"{"to":"a@b.c"}"#.utf8)
/// )
/// message.id   // "e1"
/// ```
public struct QueueMessage: Sendable, Hashable, Codable {
    public var queue: String
    /// The CloudEvents context attributes and extensions, by lowercase name, without `datacontenttype` (see
    /// ``contentType``), the delivery attempt and the sender's token, which the hub sets on each delivery.
    public var attributes: [String: String]
    public var contentType: String?
    public var body: Data
    /// Where a message moved to a dead-letter queue came from.
    public var origin: DeadLetterOrigin?

    public init(
        queue: String,
        attributes: [String: String],
        contentType: String?,
        body: [UInt8],
        origin: DeadLetterOrigin? = nil
    ) {
        self.queue = queue
        self.attributes = attributes
        self.contentType = contentType
        self.body = Data(body)
        self.origin = origin
    }

    /// The CloudEvent's `id`, kept on every redelivery and when moved to a dead-letter queue.
    public var id: String { attributes["id"] ?? "" }
}

/// The queue a dead-lettered message was first sent to, and how its deliveries there ended.
public struct DeadLetterOrigin: Sendable, Hashable, Codable {
    public var queue: String
    public var attempts: Int
    public var lastFailure: DeliveryFailure
}

/// Why a delivery did not acknowledge its message.
public enum DeliveryFailure: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The server answered with this status.
    case status(Int)
    /// No answer: the server could not be reached, or the delivery timed out. The text says which.
    case transport(String)

    public var description: String {
        switch self {
        case .status(let status): "status \(status)"
        case .transport(let reason): reason
        }
    }
}

/// What one delivery came to, as the server's answer or its absence.
public enum DeliveryOutcome: Sendable, Hashable, Codable {
    case status(Int)
    case transportError(String)
}

/// A message the hub gave up on and kept aside.
public struct DeadLetter: Sendable, Hashable, Codable {
    /// The hub's own number for the message, to replay it by.
    public var sequence: UInt64
    public var message: QueueMessage
    public var attempts: Int
    public var lastFailure: DeliveryFailure
    public var deadLetteredAt: Date
}
