import Dispatch
import Foundation
import Synchronization

/// Kills a child's whole process group if it is still running when its time is up, so that a hung `swift build`
/// fails its test instead of hanging the run.
///
/// Foundation starts every child in a process group of its own, which its children (the compiler processes of
/// `swift build`, say) share, so killing the group leaves none of them behind.
///
/// ```swift
/// try process.run()
/// let deadline = ProcessDeadline(process, after: .seconds(60))
/// process.waitUntilExit()
/// if deadline.cancel() { throw FixtureFailure("… did not finish within 60 s") }
/// ```
public final class ProcessDeadline {
    private let expiry: DispatchWorkItem
    private let fired = Flag()
    public let timeout: Duration

    /// Starts the clock for `process`, which must already be running.
    public init(_ process: Process, after timeout: Duration) {
        let group = process.processIdentifier
        let fired = self.fired
        expiry = DispatchWorkItem {
            fired.set()
            kill(-group, SIGKILL)
        }
        self.timeout = timeout
        let (seconds, attoseconds) = timeout.components
        DispatchQueue.global().asyncAfter(
            deadline: .now() + .milliseconds(Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)),
            execute: expiry
        )
    }

    /// Stops the clock once the child has exited; true when it had to be killed.
    @discardableResult
    public func cancel() -> Bool {
        expiry.cancel()
        return fired.isSet
    }

    deinit { expiry.cancel() }
}

/// A flag set once, from any thread.
private final class Flag: Sendable {
    private let value = Mutex(false)

    func set() { value.withLock { $0 = true } }

    var isSet: Bool { value.withLock { $0 } }
}
