import NIOCore
import Synchronization

/// How a handler run under a deadline ended.
enum DeadlineOutcome<Value: Sendable>: Sendable {
    case finished(Value)
    case timedOut
}

/// Runs `work` in its own task and answers with whichever comes first: its result or the deadline.
///
/// The work gets its own task, rather than a child in a task group, because a group would wait for a handler
/// that ignores cancellation; this way the 504 leaves on time, the handler's task is cancelled, and whatever it
/// eventually returns is dropped. The timer is an event-loop scheduled task, which costs far less than a
/// second sleeping task, and only a handler that suspends needs one.
func runWithDeadline<Value: Sendable>(
    _ timeout: Duration,
    timers: any EventLoopGroup,
    _ work: @escaping @Sendable () async -> Value
) async -> DeadlineOutcome<Value> {
    await withUnsafeContinuation { continuation in
        DeadlineRace(continuation).start(timeout: timeout, timers: timers, work: work)
    }
}

/// The shared state of one race; whoever finishes it first resumes the waiting request.
private final class DeadlineRace<Value: Sendable>: Sendable {
    private enum State {
        case running(work: Task<Void, Never>?, timer: Scheduled<Void>?)
        case finished
    }

    private let continuation: UnsafeContinuation<DeadlineOutcome<Value>, Never>
    private let state = Mutex(State.running(work: nil, timer: nil))

    init(_ continuation: UnsafeContinuation<DeadlineOutcome<Value>, Never>) {
        self.continuation = continuation
    }

    func start(timeout: Duration, timers: any EventLoopGroup, work: @escaping @Sendable () async -> Value) {
        // Immediate: the handler runs on this thread until it first suspends, so one that never suspends costs no
        // executor hop, and is done before a timer would even be needed.
        let task = Task.immediate {
            let value = await work()
            self.finish(.finished(value))
        }
        let suspended = state.withLock { state in
            guard case .running = state else { return false }
            state = .running(work: task, timer: nil)
            return true
        }
        guard suspended else { return }
        let timer = timers.any().scheduleTask(in: TimeAmount(timeout)) {
            self.finish(.timedOut)
        }
        let finishedMeanwhile = state.withLock { state in
            guard case .running(let work, _) = state else { return true }
            state = .running(work: work, timer: timer)
            return false
        }
        if finishedMeanwhile {
            timer.cancel()
        }
    }

    /// The first call wins; later calls are ignored.
    private func finish(_ outcome: DeadlineOutcome<Value>) {
        let handles = state.withLock { state -> (Task<Void, Never>?, Scheduled<Void>?)? in
            guard case .running(let work, let timer) = state else { return nil }
            state = .finished
            return (work, timer)
        }
        guard let (work, timer) = handles else { return }
        switch outcome {
        case .finished: timer?.cancel()
        case .timedOut: work?.cancel()
        }
        continuation.resume(returning: outcome)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
