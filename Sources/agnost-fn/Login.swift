import AgnostRegistry
import ArgumentParser
import Foundation

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check credentials with a registry and store them as docker login does.",
        discussion: """
            The password is read from stdin, never from the command line. It is stored in Docker's config.json \
            ($DOCKER_CONFIG or ~/.docker), or in its credential helper when one is configured.
            """
    )

    @Argument(
        help: ArgumentHelp("The registry, such as registry.example.com or localhost:5000.", valueName: "host[:port]")
    )
    var registry: String

    @Option(name: [.short, .long], help: "The user name.")
    var username: String

    @Flag(help: "Read the password from stdin (required).")
    var passwordStdin = false

    @Flag(help: "Talk plain HTTP to a registry that is not on localhost.")
    var insecure = false

    func validate() throws {
        guard passwordStdin else {
            throw ValidationError(
                "pass the password on stdin with --password-stdin, so that it stays out of shell history"
            )
        }
    }

    func run() async throws {
        let password = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .newlines)
        guard !password.isEmpty else { throw ValidationError("stdin held no password") }
        let environment = ProcessInfo.processInfo.environment
        do {
            let host = try RegistryHost(parsing: registry)
            let credentials = RegistryCredentials(username: username, secret: password)
            try await RegistryLogin.verify(host, credentials: credentials, plainHTTP: insecure || host.isLocal)
            var config = try DockerConfig(path: DockerConfig.defaultPath(environment: environment))
            try config.store(credentials, for: host.credentialKey, environment: environment)
            Console.status("logged in to \(host.name) as \(username); credentials stored for \(host.credentialKey)")
        } catch {
            Console.error(error.description)
            throw ExitCode.failure
        }
    }
}

struct Logout: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove a registry's credentials as docker logout does."
    )

    @Argument(help: ArgumentHelp("The registry to forget.", valueName: "host[:port]"))
    var registry: String

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        do {
            let host = try RegistryHost(parsing: registry)
            var config = try DockerConfig(path: DockerConfig.defaultPath(environment: environment))
            if try config.erase(registryKey: host.credentialKey, environment: environment) {
                Console.status("removed the credentials for \(host.name)")
            } else {
                Console.status("no credentials were stored for \(host.name)")
            }
        } catch {
            Console.error(error.description)
            throw ExitCode.failure
        }
    }
}
