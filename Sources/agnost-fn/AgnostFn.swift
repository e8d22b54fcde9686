import ArgumentParser

@main
struct AgnostFn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agnost-fn",
        abstract: "Build Swift handler functions into API servers and run them, locally or on Knative.",
        version: "0.1.0",
        subcommands: [
            Init.self, Templates.self, Mirror.self, Check.self, Build.self, Run.self, Invoke.self, Queue.self,
            Push.self,
            Pull.self, Deploy.self, Render.self, Status.self, Traffic.self, Rollback.self, Versions.self,
            Delete.self, Keys.self, Login.self, Logout.self, PlatformCommand.self,
        ]
    )

    /// ArgumentParser's own entry point, after unblocking the signals the commands handle.
    static func main() async {
        Interruption.unblockSignals()
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
