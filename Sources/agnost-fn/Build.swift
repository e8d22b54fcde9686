import AgnostCompiler
import AgnostOCI
import AgnostPipeline
import ArgumentParser
import Foundation

extension BuildConfiguration: ExpressibleByArgument {}

struct Build: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile the handlers into a bundle and package it as an OCI image.",
        discussion: """
            The bundle is .agnost/bundle/server and bundle.json; unchanged inputs reuse it. Release builds are \
            optimized, static and stripped. The image is written without Docker to .agnost/image (an OCI layout, \
            tagged with the version) unless --output says otherwise; equal inputs give equal bytes, with every time \
            stamp taken from SOURCE_DATE_EPOCH (0 when unset). The last line printed is the manifest digest.
            """
    )

    @OptionGroup var project: ProjectOptions

    @Option(help: "debug or release.")
    var configuration: BuildConfiguration = .release

    @Option(
        help: ArgumentHelp(
            "Where to write the image: an OCI layout folder or a tar of one. Default: oci:.agnost/image:VERSION.",
            valueName: "oci:DIR[:TAG]|oci-archive:FILE[:TAG]"
        )
    )
    var output: String?

    @Option(
        help: ArgumentHelp("The name to push the image under; its tag is the default tag.", valueName: "name[:tag]")
    )
    var image: String?

    @Option(
        help: ArgumentHelp(
            "A base image, in a local OCI layout or a registry: its layers are kept and only what it lacks is added.",
            valueName: "oci:DIR[:TAG]|host/name[:tag]"
        )
    )
    var base: String?

    @Flag(help: "Push the image to the --image name once it is packaged.")
    var push = false

    @Flag(help: "Talk plain HTTP to a registry (of --push or --base) that is not on localhost.")
    var insecure = false

    @Flag(help: "Show the output of swift build as it runs.")
    var verbose = false

    func validate() throws {
        let options = try imageOptions()
        if push {
            guard options.name != nil else { throw ValidationError("--push needs --image HOST/NAME[:TAG] to push to") }
            guard options.output?.transport != .archive else {
                throw ValidationError("--push pushes from an OCI layout; leave out --output oci-archive:…")
            }
        }
    }

    func run() async throws {
        let options = try imageOptions()
        let (project, configuration, verbose, push) = (project.project, configuration, verbose, push)
        let built = try await Console.interruptibleStep(push ? "push" : "build") { () async throws(PipelineError) in
            try await PipelineConsole.workflow().buildImage(
                project,
                configuration: configuration,
                verbose: verbose,
                options: options,
                push: push
            )
        }
        print(built.image.manifestDigest)
        if let pushed = built.pushed { print(pushed) }
    }

    private func imageOptions() throws -> ImageOptions {
        try Console.parse { () throws(ImageError) in
            var options = ImageOptions()
            if let output { options.output = try LayoutReference(parsing: output, option: "--output") }
            if let base, base.hasPrefix("oci:") {
                options.base = .layout(try LayoutReference(parsing: base, option: "--base", allowed: [.layout]))
            } else if let base {
                options.base = .registry(try ImageReference(parsing: base, option: "--base"))
            }
            options.insecure = insecure
            if let image { options.name = try ImageReference(parsing: image, option: "--image") }
            return options
        }
    }
}
