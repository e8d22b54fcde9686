import AgnostImage
import AgnostOCI
import AgnostRegistry
import ArgumentParser
import Foundation

struct Push: ParsableCommand {
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
        do {
            _ = try from.map { try LayoutReference(parsing: $0, option: "--from", allowed: [.layout]) }
        } catch let error as ImageError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        do {
            let source: LayoutReference
            var name = image
            if let from {
                source = try LayoutReference(parsing: from, option: "--from", allowed: [.layout])
            } else {
                let layout = project.directory.appendingPathComponent(".agnost/image").path
                let entry = try ImageLayout(directory: layout).newestEntry()
                source = LayoutReference(
                    transport: .layout,
                    path: layout,
                    tag: entry.annotations?[AnnotationKey.refName]
                )
                name = name ?? entry.annotations?[AnnotationKey.containerdImageName]
            }
            guard let name else {
                throw ValidationError("name the image to push with --image HOST/NAME[:TAG], or build it with --image")
            }
            let destination = try RegistrySteps.reference(name, option: "--image", defaultTag: source.tag)
            let pushed = try RegistrySteps.push(source, to: destination, insecure: insecure)
            print(pushed)
        } catch let error as ImageError {
            Console.error(error.description)
            throw ExitCode.failure
        }
    }
}
