import AgnostKnative
import AgnostPipeline
import ArgumentParser
import Foundation

struct Versions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every deployed version of the app in the namespace, with its URL and readiness.",
        discussion: "Each version is its own Knative Service, <app>-<version>, and its own API server."
    )

    @OptionGroup var project: ProjectOptions
    @OptionGroup var cluster: ClusterOptionGroup

    @Option(help: "text, or json for scripts.")
    var output: OutputFormat = .text

    struct Entry: Encodable {
        var version: String
        var service: String
        var url: String?
        var ready: String
        var revision: String?
    }

    func run() async throws {
        let app = try project.checkedSpec().app
        let deployer = try cluster.deployer()
        let services = try await Console.cluster(checkWith: "kubectl get ksvc") { () async throws(DeployError) in
            try await deployer.versions(of: app)
        }
        let entries = services.map { service in
            Entry(
                version: service.metadata.labels[VersionLabels.version] ?? "?",
                service: service.metadata.name,
                url: service.status.url,
                ready: service.condition("Ready")?.status ?? "Unknown",
                revision: service.status.latestReadyRevisionName
            )
        }
        switch output {
        case .json:
            try OutputFormat.printJSON(entries)
        case .text:
            guard !entries.isEmpty else {
                Console.status("no version of \(app) is deployed in namespace \(deployer.namespace)")
                return
            }
            let width = max(7, entries.map(\.version.count).max() ?? 0)
            print("VERSION".padding(width) + "  READY    URL")
            for entry in entries {
                print(entry.version.padding(width) + "  " + entry.ready.padding(7) + "  " + (entry.url ?? "none yet"))
            }
        }
    }
}

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete a deployed version: its Service, its Secret and every object labeled for it.",
        discussion: "The version is agnost.yaml's unless --version names another deployed version of the app."
    )

    @OptionGroup var project: ProjectOptions
    @OptionGroup var cluster: ClusterOptionGroup

    @Option(help: ArgumentHelp("The version to delete. Default: agnost.yaml's.", valueName: "version"))
    var version: String?

    func run() async throws {
        let spec = try project.checkedSpec()
        let version = self.version ?? spec.version
        let deployer = try cluster.deployer()
        let deleted = try await Console.cluster(checkWith: "agnost-fn versions") { () async throws(DeployError) in
            try await deployer.delete(app: spec.app, version: version)
        }
        for object in deleted { Console.status("deleted \(object.kind.lowercased())/\(object.name)") }
    }
}
