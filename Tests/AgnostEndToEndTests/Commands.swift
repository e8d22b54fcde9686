import AgnostTestSupport
import Foundation
import Synchronization

/// The end-to-end tests' cache folder; a global, so that the exit handler that removes it captures nothing.
private let endToEndCache = FileManager.default.temporaryDirectory.appendingPathComponent(
    "agnost-e2e-cache-\(getpid())"
).path

/// Runs the built `agnost-fn` (and other programs) as a user would, capturing what they print.
enum Commands {
    struct Outcome {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    /// The `agnost-fn` executable SwiftPM built next to the test bundle.
    static let agnostFn = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("agnost-fn").path

    static func agnost(_ arguments: String..., in directory: URL? = nil) throws -> Outcome {
        try run(agnostFn, arguments, in: directory, environment: environment)
    }

    /// This process's environment with a cache folder of the tests' own, so that the blob locations pushes and
    /// pulls record, and the runtime repositories, never reach the user's `~/.cache`. The folder, tens of megabytes
    /// once a runtime repository is laid out in it, is removed when the test process exits.
    static let environment: [String: String] = {
        atexit { try? FileManager.default.removeItem(atPath: endToEndCache) }
        // libmongoc, linked into agnost-fn, makes /dev/shm/mongoc-<pid> as the process loads and warns on standard
        // error when a process killed earlier left one for the same pid, which the tests' kill -9s do; a known
        // issue of the binary (see the issue's note), kept out of the output the tests compare.
        let isolated = ["XDG_CACHE_HOME": endToEndCache, "MONGOC_DISABLE_SHM": "1"]
        return ProcessInfo.processInfo.environment.merging(isolated) { _, isolated in isolated }
    }()

    /// Runs a command to its end; past `timeout` (a `swift build` that hangs, say) its process group is killed and
    /// that is an error.
    static func run(
        _ executable: String,
        _ arguments: [String],
        in directory: URL? = nil,
        environment: [String: String]? = nil,
        input: String? = nil,
        timeout: Duration = .seconds(900)
    ) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        if let environment { process.environment = environment }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        let deadline = ProcessDeadline(process, after: timeout)
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        let collectedErrors = Mutex(Data())
        let errorReader = Thread { collectedErrors.withLock { $0 = errors.fileHandleForReading.readDataToEndOfFile() } }
        errorReader.start()
        let standardOutput = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorReader.isFinished { usleep(1000) }
        if deadline.cancel() {
            throw E2EFailure("\(executable) \(arguments) did not finish within \(timeout) and was killed")
        }
        return Outcome(
            status: process.terminationStatus,
            standardOutput: String(decoding: standardOutput, as: UTF8.self),
            standardError: String(decoding: collectedErrors.withLock { $0 }, as: UTF8.self)
        )
    }
}

/// A long-running child (a server) whose stdout lines are collected as they come.
final class BackgroundProcess: @unchecked Sendable {
    let process = Process()
    private let lines = LockedLines()

    /// Starts the process, which the kernel kills should this test process die first (setpriv's parent-death
    /// signal); a server that `agnost-fn run` started then stops too, as its lifeline to the CLI closes.
    init(_ executable: String, _ arguments: [String] = [], environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--pdeathsig", "KILL", "--", executable] + arguments
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let lines = self.lines
        // A blocking reader thread: Foundation's readabilityHandler crashes libdispatch when the pipe closes.
        Thread.detachNewThread {
            var partial = ""
            while case let data = output.fileHandleForReading.availableData, !data.isEmpty {
                var parts = (partial + String(decoding: data, as: UTF8.self)).components(separatedBy: "\n")
                partial = parts.removeLast()
                lines.append(parts)
            }
        }
    }

    var output: [String] { lines.all }

    func waitForLine(containing text: String, timeout: Duration = .seconds(60)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = output.first(where: { $0.contains(text) }) { return line }
            usleep(10_000)
        }
        throw E2EFailure("no line containing '\(text)' within \(timeout); output:\n\(output.joined(separator: "\n"))")
    }

    /// The port of the runtime's `listening` line, whether logs are JSON or text.
    ///
    /// - Parameter timeout: long enough for a `run` that builds the project first.
    func waitForPort(timeout: Duration = .seconds(900)) throws -> Int {
        let line = try waitForLine(containing: "listening", timeout: timeout)
        guard let match = line.firstMatch(of: /127\.0\.0\.1:(\d+)/), let port = Int(match.1) else {
            throw E2EFailure("no port in '\(line)'")
        }
        return port
    }

    func stop() throws -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            throw E2EFailure("the process did not exit within 30 s of SIGTERM")
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

private final class LockedLines: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ new: [String]) {
        lines.withLock { $0.append(contentsOf: new) }
    }

    var all: [String] { lines.withLock { $0 } }
}

/// The samples of the checkout, copied into a test's folder so that a test may build and change them.
enum SampleProject {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Copies `samples/NAME`'s `agnost.yaml`, `Package.swift` and `Sources` to `destination`; agnost-fn points its
    /// runtime dependency at this checkout's when it builds it.
    static func copy(_ name: String, to destination: URL) throws {
        try copy(folder: repository.appendingPathComponent("samples/\(name)"), to: destination)
    }

    /// Copies the project in `folder` (a sample, or one of the tests' own under `Tests/AgnostEndToEndTests/Projects`).
    static func copy(folder sample: URL, to destination: URL) throws {
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
        for name in ["agnost.yaml", "Package.swift", "Sources"] {
            try FileManager.default.copyItem(
                at: sample.appendingPathComponent(name),
                to: destination.appendingPathComponent(name)
            )
        }
    }
}

struct E2EFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 100 ms until it holds, or fails saying `what` did not happen within `timeout`.
func waitUntil(_ what: String, timeout: Duration, _ condition: () throws -> Bool) throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return }
        usleep(100_000)
    }
    throw E2EFailure("\(what) did not happen within \(timeout)")
}
