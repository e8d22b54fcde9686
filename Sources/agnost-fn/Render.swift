import AgnostKnative
import AgnostOCI
import AgnostPipeline
import ArgumentParser
import Foundation

struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the Knative Service, PingSources and Triggers that deploy would apply, as YAML.",
        discussion: """
            Without --image REF@sha256:…, the project is built and pushed first, as deploy does. The Secret \
            <app>-<version> (internal token, API-key hashes) is never printed: deploy writes it. The Service is \
            rendered as a first deploy applies it, with no API keys; the PingSources without the cron sender \
            token, which deploy derives from the Secret's internal token; AGNOST_BROKER_URL as the default \
            Broker class addresses the Broker in the namespace.
            """
    )

    @OptionGroup var project: ProjectOptions

    @Option(
        help: ArgumentHelp(
            "The image, pinned by digest to skip the build and push; or the repository to push to.",
            valueName: "ref[@sha256:…]"
        )
    )
    var image: String?

    @Option(help: ArgumentHelp("Where to write the YAML; - for stdout.", valueName: "file|-"))
    var output: String = "-"

    @Option(help: ArgumentHelp("The namespace of the rendered objects.", valueName: "name"))
    var namespace: String = "default"

    @Option(help: ArgumentHelp("The Broker in the namespace that the app's queues go through.", valueName: "name"))
    var broker: String = "default"

    @Flag(help: "Talk plain HTTP to a registry that is not on localhost.")
    var insecure = false

    func validate() throws {
        if image == nil, try project.checkedSpec().image == nil {
            throw ValidationError(
                "name the image with --image HOST/NAME@sha256:… (or a repository to push to), or add image: HOST/NAME "
                    + "to \(project.specDisplayPath)"
            )
        }
    }

    func run() async throws {
        let workflow = PipelineConsole.workflow()
        let reference = try image.map { image in
            try Console.parse { () throws(ImageError) in try ImageReference(parsing: image, option: "--image") }
        }

        let project = self.project.project
        let namespace = self.namespace
        let insecure = self.insecure
        let broker = self.broker
        let rendered = try await Console.interruptibleStep("render") { () async throws(PipelineError) in
            try await workflow.render(
                project,
                image: reference,
                namespace: namespace,
                broker: broker,
                insecure: insecure
            )
        }
        let text = Self.document(rendered)
        if output == "-" {
            print(text, terminator: "")
        } else {
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                Console.error("cannot write \(output): \(error.localizedDescription)")
                throw ExitCode.failure
            }
            Console.status("wrote \(output)")
        }
    }

    /// The Service's YAML and its event objects', under a comment that says where the Secret comes from.
    static func document(_ rendered: RenderedVersion) -> String {
        var header =
            "# Rendered by agnost-fn. The Secret \(rendered.secret.name) it reads (the internal token and the API-key\n"
            + "# hashes) is written by agnost-fn deploy and never printed.\n"
        if rendered.events.contains(where: { $0.kind == "PingSource" }) {
            header += "# The PingSources carry no sender token here: deploy adds the one it derives from the Secret.\n"
        }
        return header + ([rendered.service] + rendered.events).map { $0.yaml() }.joined(separator: "---\n")
    }
}
