import AgnostKnative
import AgnostOCI
import AgnostPipeline
import ArgumentParser
import Foundation

struct Deploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build, push and deploy the app version as a Knative Service, and wait until it serves.",
        discussion: """
            check → build (release) → package → push → render → apply → wait. The Service <app>-<version> runs \
            the pushed image pinned by digest; its Secret holds the internal token and API-key hashes. Objects \
            are applied server-side as field manager agnost-fn, then a PingSource per enabled cron job and a \
            Trigger per queue on the Broker (--broker), which must be ready when the app has queues; objects \
            labeled for this version that the render no longer has are deleted. An unchanged project uploads nothing, creates no revision and says \
            unchanged. The last line printed is the Service's URL.

            With --platform, the platform deploys instead: the image is built and pushed as above, the version's \
            agnost.yaml is registered, and the platform renders the Service with the linked resources' settings, \
            the API keys and the internal token, applies it and waits; its progress lines are shown as they come.
            """
    )

    @OptionGroup var project: ProjectOptions
    @OptionGroup var cluster: ClusterOptionGroup
    @OptionGroup(title: "Through the platform") var platform: PlatformOptionGroup

    @Option(
        help: ArgumentHelp(
            "The repository to push to. Default: image: in agnost.yaml.",
            valueName: "host[:port]/name"
        )
    )
    var image: String?

    @Option(help: ArgumentHelp("How long to wait for the revision to become ready.", valueName: "90s|5m|1h"))
    var timeout: DurationArgument = DurationArgument(argument: "5m")!

    @Flag(help: "Return once the objects are applied, without waiting for the revision.")
    var noWait = false

    @Flag(help: "Ask the cluster to check everything and keep nothing (dryRun=All); print what would change.")
    var dryRun = false

    @Flag(help: "Talk plain HTTP to a registry that is not on localhost.")
    var insecure = false

    @Option(help: ArgumentHelp("The Broker in the namespace that the app's queues go through.", valueName: "name"))
    var broker: String = "default"

    func validate() throws {
        if platform.platform != nil {
            let clusterOptions = [cluster.namespace, cluster.context, cluster.kubeconfig].compactMap { $0 }
            guard clusterOptions.isEmpty, !dryRun, !noWait, broker == "default" else {
                throw ValidationError(
                    "--platform deploys with the platform's own cluster, namespace and Broker; leave out --namespace, "
                        + "--context, --kubeconfig, --broker, --dry-run and --no-wait"
                )
            }
        }
        _ = try image.map { image in
            try Console.parse { () throws(ImageError) in try ImageReference(parsing: image, option: "--image") }
        }
        if image == nil, try project.checkedSpec().image == nil {
            throw ValidationError(
                "name the repository to push to with --image HOST/NAME, or add image: HOST/NAME to "
                    + project.specDisplayPath
            )
        }
    }

    func run() async throws {
        if platform.url != nil, [cluster.namespace, cluster.context, cluster.kubeconfig].allSatisfy({ $0 == nil }) {
            try await deployThroughPlatform()
            return
        }
        let workflow = PipelineConsole.workflow()
        var options = DeployOptions(
            image: try image.map { image in
                try Console.parse { () throws(ImageError) in try ImageReference(parsing: image, option: "--image") }
            },
            cluster: cluster.options
        )
        options.dryRun = dryRun
        options.wait = noWait ? nil : timeout.duration
        options.insecure = insecure
        options.broker = broker
        let project = self.project.project
        let chosen = options
        let deployment = try await Console.clusterStep(checkWith: statusCommand) { () async throws(PipelineError) in
            try await workflow.deploy(project, options: chosen)
        }
        let result = deployment.result
        if dryRun {
            Console.status("\(result.service): dry run; the cluster kept nothing")
            return
        }
        Console.status(
            result.changed
                ? "\(result.service): deployed \(deployment.image) as revision \(result.revision)"
                : "\(result.service): unchanged (revision \(result.revision))"
        )
        Console.status("  " + deployment.stages.map(\.description).joined(separator: ", "))
        if let url = result.url {
            print(url)
        } else {
            Console.status("not waiting for the revision; see how it is going with: \(statusCommand)")
        }
    }

    private func deployThroughPlatform() async throws {
        let client = try platform.client()
        let workflow = PipelineConsole.workflow()
        var options = PlatformDeployOptions(
            image: try image.map { image in
                try Console.parse { () throws(ImageError) in try ImageReference(parsing: image, option: "--image") }
            }
        )
        options.insecure = insecure
        options.timeout = timeout.duration
        let project = self.project.project
        let chosen = options
        let result = try await Console.clusterStep(checkWith: "agnost-fn platform deployments --platform \(client.url)")
        {
            () async throws(PipelineError) in
            try await workflow.deploy(project, through: client, options: chosen)
        }
        let deployment = result.deployment
        Console.status("  " + result.stages.map(\.description).joined(separator: ", "))
        guard deployment.outcome == "ready" else {
            Console.error(
                "deployment \(deployment.id) \(deployment.outcome)"
                    + (deployment.reason.map { " (\($0))" } ?? "") + (deployment.message.map { ": \($0)" } ?? "")
            )
            throw ExitCode.failure
        }
        Console.status(
            "\(deployment.app)-\(deployment.version): deployed \(result.image) as revision \(deployment.revision ?? "?") "
                + "(deployment \(deployment.id))"
        )
        if let url = deployment.url { print(url) }
    }

    private var statusCommand: String {
        var command = "agnost-fn status"
        if project.path != "." { command += " --path \(project.path)" }
        if let namespace = cluster.namespace { command += " --namespace \(namespace)" }
        if let context = cluster.context { command += " --context \(context)" }
        if let kubeconfig = cluster.kubeconfig { command += " --kubeconfig \(kubeconfig)" }
        return command
    }
}
