import AgnostCompiler
import AgnostEvents
import AgnostPipeline
import ArgumentParser
import Foundation

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build if needed, then serve the app in the foreground.",
        discussion: """
            Binds 127.0.0.1 unless --host says otherwise. Logs are text on a terminal and JSON lines otherwise \
            (AGNOST_LOG_FORMAT overrides). Ctrl-C drains in-flight requests and stops. With --watch, a change \
            of agnost.yaml, Package.swift or Sources/ rebuilds and restarts the server; a build that fails is \
            shown and the last good server keeps serving.

            Beside the server runs the version's event hub, its local Broker and PingSource: messages that \
            handlers send are kept in .agnost/state/ until delivered to their queue's handler, with the queue's \
            retries and backoff, and dead-lettered after the last one; cron jobs fire on schedule in their time \
            zone. Messages outlive the server's restarts and the run itself (even kill -9). See 'agnost-fn invoke \
            --queue/--cron' and 'agnost-fn queue dead-letters'.
            """
    )

    @OptionGroup var project: ProjectOptions

    @Option(help: "The port to listen on.")
    var port: Int = 8080

    @Option(help: "The address to bind; 0.0.0.0 exposes the server to the network.")
    var host: String = "127.0.0.1"

    @Option(help: "debug or release.")
    var configuration: BuildConfiguration = .debug

    @Flag(help: "Rebuild and restart when the project changes.")
    var watch = false

    @Flag(help: "Show the output of swift build as it runs.")
    var verbose = false

    func validate() throws {
        guard (0...65_535).contains(port) else {
            throw ValidationError("--port must be from 0 to 65535, not \(port)")
        }
    }

    func run() async throws {
        var options = LocalRunOptions()
        options.host = host
        options.port = port
        options.configuration = configuration
        options.watch = watch
        options.verbose = verbose
        if ProcessInfo.processInfo.environment["AGNOST_LOG_FORMAT"] == nil && isatty(STDOUT_FILENO) != 0 {
            options.environment["AGNOST_LOG_FORMAT"] = "text"
        }
        let workflow = PipelineConsole.workflow()
        let project = project.project
        let settings = options
        let status: Int32
        do {
            status = try await Interruption.cancellingOnSignals { () async throws(PipelineError) in
                try await workflow.run(project, options: settings, events: LocalRunConsole.show)
            }
        } catch let error as PipelineError {
            throw Console.fail(error)
        }
        if status != 0 { throw ExitCode(status) }
    }
}

/// Prints what a local run does around the server's own log lines.
enum LocalRunConsole {
    @Sendable static func show(_ event: LocalRunEvent) {
        switch event {
        case .hubStarted(let url, let directory):
            Console.status("event hub on \(url) (messages kept in \(directory))")
        case .hub(let event):
            showHub(event)
        case .restartingHub:
            Console.status("the queues or cron jobs changed: the event hub restarts with them, keeping its messages")
        case .serverStarted(let service, let url, _):
            Console.status("serving \(service) on \(url) (ctrl-c stops it)")
        case .serverExited(let status):
            Console.status("the server exited with status \(status)")
        case .rebuilding:
            Console.status("change detected: rebuilding")
        case .rebuildFailed(let error):
            _ = Console.fail(error)
            Console.status("the last good server keeps serving; fix the error and save to rebuild")
        case .rebuildUnchanged:
            Console.status("the bundle did not change; the server keeps running")
        case .stoppingServer:
            Console.status("stopping the server (in-flight requests finish first)")
        case .resourcesWithoutSettings(let names, let file):
            let list = names.map { "'\($0)'" }.joined(separator: ", ")
            Console.status("warning: \(file) gives no settings for resource\(names.count == 1 ? "" : "s") \(list)")
        }
    }

    private static func showHub(_ event: HubEvent) {
        switch event {
        case .accepted(let queue, let id, let dueAt):
            // A message due now is shown once handled; one held back is shown now, or it would seem lost.
            let wait = dueAt.timeIntervalSinceNow
            if wait >= 1 {
                Console.status("queue \(queue): message \(id) accepted, due in " + String(format: "%.1fs", wait))
            }
        case .delivered(let queue, let id, let status, let duration, let attempt):
            Console.status(
                "queue \(queue): message \(id) handled, \(status) in \(Console.format(duration)) (attempt \(attempt))"
            )
        case .retrying(let queue, let id, let attempt, let failure, let at):
            let wait = max(0, at.timeIntervalSinceNow)
            Console.status(
                "queue \(queue): message \(id) failed (\(failure)) on attempt \(attempt); retrying in "
                    + String(format: "%.1fs", wait)
            )
        case .deadLettered(let queue, let id, let attempts, let failure, let target):
            let destination = target.map { "moved to queue \($0)" } ?? "kept as a dead letter"
            Console.status(
                "queue \(queue): message \(id) failed (\(failure)) after \(attempts) attempt(s); \(destination)"
            )
        case .cronFired(let outcome):
            switch outcome.result {
            case .status(let status):
                Console.status("cron \(outcome.job): \(status) in \(Console.format(outcome.duration))")
            case .transportError(let reason):
                Console.status("cron \(outcome.job): not delivered: \(reason)")
            }
        case .serverUnavailable:
            Console.status("messages are due but no server runs; they wait for it")
        case .storageFailed(let message):
            Console.error("the event hub can no longer store messages: \(message)")
        }
    }
}
