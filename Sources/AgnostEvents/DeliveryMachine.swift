import AgnostBundle
import Foundation

/// Which message to deliver when, per queue, without doing any I/O: the hub asks it what to do now, tells it how
/// each delivery ended, and writes the ``EventRecord`` every change returns to its log before acting on it.
///
/// Every change is also an ``EventRecord`` applied by ``apply(_:)``, so the state after a restart is the fold of
/// the log, in which a delivery that was in flight is simply due again.
struct DeliveryMachine: Sendable {
    /// A message waiting for, or in, a delivery.
    struct Entry: Sendable, Hashable {
        var message: QueueMessage
        var attempt: Int
        var dueAt: Date
    }

    /// What the hub should do now.
    enum Decision: Sendable, Hashable {
        /// Deliver `message` as attempt `attempt`, then report with ``DeliveryMachine/complete(_:with:at:)``.
        case deliver(sequence: UInt64, message: QueueMessage, attempt: Int)
        /// Nothing is due before this time (or before an outcome arrives).
        case wait(until: Date)
        /// Nothing is waiting: only a new message or an outcome changes that.
        case idle
    }

    /// What became of a delivered message.
    enum Resolution: Sendable, Hashable {
        case acknowledged
        case retrying(at: Date)
        /// Moved to `queue`, under a new sequence number, or kept aside when `queue` is nil.
        case deadLettered(queue: String?, attempts: Int)
    }

    private(set) var settings: [String: QueueSettings]
    private var waiting: [UInt64: Entry] = [:]
    private var inFlight: [UInt64: Entry] = [:]
    private var inFlightCount: [String: Int] = [:]
    /// Per queue, the waiting messages by due time; an item whose entry left or changed is skipped when reached.
    private var schedules: [String: DueHeap] = [:]
    private(set) var deadLetters: [UInt64: DeadLetter] = [:]
    private(set) var nextSequence: UInt64 = 1

