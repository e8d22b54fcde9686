import AgnostCompiler
import AgnostPipeline
import ArgumentParser
import Foundation

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build if needed, then serve the app in the foreground.",
        discussion: """
            Binds 127.0.0.1 unless --host says otherwise. Logs are text on a terminal and JSON lines otherwise \
            (AGNOST_LOG_FORMAT overrides). Ctrl-C drains in-flight requests and stops.
            """
    )

    @OptionGroup var project: ProjectOptions

    @Option(help: "The port to listen on.")
    var port: Int = 8080

    @Option(help: "The address to bind; 0.0.0.0 exposes the server to the network.")
    var host: String = "127.0.0.1"

    @Option(help: "debug or release.")
    var configuration: BuildConfiguration = .debug

    @Flag(help: "Show the output of swift build as it runs.")
    var verbose = false

    func validate() throws {
        guard (0...65_535).contains(port) else {
            throw ValidationError("--port must be from 0 to 65535, not \(port)")
        }
    }

    func run() throws {
        let result = try Console.step { () throws(PipelineError) in
            try PipelineConsole.workflow().build(project.project, configuration: configuration, verbose: verbose)
        }
        let server = result.bundleDirectory.appendingPathComponent("server").path
        var environment = ProcessInfo.processInfo.environment
        environment["PORT"] = String(port)
        environment["AGNOST_HOST"] = host
        environment["AGNOST_BUNDLE"] = result.bundleDirectory.appendingPathComponent("bundle.json").path
        if environment["AGNOST_LOG_FORMAT"] == nil && isatty(STDOUT_FILENO) != 0 {
            environment["AGNOST_LOG_FORMAT"] = "text"
        }
        Console.status("serving \(result.manifest.serviceName) on http://\(host):\(port) (ctrl-c stops it)")
        // Replacing this process, rather than supervising a child, hands signals and the exit status straight
        // to the server.
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup(server), nil]
        let variables: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(server, arguments, variables)
        Console.error("cannot start \(server): \(String(cString: strerror(errno)))")
        throw ExitCode.failure
    }
}
