import AgnostOCI
import AgnostPipeline
import ArgumentParser
import Foundation

struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Push an image to a registry over the OCI distribution API.",
        discussion: """
            By default the image is the last one built into .agnost/image, under the name given to build --image. \
            Blobs the registry has are skipped. Credentials come from Docker's config.json ($DOCKER_CONFIG or \
            ~/.docker), its credential helpers included. The last line printed is the pushed reference pinned by \
            digest, REF@sha256:….
            """
    )

    @OptionGroup var project: ProjectOptions

    @Option(help: ArgumentHelp("The name to push under.", valueName: "host[:port]/name[:tag]"))
    var image: String?

    @Option(
        help: ArgumentHelp("The image to push. Default: the last build in .agnost/image.", valueName: "oci:DIR[:TAG]")
    )
    var from: String?

    @Flag(help: "Talk plain HTTP to a registry that is not on localhost.")
    var insecure = false

    func validate() throws {
        _ = try from.map { from in
            try Console.parse { () throws(ImageError) in
                try LayoutReference(parsing: from, option: "--from", allowed: [.layout])
            }
        }
    }

    func run() async throws {
        let workflow = PipelineConsole.workflow()
        let source: LayoutReference
        var name = image
        if let from {
            source = try Console.parse { () throws(ImageError) in
                try LayoutReference(parsing: from, option: "--from", allowed: [.layout])
            }
        } else {
            let last = try Console.step { () throws(PipelineError) in try workflow.lastBuiltImage(of: project.project) }
            source = last.source
            name = name ?? last.name
        }
        guard let name else {
            throw ValidationError("name the image to push with --image HOST/NAME[:TAG], or build it with --image")
        }
        let destination = try Console.parse { () throws(ImageError) in
            try ImageReference(parsing: name, option: "--image").tagged(byDefault: source.tag)
        }
        let insecure = insecure
        print(
            try await Console.interruptibleStep("push") { () async throws(PipelineError) in
                try await workflow.push(source, to: destination, insecure: insecure)
            }
        )
    }
}
