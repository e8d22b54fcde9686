import AgnostHTTP
import AgnostTestSupport
import Foundation
import Synchronization
import Testing

/// The suite's folder, removed after it.
private let eventsWorkspace = FileManager.default.temporaryDirectory.appendingPathComponent(
    "agnost-e2e-events-\(UUID().uuidString)"
)

/// Queues and cron jobs under `agnost-fn run`, whose event hub plays Broker and PingSource, on the project
/// `Projects/events`: its handlers append a line per delivery to the file `RECORD_FILE` names.
///
/// The tests share one copy of the project, built by the first `run`; they run one at a time because each runs it.
@Suite(.serialized, .removedAfterwards(eventsWorkspace))
struct EventsEndToEndTests {
    static let project = eventsWorkspace.appendingPathComponent("events")

    static let copied: Result<Void, E2EFailure> = {
        do {
            let source = SampleProject.repository.appendingPathComponent("Tests/AgnostEndToEndTests/Projects/events")
            try SampleProject.copy(folder: source, to: project)
            return .success(())
        } catch {
            return .failure(E2EFailure("cannot copy the events project: \(error)"))
        }
    }()

    /// A record file of the test's own, and `agnost-fn run` writing to it.
    struct Run {
        let record: URL
        let process: BackgroundProcess
        let port: Int

        /// The lines handlers appended, split into words.
        func lines() -> [[String]] {
            ((try? String(contentsOf: record, encoding: .utf8)) ?? "").split(separator: "\n")
                .map { $0.split(separator: " ").map(String.init) }
        }

        func lines(_ kind: String) -> [[String]] { lines().filter { $0.first == kind } }
    }

    func startRun(record: URL? = nil, watch: Bool = false) throws -> Run {
        try Self.copied.get()
        let record = record ?? eventsWorkspace.appendingPathComponent("record-\(UUID().uuidString)")
        var environment = Commands.environment.filter { $0.key != "AGNOST_LOG_FORMAT" }
        environment["RECORD_FILE"] = record.path
        let process = try BackgroundProcess(
            Commands.agnostFn,
            ["run", "--path", Self.project.path, "--port", "0"] + (watch ? ["--watch"] : []),
            environment: environment
        )
        return Run(record: record, process: process, port: try process.waitForPort())
    }

    func invoke(_ arguments: String...) throws -> Commands.Outcome {
        try Commands.run(
            Commands.agnostFn,
            ["invoke", "--path", Self.project.path] + arguments,
            environment: Commands.environment,
            timeout: .seconds(120)
        )
    }

    /// 1,000 messages a handler sent and 20 that `invoke --queue` sent, each acknowledged once on disk, outlive
    /// `kill -9`s at random moments of their delivery, of the CLI (which takes its server with it) or of the server
    /// alone: every one is handled in the end, and only messages in hand at a kill are handled twice.
    @Test func acknowledgedMessagesOutliveKill9sOfTheRunAndOfTheServer() throws {
        var run = try startRun()
        let invoked = Mutex<[String]>([])
        let sent = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 20) { index in
            guard let outcome = try? invoke("--queue", "work", "--data", #"{"invoked":\#(index)}"#),
                let match = outcome.standardError.firstMatch(of: /message ([-0-9a-f]+), attempt 1: handled, 200/)
            else { return }
            invoked.withLock { $0.append(String(match.1)) }
        }
        // Four senders of 250 messages each; every send returns once the hub has the message on disk.
        let port = run.port
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let response = try? withHTTPClient { client in
                try client.send(
                    HTTPClientRequest(
                        method: "POST",
                        url: "http://127.0.0.1:\(port)/work/250",
                        timeout: .seconds(300)
                    )
                )
            }
            if response?.status == 202 { sent.withLock { $0 += 250 } }
        }
        #expect(invoked.withLock { $0.count } == 20)
        #expect(sent.withLock { $0 } == 1000)

