import Foundation
import Synchronization

/// A long-running child, such as the server `run` supervises, tied to agnost-fn by a lifeline.
///
/// The child gets the read end of a pipe as descriptor 3 and `AGNOST_LIFELINE_FD=3`; agnost-fn alone holds the
/// write end. When agnost-fn ends in any way, `kill -9` included, the kernel closes that end, the child reads
/// end-of-file and shuts down gracefully: a restarted `run` never finds its port taken by an orphan.
///
/// ```swift
/// let server = try SupervisedProcess.start(server.path, environment: ["PORT": "8080"])
/// server.signal(SIGTERM)
/// let status = await server.exitStatus()   // 0 after a graceful stop
/// ```
public final class SupervisedProcess: Sendable {
    /// The variable that tells the child which descriptor is its lifeline.
    public static let lifelineVariable = "AGNOST_LIFELINE_FD"
    static let lifelineDescriptor: Int32 = 3

    public let pid: pid_t
    private let lifeline: Int32
    private let exit: Exit

    /// Starts `executable` with `environment` set over agnost-fn's own; its stdout and stderr are agnost-fn's.
    public static func start(
        _ executable: String,
        environment: [String: String]
    ) throws(CompilerError) -> SupervisedProcess {
        var ends: [Int32] = [-1, -1]
        // Close-on-exec at once (Glibc's pipe2 is not visible to Swift): a build started meanwhile must not hold the
        // write end, or the child would never see end-of-file.
        guard Foundation.pipe(&ends) == 0 else {
            throw CompilerError(.toolFailed, "cannot start \(executable): \(String(cString: strerror(errno)))")
        }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var variables = environment
        variables[lifelineVariable] = String(lifelineDescriptor)
        let pid: pid_t
        do {
            pid = try ProcessRunner.spawn(
                [executable],
                environment: variables,
                output: .inherited,
                passing: [(ends[0], lifelineDescriptor)]
            )
        } catch {
            close(ends[0])
            close(ends[1])
            throw CompilerError(
                .toolFailed,
                "cannot start \(executable): \(String(cString: strerror(error.code)))"
            )
        }
        close(ends[0])
        return SupervisedProcess(pid: pid, lifeline: ends[1])
    }

    private init(pid: pid_t, lifeline: Int32) {
        self.pid = pid
        self.lifeline = lifeline
        self.exit = Exit()
        let exit = self.exit
        // Waiting blocks, so it gets a thread of its own rather than one of the cooperative pool's. It waits without
        // reaping first, and reaps under the lock that `signal` takes, so no signal can reach a reused pid.
        Thread.detachNewThread {
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
            exit.finish {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                return ProcessRunner.exitStatus(fromWaitStatus: status)
            }
        }
    }

    deinit {
        close(lifeline)
    }

    /// Sends `number` to the child, unless it has already been reaped (its pid may then belong to another process).
    public func signal(_ number: Int32) {
        exit.whileRunning { kill(pid, number) }
    }

    /// The child's exit status once it ends, as a shell reports it (128 + the signal for a killed child).
    public func exitStatus() async -> Int32 {
        await exit.value()
    }

    /// Whether the child has ended.
    public var hasExited: Bool { exit.status != nil }
}

/// The child's exit status, set once by the waiting thread, awaited by anyone.
private final class Exit: Sendable {
    private struct State {
        var status: Int32?
        var waiters: [CheckedContinuation<Int32, Never>] = []
    }

    private let state = Mutex(State())

    var status: Int32? { state.withLock { $0.status } }

    func finish(reaping reap: () -> Int32) {
        let (status, waiters) = state.withLock { state in
            let status = reap()
            state.status = status
            defer { state.waiters = [] }
            return (status, state.waiters)
        }
        for waiter in waiters { waiter.resume(returning: status) }
    }

    func value() async -> Int32 {
        await withCheckedContinuation { continuation in
            let known = state.withLock { state -> Int32? in
                if state.status == nil { state.waiters.append(continuation) }
                return state.status
            }
            if let known { continuation.resume(returning: known) }
        }
    }

    /// Runs `body` only while the child has not been reaped; the lock keeps the reaping thread from racing it.
    func whileRunning(_ body: () -> Void) {
        state.withLock { state in
            if state.status == nil { body() }
        }
    }
}
