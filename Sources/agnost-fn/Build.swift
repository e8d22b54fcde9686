import AgnostCompiler
import AgnostImage
import ArgumentParser
import Foundation

extension BuildConfiguration: ExpressibleByArgument {}

struct Build: ParsableCommand {
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
            "A base image in a local OCI layout: its layers are kept and only what it lacks is added.",
            valueName: "oci:DIR[:TAG]"
        )
    )
    var base: String?

    @Flag(help: "Show the output of swift build as it runs.")
    var verbose = false

    func validate() throws {
        do {
            _ = try imageOptions()
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        var options = try imageOptions()
        do {
            options.creationTime = try ImagePackageRequest.creationTime(
                environment: ProcessInfo.processInfo.environment
            )
        } catch {
            Console.error(error.description)
            throw ExitCode.failure
        }
        let result = try BuildSteps.build(project, configuration: configuration, verbose: verbose)
        let image = try ImageSteps.package(result, project: project, options: options)
        print(image.manifestDigest)
    }

    private func imageOptions() throws(ImageError) -> ImageSteps.Options {
        var options = ImageSteps.Options()
        if let output { options.output = try LayoutReference(parsing: output, option: "--output") }
        if let image { options.name = try ImageName(parsing: image, option: "--image") }
        if let base { options.base = try LayoutReference(parsing: base, option: "--base", allowed: [.layout]) }
        return options
    }
}

/// The build as `build` and `run` both do it: progress per stage on stderr, errors as diagnostics.
enum BuildSteps {
    static func build(
        _ project: ProjectOptions,
        configuration: BuildConfiguration,
        verbose: Bool
    ) throws -> BuildResult {
        let builder = BundleBuilder(verbose: verbose) { event in
            switch event {
            case .stageStarted: break
            case .stageFinished(let name, let elapsed): Console.status("  \(name) (\(Console.format(elapsed)))")
            case .compilerOutput(let text): FileHandle.standardError.write(Data(text.utf8))
            }
        }
        let start = ContinuousClock.now
        do {
            let result = try builder.build(
                project: project.directory,
                displayPath: project.displayPath,
                configuration: configuration
            )
            Console.diagnostics(result.warnings.map(\.description))
            let name = result.manifest.serviceName
            if result.upToDate {
                Console.status("\(name): bundle is up to date (\(configuration.rawValue))")
            } else {
                Console.status(
                    "\(name): built \(configuration.rawValue) bundle in \(Console.format(ContinuousClock.now - start))"
                )
            }
            return result
        } catch {
            throw Console.fail(error)
        }
    }
}
