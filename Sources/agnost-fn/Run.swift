import AgnostCompiler
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
        }
    }
}
