import Foundation

/// One entry of the hub's log. The delivery state is the fold of these records, so recovery replays them and
/// compaction writes the few that rebuild the live state.
enum EventRecord: Sendable, Hashable, Codable {
    /// A message to deliver as `attempt` once `dueAt` has come.
    case accepted(sequence: UInt64, message: QueueMessage, attempt: Int, dueAt: Date)
    /// Delivery `attempt` failed; the next one is due at `retryAt`.
    case failed(sequence: UInt64, attempt: Int, failure: DeliveryFailure, retryAt: Date)
    case acknowledged(sequence: UInt64)
    /// The hub gave up after `attempts`. With `movedTo`, the message went to its queue's dead-letter queue under
    /// that new sequence number; without, it is kept aside.
    case deadLettered(sequence: UInt64, attempts: Int, failure: DeliveryFailure, at: Date, movedTo: UInt64?)
    /// A dead letter kept aside was sent again, as attempt 1 due at `dueAt`.
    case replayed(sequence: UInt64, dueAt: Date)

    /// Whether an append of this record is reported done only once it is on disk. An acknowledgement lost to a power
    /// cut redelivers a message that was handled, as at-least-once delivery allows; any other lost record would
    /// lose a message, or its retry count or dead letter.
    var mustBeSynced: Bool {
        if case .acknowledged = self { return false }
        return true
    }
}
