import AgnostKnative
import AgnostPipeline
import ArgumentParser
import Foundation

struct Traffic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Split the deployed version's traffic between its revisions, or send it all to the latest.",
        discussion: """
            REVISION=PERCENT pairs must add up to 100 and name ready revisions (see status). --latest sends all \
            traffic to the latest ready revision, now and after later deploys. A deploy sends all traffic to its \
            new revision.
            """
    )

    @OptionGroup var project: ProjectOptions
    @OptionGroup var cluster: ClusterOptionGroup

    @Argument(help: ArgumentHelp("A revision and its share of the traffic.", valueName: "revision=percent"))
    var split: [String] = []

    @Flag(help: "All traffic to the latest ready revision.")
    var latest = false

    @Option(help: ArgumentHelp("How long to wait for the route to take the change.", valueName: "90s|5m|1h"))
    var timeout: DurationArgument = DurationArgument(argument: "5m")!

    func validate() throws {
        guard latest != !split.isEmpty else {
            throw ValidationError("give either REVISION=PERCENT pairs or --latest")
        }
        if !latest {
            do { _ = try TrafficPlan(splitting: split) } catch { throw ValidationError(error.description) }
        }
    }

    func run() async throws {
        let plan = latest ? TrafficPlan.latest : try TrafficPlan(splitting: split)
        try await Routing.route(plan, project: project, cluster: cluster, timeout: timeout.duration)
    }
}

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send all traffic back to the previous ready revision, or to the one named.",
        discussion: """
            The previous revision is the newest ready one older than the newest revision serving now. Traffic \
            stays there until traffic --latest, or the next deploy.
            """
    )

    @OptionGroup var project: ProjectOptions
    @OptionGroup var cluster: ClusterOptionGroup

    @Argument(help: "The revision to send all traffic to.")
    var revision: String?

    @Option(help: ArgumentHelp("How long to wait for the route to take the change.", valueName: "90s|5m|1h"))
    var timeout: DurationArgument = DurationArgument(argument: "5m")!

    func run() async throws {
        try await Routing.route(.rollback(to: revision), project: project, cluster: cluster, timeout: timeout.duration)
    }
}

enum Routing {
    static func route(
        _ plan: TrafficPlan,
        project: ProjectOptions,
        cluster: ClusterOptionGroup,
        timeout: Duration
    ) async throws {
        let service = try project.checkedSpec().serviceName
        let deployer = try cluster.deployer()
        let targets = try await Console.cluster(checkWith: "agnost-fn status") { () async throws(DeployError) in
            try await deployer.route(service, plan, timeout: timeout)
        }
        for target in targets {
            Console.status("  \(target.percent ?? 0)% → \(target.revisionName ?? "the latest ready revision")")
        }
        Console.status("\(service): traffic routed")
    }
}
