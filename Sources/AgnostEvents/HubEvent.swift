import Foundation

/// What the hub did, for its owner to show as it happens.
///
/// ```swift
/// for await event in hub.events {
///     if case .deadLettered(let queue, let id, let attempts, _, _) = event {
///         print("\(queue) \(id): gave up after \(attempts) attempts")
///     }
/// }
/// ```
public enum HubEvent: Sendable, Hashable {
    /// A message was stored and will be delivered once `dueAt` has come.
    case accepted(queue: String, id: String, dueAt: Date)
    /// The server acknowledged delivery `attempt` of a message.
    case delivered(queue: String, id: String, status: Int, duration: Duration, attempt: Int)
    /// Delivery `attempt` failed; the next one starts at `at`.
    case retrying(queue: String, id: String, attempt: Int, failure: DeliveryFailure, at: Date)
    /// The hub gave up on a message after `attempts`: moved to the queue `movedTo`, or kept aside when nil.
    case deadLettered(queue: String, id: String, attempts: Int, failure: DeliveryFailure, movedTo: String?)
    /// A cron job fired, on schedule or on request.
    case cronFired(CronOutcome)
    /// Messages are due but no server is running to deliver them to; they wait.
    case serverUnavailable
    /// The store could not be written: messages are no longer accepted.
    case storageFailed(message: String)
}

/// How one firing of a cron job went.
public struct CronOutcome: Sendable, Hashable, Codable {
    public var job: String
    /// The instant the firing was scheduled for, its event's `time`.
    public var scheduledAt: Date
    /// The server's status, or why there was none.
    public var result: DeliveryOutcome
    public var duration: Duration
}

/// How the first delivery of a message went, for a sender that asked to wait for it.
struct FirstDelivery: Sendable, Hashable {
    var id: String
    var attempt: Int
    var result: DeliveryOutcome
}
