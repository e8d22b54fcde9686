import Dispatch
import Foundation

/// Runs a tool to completion with stdout and stderr merged, optionally passing output on as it arrives, and stops
/// it when it runs past its deadline.
///
/// The tool stays in agnost-fn's process group, as a shell would run it, so Ctrl-C on a terminal, or a supervisor
/// stopping the group, reaches `swift build` and every compiler it started. (Foundation's `Process` puts each child
/// in a group of its own, which Ctrl-C never reaches.)
enum ProcessRunner {
    struct Outcome {
        let status: Int32
        let output: String
    }

    /// How long a tool may run before it is stopped: SIGTERM, then SIGKILL if it is still there `grace` later.
    struct Deadline {
        var timeout: Duration
        var grace: Duration = .seconds(10)

        /// For tools that answer at once (`swift --version`, `swift package dump-package`).
        static let quick = Deadline(timeout: .seconds(300))
    }

    /// - Parameters:
    ///   - arguments: the command and its arguments, looked up on `PATH`.
    ///   - directory: where it runs; this process's directory when nil.
    ///   - environment: variables set over this process's own.
    static func run(
        _ arguments: [String],
        in directory: URL? = nil,
        environment: [String: String] = [:],
        deadline: Deadline = .quick,
        onOutput: ((String) -> Void)? = nil
    ) throws(CompilerError) -> Outcome {
        let command = arguments.joined(separator: " ")
        var pipe: [Int32] = [-1, -1]
        guard Foundation.pipe(&pipe) == 0 else {
            throw CompilerError(.toolFailed, "could not run '\(command)': \(String(cString: strerror(errno)))")
        }
        let child: pid_t
        do {
            child = try spawn(arguments, in: directory, environment: environment, output: .descriptor(pipe[1]))
        } catch {
            close(pipe[0])
            close(pipe[1])
            // As a shell reports a command it cannot find, so that callers tell "not installed" from "failed".
            if error.code == ENOENT { return Outcome(status: 127, output: "\(arguments[0]): command not found\n") }
            throw CompilerError(.toolFailed, "could not run '\(command)': \(String(cString: strerror(error.code)))")
        }
        close(pipe[1])
        let stopped = Stopper(child: child, deadline: deadline)
        // Read until EOF before waiting: a full pipe would otherwise block the tool forever. Once the tool has been
        // killed, what it started may still hold the pipe open, so the wait for EOF ends there too.
        var collected: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            var ready = pollfd(fd: pipe[0], events: Int16(POLLIN), revents: 0)
            let polled = poll(&ready, 1, 200)
            if polled < 0 && errno == EINTR { continue }
            if polled == 0 {
                if stopped.wasKilled { break }
                continue
            }
            let count = buffer.withUnsafeMutableBytes { read(pipe[0], $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            collected += buffer[..<count]
            onOutput?(String(decoding: buffer[..<count], as: UTF8.self))
        }
        close(pipe[0])
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        if stopped.finish() {
            throw CompilerError(
                .toolFailed,
                "'\(command)' did not finish within \(deadline.timeout) and was stopped",
                toolOutput: String(decoding: collected, as: UTF8.self).split(separator: "\n").suffix(30).map(
                    String.init
                )
            )
        }
        return Outcome(status: exitStatus(fromWaitStatus: status), output: String(decoding: collected, as: UTF8.self))
    }

    struct SpawnError: Error {
        /// The `errno` posix_spawnp returned.
        let code: Int32
    }

    /// Where a child's stdout and stderr go.
    enum Output {
        /// Both onto this descriptor.
        case descriptor(Int32)
        /// Onto agnost-fn's own, so a server's logs interleave with what the CLI prints.
        case inherited
    }

    /// Starts `arguments` with stdin from `/dev/null`, its output as `output` says, and `passing` descriptors
    /// moved to the numbers given (`(source, target)`), all others closed by their close-on-exec flags.
    static func spawn(
        _ arguments: [String],
        in directory: URL? = nil,
        environment: [String: String],
        output: Output,
        passing descriptors: [(source: Int32, target: Int32)] = []
    ) throws(SpawnError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if case .descriptor(let output) = output {
            posix_spawn_file_actions_adddup2(&actions, output, 1)
            posix_spawn_file_actions_adddup2(&actions, output, 2)
        }
        for (source, target) in descriptors {
            posix_spawn_file_actions_adddup2(&actions, source, target)
        }
        // Signals agnost-fn ignores or blocks would otherwise stay ignored or blocked in the tool.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        var noneBlocked = sigset_t()
        sigemptyset(&noneBlocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &noneBlocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        // Glibc's posix_spawn_file_actions_addchdir_np is not visible to Swift; env(1) changes the folder instead.
        let command = directory.map { ["env", "-C", $0.path] + arguments } ?? arguments
        // The C strings are owned allocations that live until posix_spawnp has copied them into the child.
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let result: Int32
        if environment.isEmpty {
            result = posix_spawnp(&child, command[0], &actions, &attributes, argv, environ)
        } else {
            let merged = ProcessInfo.processInfo.environment.merging(environment) { _, set in set }
            let envp = merged.map { strdup("\($0)=\($1)") } + [nil]
            defer { envp.forEach { free($0) } }
            result = posix_spawnp(&child, command[0], &actions, &attributes, argv, envp)
        }
        guard result == 0 else { throw SpawnError(code: result) }
        return child
    }

    /// A wait status as a shell reports it: the exit code, or 128 + the signal that ended the process.
    static func exitStatus(fromWaitStatus status: Int32) -> Int32 {
        (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }
}

/// Stops a child that runs past its deadline: SIGTERM at the deadline, SIGKILL after the grace period.
private final class Stopper {
    private let terminate: DispatchWorkItem
    private let forceKill: DispatchWorkItem
    private let state = StopState()

    init(child: pid_t, deadline: ProcessRunner.Deadline) {
        let state = self.state
        let forceKill = DispatchWorkItem {
            state.markKilled()
            kill(child, SIGKILL)
        }
        terminate = DispatchWorkItem {
            state.markExpired()
            kill(child, SIGTERM)
            DispatchQueue.global().asyncAfter(deadline: .now() + deadline.grace.dispatchInterval, execute: forceKill)
        }
        self.forceKill = forceKill
        DispatchQueue.global().asyncAfter(deadline: .now() + deadline.timeout.dispatchInterval, execute: terminate)
    }

    /// Called once the child has been reaped, so that its pid, which may be reused, is never signalled again.
    /// True when the deadline had passed.
    func finish() -> Bool {
        terminate.cancel()
        forceKill.cancel()
        return state.flags.expired
    }

    /// Whether the grace period ran out too and the child was sent SIGKILL.
    var wasKilled: Bool { state.flags.killed }
}

/// What the deadline did, set from Dispatch's threads and read from the runner's.
private final class StopState: @unchecked Sendable {
    private let lock = NSLock()
    private var expired = false
    private var killed = false

    func markExpired() { lock.withLock { expired = true } }

    func markKilled() { lock.withLock { killed = true } }

    var flags: (expired: Bool, killed: Bool) { lock.withLock { (expired, killed) } }
}

extension Duration {
    fileprivate var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = components
        return .milliseconds(Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}
