import AgnostOCI
import AgnostPipeline
import AgnostRegistry
import ArgumentParser
import Foundation

struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pull an image from a registry into an OCI layout.",
        discussion: """
            From a multi-platform image, the platform of this machine is taken unless --platform names another. \
            Every blob is checked against its digest. The last line printed is the reference pinned by digest.
            """
    )

    @Argument(help: ArgumentHelp("The image to pull.", valueName: "host[:port]/name[:tag][@digest]"))
    var image: String

    @Option(help: ArgumentHelp("Where to write it.", valueName: "oci:DIR[:TAG]"))
    var output: String

    @Option(help: ArgumentHelp("The platform to take from a multi-platform image.", valueName: "os/arch[/variant]"))
    var platform: String?

    @Flag(help: "Talk plain HTTP to a registry that is not on localhost.")
    var insecure = false

    func run() async throws {
        let reference = try Console.parse { () throws(ImageError) in
            try ImageReference(parsing: image, option: "image").tagged(byDefault: nil)
        }
        let destination = try Console.parse { () throws(ImageError) in
            try LayoutReference(parsing: output, option: "--output", allowed: [.layout])
        }
        let platform = try platform.map(Self.platform) ?? ImagePuller.hostPlatform
        let insecure = insecure
        let digest = try await Console.interruptibleStep("pull") { () async throws(PipelineError) in
            try await PipelineConsole.workflow().pull(
                reference,
                into: destination,
                platform: platform,
                insecure: insecure
            )
        }
        print(reference.with(digest: digest))
    }

    static func platform(_ text: String) throws -> Platform {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw ValidationError("--platform '\(text)' is not os/arch[/variant], such as linux/arm64")
        }
        return Platform(architecture: parts[1], os: parts[0], variant: parts.count == 3 ? parts[2] : nil)
    }
}
