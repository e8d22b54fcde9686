import NIOCore
import Synchronization

/// How a handler run under a deadline ended.
enum DeadlineOutcome<Value: Sendable>: Sendable {
    case finished(Value)
    case timedOut
    /// The caller's own task was cancelled first (the server is shutting down past its grace period).
    case cancelled
}

/// Runs `work` in its own task and answers with whichever comes first: its result, the deadline, or
/// cancellation of the caller.
///
/// The work gets its own task, rather than a child in a task group, because a group would wait for a handler
/// that ignores cancellation; this way the 504 leaves on time, the handler's task is cancelled, and whatever it
/// eventually returns is dropped. The timer is an event-loop scheduled task, which costs far less than a
/// second sleeping task per request.
func runWithDeadline<Value: Sendable>(
    _ timeout: Duration,
    timers: any EventLoopGroup,
    _ work: @escaping @Sendable () async -> Value
) async -> DeadlineOutcome<Value> {
    let race = DeadlineRace<Value>()
    return await withTaskCancellationHandler {
        await withUnsafeContinuation { continuation in
            race.start(continuation, timeout: timeout, timers: timers, work: work)
        }
    } onCancel: {
        race.finish(.cancelled)
    }
}

/// The shared state of one race; whoever finishes it first resumes the waiting request.
private final class DeadlineRace<Value: Sendable>: Sendable {
    private enum State {
        case notStarted
        case running(
            UnsafeContinuation<DeadlineOutcome<Value>, Never>,
            work: Task<Void, Never>?,
            timer: Scheduled<Void>?
        )
        /// Cancelled before `start`; `start` answers at once.
        case cancelledEarly
        case finished
    }

    private let state = Mutex(State.notStarted)

    func start(
        _ continuation: UnsafeContinuation<DeadlineOutcome<Value>, Never>,
        timeout: Duration,
        timers: any EventLoopGroup,
        work: @escaping @Sendable () async -> Value
    ) {
        let cancelledEarly = state.withLock { state in
            if case .cancelledEarly = state {
                state = .finished
                return true
            }
            state = .running(continuation, work: nil, timer: nil)
            return false
        }
        if cancelledEarly {
            continuation.resume(returning: .cancelled)
            return
        }
        let task = Task {
            let value = await work()
            self.finish(.finished(value))
        }
        let timer = timers.any().scheduleTask(in: TimeAmount(timeout)) {
            self.finish(.timedOut)
        }
        let alreadyFinished = state.withLock { state in
            guard case .running(let continuation, _, _) = state else { return true }
            state = .running(continuation, work: task, timer: timer)
            return false
        }
        if alreadyFinished {
            // Won by the timer or a cancellation before the handles were stored: stop both; either may be done.
            timer.cancel()
            task.cancel()
        }
    }

    /// The first call wins; later calls are ignored.
    func finish(_ outcome: DeadlineOutcome<Value>) {
        let winner = state.withLock {
            state -> (UnsafeContinuation<DeadlineOutcome<Value>, Never>, Task<Void, Never>?, Scheduled<Void>?)? in
            switch state {
            case .notStarted:
                state = .cancelledEarly
                return nil
            case .running(let continuation, let work, let timer):
                state = .finished
                return (continuation, work, timer)
            case .cancelledEarly, .finished:
                return nil
            }
        }
        guard let (continuation, work, timer) = winner else { return }
        switch outcome {
        case .finished: timer?.cancel()
        case .timedOut, .cancelled: work?.cancel()
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
