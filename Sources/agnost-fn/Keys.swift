import AgnostKnative
import AgnostPipeline
import ArgumentParser
import Foundation
import Synchronization

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the API keys of the deployed version.",
        discussion: """
            Keys are shown once, when created; the version's Secret keeps only their SHA-256. Creating or revoking \
            a key rolls a new revision and waits for it, so the change holds when the command returns.
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key and print it, once.",
            discussion: "The key goes to stdout and nowhere else; store it where you keep secrets."
        )

        @OptionGroup var project: ProjectOptions
        @OptionGroup var cluster: ClusterOptionGroup

        @Option(help: ArgumentHelp("The key's name. Default: key-1, key-2, …", valueName: "name"))
        var name: String?

        @Option(help: ArgumentHelp("How long to wait for the new revision.", valueName: "90s|5m|1h"))
        var timeout: DurationArgument = DurationArgument(argument: "5m")!

        func run() async throws {
            let name = self.name
            let made = Mutex<String?>(nil)
            let record = try await KeyChange.apply(project: project, cluster: cluster, timeout: timeout.duration) {
                data throws(DeployError) in
                let (key, record) = try APIKeyMaker.make(named: name, existing: data.apiKeys, at: Date())
                made.withLock { $0 = key }
                var changed = data
                changed.apiKeys.append(record)
                return changed
            }
            guard let key = made.withLock({ $0 }) else { return }
            Console.status("created API key \(record.apiKeys.last?.name ?? "") (shown once; only its SHA-256 is kept)")
            print(key)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the API keys of the deployed version.")

        @OptionGroup var project: ProjectOptions
        @OptionGroup var cluster: ClusterOptionGroup

        @Option(help: "text, or json for scripts.")
        var output: OutputFormat = .text

        struct Entry: Encodable {
            var name: String
            var created: String
            var sha256Prefix: String
        }

        func run() async throws {
            let service = try project.checkedSpec().serviceName
            let deployer = try cluster.deployer()
            let data = try await Console.cluster(checkWith: "agnost-fn status") { () async throws(DeployError) in
                try await deployer.secretData(of: service)
            }
            let entries = (data?.apiKeys ?? []).map {
                Entry(name: $0.name, created: $0.created, sha256Prefix: String($0.sha256Hex.prefix(12)))
            }
            switch output {
            case .json:
                try OutputFormat.printJSON(entries)
            case .text:
                guard !entries.isEmpty else {
                    Console.status("\(service) has no API keys")
                    return
                }
                let width = max(4, entries.map(\.name.count).max() ?? 0)
                print("NAME".padding(width) + "  CREATED               SHA-256")
                for entry in entries {
                    print(
                        entry.name.padding(width) + "  " + entry.created.padding(20) + "  " + entry.sha256Prefix + "…"
                    )
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an API key: requests with it are refused once the command returns."
        )

        @OptionGroup var project: ProjectOptions
        @OptionGroup var cluster: ClusterOptionGroup

        @Argument(help: "The key's name, as keys list shows it.")
        var name: String

        @Option(help: ArgumentHelp("How long to wait for the new revision.", valueName: "90s|5m|1h"))
        var timeout: DurationArgument = DurationArgument(argument: "5m")!

        func run() async throws {
            let name = self.name
            _ = try await KeyChange.apply(project: project, cluster: cluster, timeout: timeout.duration) {
                data throws(DeployError) in
                guard data.apiKeys.contains(where: { $0.name == name }) else {
                    let names = data.apiKeys.map(\.name)
                    throw DeployError(
                        .render,
                        "there is no key named \(name)"
                            + (names.isEmpty
                                ? "; the version has no keys" : "; its keys are \(names.joined(separator: ", "))")
                    )
                }
                var changed = data
                changed.apiKeys.removeAll { $0.name == name }
                return changed
            }
            Console.status("revoked API key \(name)")
        }
    }
}

enum KeyChange {
    /// Changes the version's Secret and waits for the revision that reads it; returns the new Secret data.
    static func apply(
        project: ProjectOptions,
        cluster: ClusterOptionGroup,
        timeout: Duration,
        _ change: @escaping @Sendable (VersionSecretData) throws(DeployError) -> VersionSecretData
    ) async throws -> VersionSecretData {
        let workflow = PipelineConsole.workflow()
        let manifest = try Console.step { () throws(PipelineError) in try workflow.plan(project.project).manifest }
        let deployer = try cluster.deployer()
        let result = try await Console.cluster(checkWith: "agnost-fn status") { () async throws(DeployError) in
            try await deployer.changeSecret(of: manifest, wait: timeout, change)
        }
        return result.secretData
    }
}