        var kills: [String] = []
        for round in 0..<4 {
            let moment = Double.random(in: 0.2...2.0)
            usleep(UInt32(moment * 1_000_000))
            let handled = Set(run.lines("work").map { $0[1] }).count
            guard handled < 1020 else { break }
            if round % 2 == 0 {
                kills.append("the CLI after \(moment) s with \(handled) handled")
                kill(run.process.process.processIdentifier, SIGKILL)
            } else {
                let children = try Commands.run(
                    "/usr/bin/pgrep",
                    ["-P", String(run.process.process.processIdentifier)]
                )
                let server = try #require(Int32(children.standardOutput.split(separator: "\n").first ?? ""))
                kills.append("the server after \(moment) s with \(handled) handled")
                kill(server, SIGKILL)
            }
            let killed = run
            try waitUntil("the killed run ends", timeout: .seconds(30)) {
                !killed.process.process.isRunning
                    && (try? withHTTPClient { client in
                        try client.send(HTTPClientRequest(url: "http://127.0.0.1:\(killed.port)/agnost/health"))
                    }) == nil
            }
            run = try startRun(record: run.record)
        }
        #expect(!kills.isEmpty, "everything was handled before the first kill; the test proves nothing")
        let final = run
        try waitUntil("all 1,020 messages are handled", timeout: .seconds(300)) {
            Set(final.lines("work").map { $0[1] }).count >= 1020
        }
        let handled = final.lines("work").map { $0[1] }
        #expect(Set(handled).count == 1020, "kills: \(kills)")
        #expect(Set(invoked.withLock { $0 }).isSubset(of: Set(handled)))
        // At least once, and twice only for what was in hand: at most 32 deliveries of a queue at a time (the hub's
        // default bound), per kill.
        #expect(handled.count - Set(handled).count <= 32 * kills.count, "kills: \(kills)")
        #expect(try final.process.stop() == 0)
    }

    /// An every-minute job fires at the minute, as PingSource's event; a disabled one never on schedule, yet on
    /// request.
    @Test func cronJobsFireAtTheMinuteAndDisabledOnesOnlyOnRequest() throws {
        let run = try startRun()
        try waitUntil("the every-minute job fires", timeout: .seconds(75)) { !run.lines("tick").isEmpty }
        let tick = try #require(run.lines("tick").first)
        #expect(tick[1] == "every-minute")
        let scheduled = try #require(Double(tick[2]))
        let ran = try #require(Double(tick[3]))
        #expect(scheduled.truncatingRemainder(dividingBy: 60) == 0, "scheduled at \(scheduled)")
        #expect(ran - scheduled >= 0 && ran - scheduled < 2, "ran \(ran - scheduled) s after the minute")
        #expect(!run.lines("tick").contains { $0[1] == "never" })
        _ = try run.process.waitForLine(containing: "cron every-minute: 200")

        let fired = try invoke("--cron", "never")
        #expect(fired.status == 0, "\(fired.standardError)")
        #expect(fired.standardError.contains("cron never: 200"), "\(fired.standardError)")
        #expect(run.lines("tick").contains { $0[1] == "never" })
        #expect(try run.process.stop() == 0)
    }

    /// invoke --queue reports the first delivery; retries keep the id and end in the dead-letter queue; a
    /// permanent failure is kept as a dead letter, listed and replayed; a delay holds a message back.
    @Test func retriesDeadLettersAndDelays() throws {
        let run = try startRun()
        let handled = try invoke("--queue", "work", "--data", #"{"title":"milk"}"#)
        #expect(handled.status == 0, "\(handled.standardError)")
        #expect(handled.standardError.contains("attempt 1: handled, 200"), "\(handled.standardError)")

        let flaky = try invoke("--queue", "flaky")
        #expect(flaky.status == 1)
        #expect(flaky.standardError.contains("failed with 503; the hub retries it"), "\(flaky.standardError)")
        try waitUntil("flaky's message moves to parked", timeout: .seconds(60)) { !run.lines("parked").isEmpty }
        let attempts = run.lines("flaky")
        #expect(attempts.map { $0[2] } == ["1", "2", "3"])
        #expect(Set(attempts.map { $0[1] }).count == 1)
        #expect(run.lines("parked").first?[1] == attempts.first?[1])

        let refused = try invoke("--queue", "work", "--data", #"{"refuse":true}"#)
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("a permanent failure"), "\(refused.standardError)")
        let listed = try Commands.run(
            Commands.agnostFn,
            ["queue", "dead-letters", "--path", Self.project.path, "--output", "json"],
            environment: Commands.environment
        )
        #expect(listed.status == 0, "\(listed.standardError)")
        let letters = try #require(
            try JSONSerialization.jsonObject(with: Data(listed.standardOutput.utf8)) as? [[String: Any]]
        )
        #expect(letters.count == 1)
        #expect(letters.first?["id"] as? String == run.lines("refused").first?[1])
        #expect(letters.first?["lastFailure"] as? String == "status 400")
        let replayed = try Commands.run(
            Commands.agnostFn,
            ["queue", "dead-letters", "--path", Self.project.path, "--replay", "all"],
            environment: Commands.environment
        )
        #expect(replayed.status == 0, "\(replayed.standardError)")
        try waitUntil("the replayed message is delivered again", timeout: .seconds(30)) {
            run.lines("refused").count == 2
        }
        #expect(run.lines("refused").map { $0[2] } == ["1", "1"])

        let started = ContinuousClock.now
        let delayed = try invoke("--queue", "work", "--delay", "2s")
        let waited = ContinuousClock.now - started
        #expect(delayed.status == 0, "\(delayed.standardError)")
        #expect(waited >= .seconds(2) && waited < .seconds(12), "answered after \(waited)")
        #expect(try run.process.stop() == 0)

        let unknown = try invoke("--queue", "nope")
        #expect(unknown.status != 0)
        #expect(unknown.standardError.contains("has no queue 'nope'; its queues are: work, flaky, parked"))
        let noRun = try invoke("--cron", "every-minute")
        #expect(noRun.status == 1)
        #expect(noRun.standardError.contains("no 'agnost-fn run' serves events-v1"), "\(noRun.standardError)")
    }

    /// Under --watch, a change of a queue's settings restarts the hub on the same log: a message held back by its
    /// delay across the restart is delivered by the new hub.
    /// `agnost.resources.yaml` gives the handlers their resources' settings; a file with errors is refused with
    /// every one, by line, before the server starts.
    @Test func theSettingsFileGivesHandlersTheirResources() throws {
        try Self.copied.get()
        let file = Self.project.appendingPathComponent("agnost.resources.yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try "store:\n  host: 127.0.0.1\n  hots: typo\n  port: 99999\nelse:\n  uri: redis://x\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let refused = try Commands.run(
            Commands.agnostFn,
            ["run", "--path", Self.project.path, "--port", "0"],
            environment: Commands.environment,
            timeout: .seconds(600)
        )
        #expect(refused.status == 1)
        for expected in [
            "agnost.resources.yaml:3:3: error: unknown key 'hots'", "agnost.resources.yaml:4:9: error: port",
            "agnost.resources.yaml:5:1: error: unknown key 'else'",
        ] {
            #expect(refused.standardError.contains(expected), "\(refused.standardError)")
        }

        try "store:\n  host: 127.0.0.1\n  port: 6390\n  password: \"12345678\"\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let run = try startRun()
        let response = try withHTTPClient { client in
            try client.send(HTTPClientRequest(url: "http://127.0.0.1:\(run.port)/store"))
        }
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "127.0.0.1:6390 8")
        #expect(!run.process.output.contains { $0.contains("12345678") }, "the password is never printed")
        #expect(try run.process.stop() == 0)
    }

    @Test func aChangedQueueRestartsTheHubAndKeepsItsMessages() throws {
        let spec = Self.project.appendingPathComponent("agnost.yaml")
        try Self.copied.get()
        let original = try String(contentsOf: spec, encoding: .utf8)
        defer { try? original.write(to: spec, atomically: true, encoding: .utf8) }
        let run = try startRun(watch: true)
        let delayed = try BackgroundProcess(
            Commands.agnostFn,
            // Longer than the rebuild takes, so that the message is still held when the hub restarts.
            ["invoke", "--path", Self.project.path, "--queue", "work", "--delay", "40s", "--data", #"{"held":1}"#],
            environment: Commands.environment
        )
        _ = try run.process.waitForLine(containing: "accepted")
        try original.replacingOccurrences(of: "retries: 5", with: "retries: 4")
            .write(to: spec, atomically: true, encoding: .utf8)
        _ = try run.process.waitForLine(containing: "the event hub restarts with them", timeout: .seconds(300))
        #expect(run.lines("work").isEmpty, "the message was delivered before the restart; the test proves nothing")
        try waitUntil("the held message is delivered by the new hub", timeout: .seconds(120)) {
            run.lines("work").count == 1
        }
        #expect(run.process.output.filter { $0.contains("event hub on") }.count == 2)
        _ = try? delayed.stop()
        #expect(try run.process.stop() == 0, "\(run.process.output.joined(separator: "\n"))")
    }
}
