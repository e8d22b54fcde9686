import AgnostCompiler
import AgnostImage
import AgnostOCI
import AgnostRegistry
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
        if push, let name = options.name {
            var source = image.output
            source.tag = image.tag
            let destination = try RegistrySteps.tagged(name, defaultTag: image.tag)
            print(try RegistrySteps.push(source, to: destination, insecure: insecure))
        }
    }

    private func imageOptions() throws -> ImageSteps.Options {
        var options = ImageSteps.Options()
        do {
            if let output { options.output = try LayoutReference(parsing: output, option: "--output") }
            if let base, base.hasPrefix("oci:") {
                options.base = try LayoutReference(parsing: base, option: "--base", allowed: [.layout])
            } else if let base {
                options.baseReference = try ImageReference(parsing: base, option: "--base")
            }
            options.insecure = insecure
            if let image { options.name = try ImageReference(parsing: image, option: "--image") }
        } catch let error as ImageError {
            throw ValidationError(error.description)
        } catch let error as RegistryError {
            throw ValidationError(error.description)
        }
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
            Console.diagnostics(result.warnings)
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