    /// A machine for `queues` in the state `records` leave it in.
    init(queues: [QueueSettings], records: some Sequence<EventRecord> = []) {
        settings = Dictionary(queues.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        // No record starts a delivery, so a message that was in flight when the log was written is waiting again.
        for record in records { apply(record) }
        schedules = [:]
        for (sequence, entry) in waiting { schedule(sequence, entry) }
    }

    /// How many messages wait or are being delivered.
    var liveCount: Int { waiting.count + inFlight.count }

    /// How many deliveries of `queue` are in flight.
    func inFlightCount(of queue: String) -> Int { inFlightCount[queue, default: 0] }

    /// Takes `message` in: due at `notBefore`, or after its queue's delay. Nil when the queue is unknown.
    mutating func accept(_ message: QueueMessage, notBefore: Date?, at now: Date) -> EventRecord? {
        guard let queue = settings[message.queue] else { return nil }
        let record = EventRecord.accepted(
            sequence: nextSequence,
            message: message,
            attempt: 1,
            dueAt: notBefore ?? now.addingTimeInterval(queue.delay.timeInterval)
        )
        apply(record)
        return record
    }

    /// The next delivery due at `now`, marked in flight; or how long to wait.
    mutating func next(at now: Date) -> Decision {
        var earliest: Date?
        for name in schedules.keys.sorted() {
            guard let queue = settings[name], inFlightCount[name, default: 0] < queue.concurrency else { continue }
            while let item = schedules[name]?.first {
                guard let entry = waiting[item.sequence], entry.dueAt == item.dueAt else {
                    _ = schedules[name]?.removeFirst()
                    continue
                }
                guard entry.dueAt <= now else {
                    earliest = min(earliest ?? entry.dueAt, entry.dueAt)
                    break
                }
                _ = schedules[name]?.removeFirst()
                waiting[item.sequence] = nil
                inFlight[item.sequence] = entry
                inFlightCount[name, default: 0] += 1
                return .deliver(sequence: item.sequence, message: entry.message, attempt: entry.attempt)
            }
        }
        return earliest.map { .wait(until: $0) } ?? .idle
    }

    /// Records how delivery `sequence` ended: acknowledged, retried after the backoff, or dead-lettered. Nil when
    /// the delivery is not in flight.
    mutating func complete(
        _ sequence: UInt64,
        with outcome: DeliveryOutcome,
        at now: Date
    ) -> (record: EventRecord, resolution: Resolution)? {
        guard let entry = inFlight[sequence], let queue = settings[entry.message.queue] else { return nil }
        let failure: DeliveryFailure
        let retried: Bool
        switch outcome {
        case .status(let status) where EventContract.isAcknowledged(status: status):
            apply(.acknowledged(sequence: sequence))
            return (.acknowledged(sequence: sequence), .acknowledged)
        case .status(let status):
            failure = .status(status)
            retried = EventContract.isRetried(status: status)
        case .transportError(let reason):
            failure = .transport(reason)
            retried = true
        }
        if retried && entry.attempt <= queue.retries {
            let retryAt = now.addingTimeInterval(queue.backoff.delay(afterAttempt: entry.attempt).timeInterval)
            let record = EventRecord.failed(
                sequence: sequence,
                attempt: entry.attempt,
                failure: failure,
                retryAt: retryAt
            )
            apply(record)
            return (record, .retrying(at: retryAt))
        }
        let target = queue.deadLetter.flatMap { settings[$0] == nil ? nil : $0 }
        let record = EventRecord.deadLettered(
            sequence: sequence,
            attempts: entry.attempt,
            failure: failure,
            at: now,
            movedTo: target == nil ? nil : nextSequence
        )
        apply(record)
        return (record, .deadLettered(queue: target, attempts: entry.attempt))
    }

    /// Sends dead letter `sequence` again to its queue, as attempt 1 due now. Nil when there is no such letter.
    mutating func replay(_ sequence: UInt64, at now: Date) -> EventRecord? {
        guard deadLetters[sequence] != nil else { return nil }
        let record = EventRecord.replayed(sequence: sequence, dueAt: now)
        apply(record)
        return record
    }

    /// The records that rebuild the current state, for compaction: in-flight deliveries are written as waiting.
    func liveRecords() -> [EventRecord] {
        var records: [EventRecord] = []
        let live = waiting.merging(inFlight) { first, _ in first }
        for sequence in live.keys.sorted() {
            let entry = live[sequence]!
            records.append(
                .accepted(sequence: sequence, message: entry.message, attempt: entry.attempt, dueAt: entry.dueAt)
            )
        }
        for sequence in deadLetters.keys.sorted() {
            let letter = deadLetters[sequence]!
            records.append(
                .accepted(
                    sequence: sequence,
                    message: letter.message,
                    attempt: letter.attempts,
                    dueAt: letter.deadLetteredAt
                )
            )
            records.append(
                .deadLettered(
                    sequence: sequence,
                    attempts: letter.attempts,
                    failure: letter.lastFailure,
                    at: letter.deadLetteredAt,
                    movedTo: nil
                )
            )
        }
        return records
    }

    /// Changes the state as `record` says; records about unknown messages change nothing, so a log whose tail was
    /// cut still folds.
    mutating func apply(_ record: EventRecord) {
        switch record {
        case .accepted(let sequence, let message, let attempt, let dueAt):
            nextSequence = max(nextSequence, sequence + 1)
            let entry = Entry(message: message, attempt: attempt, dueAt: dueAt)
            waiting[sequence] = entry
            schedule(sequence, entry)
        case .failed(let sequence, let attempt, _, let retryAt):
            guard var entry = take(sequence) else { return }
            entry.attempt = attempt + 1
            entry.dueAt = retryAt
            waiting[sequence] = entry
            schedule(sequence, entry)
        case .acknowledged(let sequence):
            _ = take(sequence)
        case .deadLettered(let sequence, let attempts, let failure, let at, let movedTo):
            guard let entry = take(sequence) else { return }
            if let movedTo, let target = settings[entry.message.queue]?.deadLetter {
                var message = entry.message
                message.origin = DeadLetterOrigin(queue: message.queue, attempts: attempts, lastFailure: failure)
                message.queue = target
                message.attributes[EventContract.Extension.queue] = target
                apply(.accepted(sequence: movedTo, message: message, attempt: 1, dueAt: at))
            } else {
                deadLetters[sequence] = DeadLetter(
                    sequence: sequence,
                    message: entry.message,
                    attempts: attempts,
                    lastFailure: failure,
                    deadLetteredAt: at
                )
            }
        case .replayed(let sequence, let dueAt):
            guard let letter = deadLetters.removeValue(forKey: sequence) else { return }
            apply(.accepted(sequence: sequence, message: letter.message, attempt: 1, dueAt: dueAt))
        }
    }

    /// Removes `sequence` from the waiting or in-flight messages.
    private mutating func take(_ sequence: UInt64) -> Entry? {
        if let entry = inFlight.removeValue(forKey: sequence) {
            inFlightCount[entry.message.queue, default: 0] -= 1
            return entry
        }
        return waiting.removeValue(forKey: sequence)
    }

    private mutating func schedule(_ sequence: UInt64, _ entry: Entry) {
        schedules[entry.message.queue, default: DueHeap()].insert(DueHeap.Item(dueAt: entry.dueAt, sequence: sequence))
    }
}

/// A binary min-heap of due times: the machine's per-queue schedule, so that finding the next due message of a
/// long queue takes logarithmic time.
struct DueHeap: Sendable, Hashable {
    struct Item: Sendable, Hashable, Comparable {
        var dueAt: Date
        var sequence: UInt64

        static func < (lhs: Item, rhs: Item) -> Bool {
            (lhs.dueAt, lhs.sequence) < (rhs.dueAt, rhs.sequence)
        }
    }

    private var items: [Item] = []

    var first: Item? { items.first }

    mutating func insert(_ item: Item) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeFirst() -> Item? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let first = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count && items[left] < items[smallest] { smallest = left }
            if right < items.count && items[right] < items[smallest] { smallest = right }
            guard smallest != parent else { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}
