import AgnostBundle
import Foundation
import Testing

@testable import AgnostEvents

@Suite struct DeliveryMachineTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func message(_ id: String, queue: String = "jobs") -> QueueMessage {
        QueueMessage(
            queue: queue,
            attributes: [
                "specversion": "1.0", "id": id, "source": "/agnost/app-v1", "type": "t", "agnostqueue": queue,
            ],
            contentType: "text/plain",
            body: Array(id.utf8)
        )
    }

    func settings(
        retries: Int = 2,
        delay: Duration = .zero,
        concurrency: Int = 8,
        deadLetter: String? = nil
    ) -> [QueueSettings] {
        [
            QueueSettings(
                name: "jobs",
                retries: retries,
                delay: delay,
                concurrency: concurrency,
                backoff: Backoff(base: .seconds(1), cap: .seconds(3)),
                deadLetter: deadLetter
            ),
            QueueSettings(name: "failed", retries: 0),
        ]
    }

    @Test func aNewMessageIsDeliveredAsAttemptOneAndAcknowledgedBy2xx() throws {
        var machine = DeliveryMachine(queues: settings())
        #expect(machine.next(at: start) == .idle)
        #expect(machine.accept(message("a"), notBefore: nil, at: start) != nil)
        guard case .deliver(let sequence, let delivered, let attempt) = machine.next(at: start) else {
            Issue.record("nothing to deliver")
            return
        }
        #expect(delivered.id == "a")
        #expect(attempt == 1)
        #expect(machine.next(at: start) == .idle)
        let resultValue = machine.complete(sequence, with: .status(202), at: start)
        let result = try #require(resultValue)
        #expect(result.resolution == .acknowledged)
        #expect(machine.liveCount == 0)
        #expect(machine.complete(sequence, with: .status(200), at: start) == nil)
    }

    @Test func theQueueDelayAndAMessagesOwnNotBeforeHoldItBack() {
        var machine = DeliveryMachine(queues: settings(delay: .seconds(10)))
        _ = machine.accept(message("delayed"), notBefore: nil, at: start)
        _ = machine.accept(message("own"), notBefore: start.addingTimeInterval(4), at: start)
        #expect(machine.next(at: start) == .wait(until: start.addingTimeInterval(4)))
        guard case .deliver(_, let first, _) = machine.next(at: start.addingTimeInterval(4)) else {
            Issue.record("the message with its own time was not due")
            return
        }
        #expect(first.id == "own")
        #expect(machine.next(at: start.addingTimeInterval(9)) == .wait(until: start.addingTimeInterval(10)))
        guard case .deliver(_, let second, _) = machine.next(at: start.addingTimeInterval(10)) else {
            Issue.record("the delayed message was not due")
            return
        }
        #expect(second.id == "delayed")
    }

    @Test func retriableFailuresBackOffExponentiallyUpToTheCapThenDeadLetterAside() throws {
        var machine = DeliveryMachine(queues: settings(retries: 3))
        _ = machine.accept(message("m"), notBefore: nil, at: start)
        var now = start
        var waits: [TimeInterval] = []
        for attempt in 1...3 {
            guard case .deliver(let sequence, _, let number) = machine.next(at: now) else {
                Issue.record("attempt \(attempt) not due")
                return
            }
            #expect(number == attempt)
            let resultValue = machine.complete(sequence, with: .status(503), at: now)
            let result = try #require(resultValue)
            guard case .retrying(let at) = result.resolution else {
                Issue.record("attempt \(attempt) was not retried: \(result.resolution)")
                return
            }
            waits.append(at.timeIntervalSince(now))
            #expect(machine.next(at: now) == .wait(until: at))
            now = at
        }
        #expect(waits == [1, 2, 3])
        guard case .deliver(let sequence, _, 4) = machine.next(at: now) else {
            Issue.record("the last attempt was not due")
            return
        }
        let lastValue = machine.complete(sequence, with: .transportError("refused"), at: now)
        let last = try #require(lastValue)
        #expect(last.resolution == .deadLettered(queue: nil, attempts: 4))
        let letter = try #require(machine.deadLetters[sequence])
        #expect(letter.attempts == 4)
        #expect(letter.lastFailure == .transport("refused"))
        #expect(machine.next(at: now.addingTimeInterval(3600)) == .idle)
    }

    @Test func aPermanentFailureIsDeadLetteredAtOnceIntoTheDeadLetterQueue() throws {
        var machine = DeliveryMachine(queues: settings(retries: 5, deadLetter: "failed"))
        _ = machine.accept(message("bad"), notBefore: nil, at: start)
        guard case .deliver(let sequence, _, _) = machine.next(at: start) else {
            Issue.record("not delivered")
            return
        }
        let resultValue = machine.complete(sequence, with: .status(400), at: start)
        let result = try #require(resultValue)
        #expect(result.resolution == .deadLettered(queue: "failed", attempts: 1))
        #expect(machine.deadLetters.isEmpty)
        guard case .deliver(let moved, let letter, 1) = machine.next(at: start) else {
            Issue.record("the dead letter queue did not get it")
            return
        }
        #expect(moved != sequence)
        #expect(letter.queue == "failed")
        #expect(letter.id == "bad")
        #expect(letter.body == Data("bad".utf8))
        #expect(letter.attributes["agnostqueue"] == "failed")
        #expect(letter.origin == DeadLetterOrigin(queue: "jobs", attempts: 1, lastFailure: .status(400)))
    }

    @Test func neverMoreInFlightThanTheBound() throws {
        var machine = DeliveryMachine(queues: settings(concurrency: 2))
        for index in 0..<5 { _ = machine.accept(message("m\(index)"), notBefore: nil, at: start) }
        var started: [UInt64] = []
        while case .deliver(let sequence, _, _) = machine.next(at: start) { started.append(sequence) }
        #expect(started.count == 2)
        #expect(machine.inFlightCount(of: "jobs") == 2)
        _ = machine.complete(started[0], with: .status(200), at: start)
        guard case .deliver = machine.next(at: start) else {
            Issue.record("a freed slot was not used")
            return
        }
        #expect(machine.next(at: start) == .idle)
        #expect(machine.inFlightCount(of: "jobs") == 2)
    }

    @Test func restoredStateRedeliversWhatWasInFlightAtTheSameAttempt() throws {
        var machine = DeliveryMachine(queues: settings())
        var records: [EventRecord] = []
        for id in ["a", "b"] {
            let record = machine.accept(message(id), notBefore: nil, at: start)
            records.append(try #require(record))
        }
        guard case .deliver(let first, _, _) = machine.next(at: start) else {
            Issue.record("not delivered")
            return
        }
        let failed = machine.complete(first, with: .status(500), at: start)
        records.append(try #require(failed).record)
        guard case .deliver(let second, _, _) = machine.next(at: start) else {
            Issue.record("second not delivered")
            return
        }
        var restored = DeliveryMachine(queues: settings(), records: records)
        #expect(restored.liveCount == 2)
        guard case .deliver(let again, let message, 1) = restored.next(at: start) else {
            Issue.record("the in-flight message is not due again")
            return
        }
        #expect(again == second)
        #expect(message.id == "b")
        let compacted = DeliveryMachine(queues: settings(), records: machine.liveRecords())
        #expect(compacted.liveCount == 2)
        #expect(compacted.nextSequence == machine.nextSequence)
    }

    @Test func aReplayedDeadLetterStartsOverAndLeavesTheDeadLetters() throws {
        var machine = DeliveryMachine(queues: settings(retries: 0))
        _ = machine.accept(message("x"), notBefore: nil, at: start)
        guard case .deliver(let sequence, _, _) = machine.next(at: start) else {
            Issue.record("not delivered")
            return
        }
        _ = machine.complete(sequence, with: .status(500), at: start)
        #expect(machine.deadLetters.count == 1)
        let records = machine.liveRecords()
        #expect(DeliveryMachine(queues: settings(), records: records).deadLetters[sequence]?.attempts == 1)
        #expect(machine.replay(sequence, at: start) != nil)
        #expect(machine.deadLetters.isEmpty)
        #expect(machine.replay(sequence, at: start) == nil)
        guard case .deliver(sequence, _, 1) = machine.next(at: start) else {
            Issue.record("the replayed message is not due as attempt 1")
            return
        }
    }

    @Test func backoffDoublesFromItsBaseAndStopsAtTheCap() {
        let backoff = Backoff(base: .milliseconds(100), cap: .seconds(1))
        #expect(
            (1...6).map { backoff.delay(afterAttempt: $0) } == [
                .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1),
                .seconds(1),
            ]
        )
        #expect(backoff.delay(afterAttempt: 1_000) == .seconds(1))
    }

    @Test func settingsComeFromTheQueuePlan() {
        let plan = QueuePlan(
            name: "emails",
            handler: "h",
            retries: 4,
            delayMilliseconds: 1500,
            timeoutMilliseconds: 9000,
            deadLetter: "dlq"
        )
        let settings = QueueSettings(plan: plan, concurrency: 3)
        #expect(settings.retries == 4)
        #expect(settings.delay == .milliseconds(1500))
        #expect(settings.timeout == .seconds(9))
        #expect(settings.concurrency == 3)
        #expect(settings.deadLetter == "dlq")
    }
}
