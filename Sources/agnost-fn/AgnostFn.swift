import ArgumentParser

@main
struct AgnostFn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agnost-fn",
        abstract: "Build Swift handler functions into API servers and run them, locally or on Knative.",
        version: "0.1.0",
        subcommands: [
            Init.self, Templates.self, Mirror.self, Check.self, Build.self, Run.self, Invoke.self, Push.self,
            Login.self, Logout.self,
        ]
    )
}
