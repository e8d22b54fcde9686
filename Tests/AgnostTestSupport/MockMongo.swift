import Foundation
import Synchronization

/// A MongoDB wire-protocol peer (`Tests/MongoFixture/mockmongo.py`, on Debian's python3-mockupdb) on a free
/// loopback port: it answers libmongoc's handshake, records every other command it receives, and replies as
/// ``Reply`` scripts, else as a server would when all goes well. Stopped, and its folder removed, by ``stop()`` or
/// deinit; it also stops by itself when this process dies, as its stdin then closes.
///
/// ```swift
/// let mongo = try MockMongo(script: [.init("insert", error: 11000, "E11000 duplicate key error")])
/// defer { mongo.stop() }
/// let commands = try mongo.commands()   // [("createIndexes", …), …, ("insert", …)]
/// ```
public final class MockMongo: @unchecked Sendable {
    /// A scripted answer to the next command of a name.
    public struct Reply {
        public var command: String
        public var reply: [String: Any]?

        public init(_ command: String, reply: [String: Any]) {
            self.command = command
            self.reply = reply
        }

        /// An error reply, `{ok: 0, code, errmsg}`.
        public init(_ command: String, error code: Int, _ message: String) {
            self.init(command, reply: ["ok": 0, "code": code, "errmsg": message])
        }

        /// Closing the connection instead of answering.
        public static func hangup(_ command: String) -> Reply { Reply(command: command, reply: nil) }

        private init(command: String, reply: [String: Any]?) {
            self.command = command
            self.reply = reply
        }

        var json: [String: Any] {
            reply.map { ["command": command, "reply": $0] } ?? ["command": command, "hangup": true]
        }
    }

    /// One command as the peer received it: its name and its whole document (relaxed extended JSON).
    public struct Command {
        public var name: String
        public var document: [String: Any]
    }

    public let port: Int
    public var uri: String { "mongodb://127.0.0.1:\(port)/agnost_test" }
    private let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-mockmongo-\(UUID())")
    private let process = Process()
    private let lifeline = Pipe()
    private let errors = LockedData()
    private let stopped = Mutex(false)
    private let lifetime: ProcessDeadline

    /// Starts the peer, which is killed if it still runs after `lifetime`.
    public init(script: [Reply] = [], lifetime: Duration = .seconds(300)) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        do {
            port = try Self.start(process, folder: folder, script: script, lifeline: lifeline, errors: errors)
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
        self.lifetime = ProcessDeadline(process, after: lifetime)
    }

    deinit { stop() }

    /// What the peer wrote to stderr: tracebacks of fixture bugs, for a failing test's message.
    public var stderr: String { String(decoding: errors.contents, as: UTF8.self) }

    /// Every command received so far, in order, but the handshakes.
    public func commands() throws -> [Command] {
        let text = (try? String(contentsOf: folder.appendingPathComponent("commands.jsonl"), encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { line in
            guard let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let name = entry["command"] as? String, let document = entry["document"] as? [String: Any]
            else { throw FixtureFailure("the MongoDB peer's log has a line of another form: \(line)") }
            return Command(name: name, document: document)
        }
    }

    /// The commands received so far named `name`, such as `insert`.
    public func commands(named name: String) throws -> [Command] {
        try commands().filter { $0.name == name }
    }

    /// Stops the peer and removes its folder; later calls do nothing.
    public func stop() {
        guard
            !stopped.withLock({ stopped in
                defer { stopped = true }; return stopped
            })
        else { return }
        // Closing stdin stops it; no signal needed, which matters as the test runner's threads block SIGTERM.
        try? lifeline.fileHandleForWriting.close()
        if process.isRunning {
            let deadline = ProcessDeadline(process, after: .seconds(10))
            process.waitUntilExit()
            deadline.cancel()
        }
        lifetime.cancel()
        try? FileManager.default.removeItem(at: folder)
    }

    private static func start(
        _ process: Process,
        folder: URL,
        script: [Reply],
        lifeline: Pipe,
        errors: LockedData
    ) throws -> Int {
        let scriptPath = folder.appendingPathComponent("script.json")
        try JSONSerialization.data(withJSONObject: script.map(\.json)).write(to: scriptPath)
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../MongoFixture/mockmongo.py").standardized.path
        // Debian's python3, which sees python3-mockupdb, whichever python3 is first on PATH.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            fixture, "--log", folder.appendingPathComponent("commands.jsonl").path, "--script", scriptPath.path,
        ]
        let output = Pipe()
        let errorOutput = Pipe()
        process.standardInput = lifeline
        process.standardOutput = output
        process.standardError = errorOutput
        try process.run()
        // A blocking reader thread: Foundation's readabilityHandler crashes libdispatch when the pipe closes.
        Thread.detachNewThread {
            while case let data = errorOutput.fileHandleForReading.availableData, !data.isEmpty { errors.append(data) }
        }
        let line = LockedData()
        let printed = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let handle = output.fileHandleForReading
            while case let data = handle.readData(ofLength: 1), let byte = data.first, byte != 10 { line.append(data) }
            printed.signal()
            while !handle.availableData.isEmpty {}
        }
        let failure: FixtureFailure
        if printed.wait(timeout: .now() + 20) == .timedOut {
            failure = FixtureFailure("the MongoDB peer did not start within 20 s")
        } else if let ready = try? JSONSerialization.jsonObject(with: line.contents) as? [String: Any],
            let port = ready["port"] as? Int
        {
            return port
        } else {
            failure = FixtureFailure("the MongoDB peer printed no port")
        }
        try? lifeline.fileHandleForWriting.close()
        let deadline = ProcessDeadline(process, after: .seconds(10))
        process.waitUntilExit()
        deadline.cancel()
        throw FixtureFailure("\(failure): \(String(decoding: errors.contents, as: UTF8.self))")
    }
}
