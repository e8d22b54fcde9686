import AgnostCompiler
import AgnostEvents
import AgnostPipeline
import ArgumentParser
import Foundation

struct Queue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Look at the local event hub's queues.",
        subcommands: [DeadLetters.self]
    )

    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dead-letters",
            abstract: "List the messages the local event hub gave up on, or send them again.",
            discussion: """
                A message is dead-lettered after its queue's last retry, or at once on a permanent failure, unless \
                its queue names a deadLetter queue to move it to. Dead letters are kept in .agnost/state/ until \
                replayed. This talks to the hub of the project's running 'agnost-fn run', or reads its store when \
                none runs; a message replayed then is delivered by the next run.
                """
        )

        @OptionGroup var project: ProjectOptions

        @Option(
            help: ArgumentHelp(
                "Send this dead letter (its number in the list) again as a first attempt, or 'all' of them.",
                valueName: "number|all"
            )
        )
        var replay: String?

        @Option(help: "text, or json for scripts.")
        var output: OutputFormat = .text

        func validate() throws {
            if let replay, replay != "all", UInt64(replay) == nil {
                throw ValidationError("--replay takes a dead letter's number from the list, or 'all'; not '\(replay)'")
            }
        }

        func run() async throws {
            let spec = try project.checkedSpec()
            let manifest = BuildPlan(spec: spec, specDigest: "").manifest
            let service = manifest.serviceName
            let state = LocalState(project: project.project)
            let sequence = replay.flatMap { UInt64($0) }
            do {
                if let running = state.runningServer(of: service) {
                    let token: String
                    do throws(PipelineError) {
                        token = try state.internalToken()
                    } catch {
                        throw Console.fail(error)
                    }
                    let hub = HubClient(ingressURL: running.ingressURL, service: service, internalToken: token)
                    if replay != nil {
                        let count = try await hub.replay(sequence)
                        Console.status("sent \(count) dead letter(s) again; the running hub delivers them")
                    } else {
                        try show(try await hub.deadLetters())
                    }
                } else {
                    let directory = state.eventsDirectory(of: service)
                    if replay != nil {
                        let count = try await StoredDeadLetters.replay(
                            sequence,
                            manifest: manifest,
                            stateDirectory: directory
                        )
                        Console.status("queued \(count) dead letter(s) again; the next 'agnost-fn run' delivers them")
                    } else {
                        try show(try await StoredDeadLetters.list(manifest: manifest, stateDirectory: directory))
                    }
                }
            } catch let error as EventHubError {
                Console.error(error.message)
                throw ExitCode.failure
            }
        }

        private func show(_ letters: [DeadLetter]) throws {
            switch output {
            case .json:
                try OutputFormat.printJSON(letters.map(Entry.init))
            case .text:
                guard !letters.isEmpty else {
                    Console.status("no dead letters")
                    return
                }
                let formatter = ISO8601DateFormatter()
                let rows =
                    [["NUMBER", "QUEUE", "ID", "ATTEMPTS", "LAST FAILURE", "SINCE"]]
                    + letters.map { letter in
                        [
                            String(letter.sequence), letter.message.queue, letter.message.id,
                            String(letter.attempts), letter.lastFailure.description,
                            formatter.string(from: letter.deadLetteredAt),
                        ]
                    }
                let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
                for row in rows {
                    let cells = zip(row, widths).map { $0.padding($1) }
                    print(cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
                }
            }
        }
    }

    /// A dead letter as scripts read it: the failure as text, the body as text when it is UTF-8.
    private struct Entry: Encodable {
        var number: UInt64
        var queue: String
        var id: String
        var attempts: Int
        var lastFailure: String
        var deadLetteredAt: Date
        var attributes: [String: String]
        var contentType: String?
        var body: String?
        var bodyBase64: String?

        init(_ letter: DeadLetter) {
            number = letter.sequence
            queue = letter.message.queue
            id = letter.message.id
            attempts = letter.attempts
            lastFailure = letter.lastFailure.description
            deadLetteredAt = letter.deadLetteredAt
            attributes = letter.message.attributes
            contentType = letter.message.contentType
            if let text = String(validating: letter.message.body, as: UTF8.self) {
                body = text
            } else {
                bodyBase64 = letter.message.body.base64EncodedString()
            }
        }
    }
}
