import AgnostCompiler
import AgnostDigest
import AgnostImage
import AgnostOCI
import AgnostRegistry
import Foundation

/// The workflow from a project to an image in a registry: check → build → package → push, and the pull of a base
/// image, as the CLI, the deployer and the control plane all run it.
///
/// Each step reports ``PipelineEvent``s as it goes and fails with a ``PipelineError`` that keeps the module's own
/// error. Nothing here prints.
///
/// ```swift
/// let workflow = Workflow(environment: ProcessInfo.processInfo.environment) { event in log(event) }
/// let project = Project(directory: URL(fileURLWithPath: "samples/todo"), displayPath: "samples/todo")
/// let name = try ImageReference(parsing: "localhost:5000/todo")
/// let built = try await workflow.buildImage(project, configuration: .release, options: .init(name: name), push: true)
/// print(built.pushed!)   // localhost:5000/todo:v1@sha256:…
/// ```
public struct Workflow: Sendable {
    /// Where credentials, the user's caches and `SOURCE_DATE_EPOCH` come from.
    public let environment: [String: String]
    let report: @Sendable (PipelineEvent) -> Void

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        report: @escaping @Sendable (PipelineEvent) -> Void = { _ in }
    ) {
        self.environment = environment
        self.report = report
    }

    /// What ``buildImage(_:configuration:verbose:options:push:)`` made.
    public struct ImageBuild: Sendable {
        public var bundle: BuildResult
        public var image: PackagedImage
        /// Where the image was pushed, pinned by digest; nil when it was not pushed.
        public var pushed: ImageReference?
        /// How long each step took: build (with the check), package and, if pushed, push.
        public var stages: [StageTime]
    }

    /// How long a step of the workflow took, for a front end or a benchmark to show.
    public struct StageTime: Sendable, CustomStringConvertible {
        public var name: String
        public var elapsed: Duration

        public init(_ name: String, _ elapsed: Duration) {
            self.name = name
            self.elapsed = elapsed
        }

        public var description: String {
            "\(name) \(Int((elapsed / .milliseconds(1)).rounded())) ms"
        }
    }

    /// Builds the bundle, packages it and, with `push`, pushes it under `options.name`.
    ///
    /// `SOURCE_DATE_EPOCH` is read before anything is built, so that a bad value fails at once.
    public func buildImage(
        _ project: Project,
        configuration: BuildConfiguration,
        verbose: Bool = false,
        options: ImageOptions,
        push: Bool = false
    ) async throws(PipelineError) -> ImageBuild {
        let creationTime = try self.creationTime()
        let clock = ContinuousClock()
        var start = clock.now
        var stages: [StageTime] = []
        let bundle = try build(project, configuration: configuration, verbose: verbose)
        stages.append(StageTime("build", clock.now - start))
        start = clock.now
        let image = try await package(bundle, of: project, options: options, creationTime: creationTime)
        stages.append(StageTime("package", clock.now - start))
        guard push, let name = options.name else {
            return ImageBuild(bundle: bundle, image: image, pushed: nil, stages: stages)
        }
        var source = image.output
        source.tag = image.tag
        let destination: ImageReference
        do throws(ImageError) {
            destination = try name.tagged(byDefault: image.tag)
        } catch {
            throw PipelineError(error, code: .registry)
        }
        start = clock.now
        let pushed = try await self.push(source, to: destination, insecure: options.insecure)
        stages.append(StageTime("push", clock.now - start))
        return ImageBuild(bundle: bundle, image: image, pushed: pushed, stages: stages)
    }

    /// Checks `agnost.yaml` and compiles the bundle, or finds the one already built from the same inputs.
    public func build(
        _ project: Project,
        configuration: BuildConfiguration,
        verbose: Bool = false
    ) throws(PipelineError) -> BuildResult {
        let report = self.report
        let start = ContinuousClock.now
        do throws(CompilerError) {
            let result = try BundleBuilder(verbose: verbose) { report(.compile($0)) }.build(
                project: project.directory,
                displayPath: project.displayPath,
                configuration: configuration
            )
            report(.bundleReady(result, elapsed: ContinuousClock.now - start))
            return result
        } catch {
            throw PipelineError(error)
        }
    }

    /// Packages a bundle as an image, pulling a registry base into the project's cache first.
    ///
    /// - Parameter creationTime: every time stamp of the image; by default `SOURCE_DATE_EPOCH`, or 0.
    public func package(
        _ bundle: BuildResult,
        of project: Project,
        options: ImageOptions,
        creationTime: Int64? = nil
    ) async throws(PipelineError) -> PackagedImage {
        let start = ContinuousClock.now
        let creationTime = if let creationTime { creationTime } else { try self.creationTime() }
        var base: LayoutReference?
        var baseName: String?
        switch options.base {
        case .layout(let layout):
            base = layout
        case .registry(let reference):
            let cached = LayoutReference(
                transport: .layout,
                path: project.agnostDirectory.appendingPathComponent("cache/base").path,
                tag: "base"
            )
            _ = try await pull(reference, into: cached, platform: ImagePuller.hostPlatform, insecure: options.insecure)
            base = cached
            baseName = reference.description
        case nil:
            break
        }
        let request = ImagePackageRequest(
            bundleDirectory: bundle.bundleDirectory.path,
            title: bundle.manifest.app,
            version: bundle.manifest.version,
            revision: ImagePackageRequest.gitRevision(of: project.directory.path),
            creationTime: creationTime,
            base: base,
            baseName: baseName,
            output: options.output ?? LayoutReference(transport: .layout, path: project.defaultImageLayout),
            imageRepository: options.name.map { "\($0.registry)/\($0.repository)" },
            imageTag: options.name?.tag,
            cacheDirectory: project.agnostDirectory.appendingPathComponent("cache").path,
            ownsOutput: options.output == nil
        )
        let report = self.report
        do throws(ImageError) {
            let image = try ImagePackager { report(.package($0)) }.package(request)
            report(.packaged(image, service: bundle.manifest.serviceName, elapsed: ContinuousClock.now - start))
            return image
        } catch {
            throw PipelineError(error)
        }
    }

    /// The image the last build of `project` wrote into its own layout, and the name it was built for.
    public func lastBuiltImage(of project: Project) throws(PipelineError) -> (source: LayoutReference, name: String?) {
        let layout = project.defaultImageLayout
        do throws(ImageError) {
            let entry = try ImageLayout(directory: layout).newestEntry()
            let source = LayoutReference(
                transport: .layout,
                path: layout,
                tag: entry.annotations?[AnnotationKey.refName]
            )
            return (source, entry.annotations?[AnnotationKey.containerdImageName])
        } catch {
            throw PipelineError(error, code: .registry)
        }
    }

    /// Pushes the image `source` names to `destination` and returns where it is, pinned by digest.
    ///
    /// - Parameter insecure: talk plain HTTP even to a registry that is not on this machine.
    public func push(
        _ source: LayoutReference,
        to destination: ImageReference,
        insecure: Bool = false
    ) async throws(PipelineError) -> ImageReference {
        let start = ContinuousClock.now
        let report = self.report
        let pushed = try await transfer { config, locations throws(RegistryError) in
            try await ImagePusher(locations: locations) { report(.transfer($0)) }.push(
                from: source,
                to: destination,
                plainHTTP: insecure || destination.isLocal,
                credentials: try config.credentials(for: destination.credentialKey, environment: environment)
            )
        }
        report(.pushed(source: source, destination: pushed, elapsed: ContinuousClock.now - start))
        return pushed
    }

    /// Pulls `reference` (the `platform` image of a multi-platform one) into `destination`, and returns the digest
    /// of the manifest it took.
    public func pull(
        _ reference: ImageReference,
        into destination: LayoutReference,
        platform: Platform = ImagePuller.hostPlatform,
        insecure: Bool = false
    ) async throws(PipelineError) -> SHA256Digest {
        let start = ContinuousClock.now
        let report = self.report
        let digest = try await transfer { config, locations throws(RegistryError) in
            try await ImagePuller(locations: locations) { report(.transfer($0)) }.pull(
                reference,
                into: destination,
                platform: platform,
                plainHTTP: insecure || reference.isLocal,
                credentials: try config.credentials(for: reference.credentialKey, environment: environment)
            )
        }
        report(.pulled(source: reference, destination: destination, elapsed: ContinuousClock.now - start))
        return digest
    }

    /// `SOURCE_DATE_EPOCH`, or 0 when it is unset.
    public func creationTime() throws(PipelineError) -> Int64 {
        do throws(ImageError) {
            return try ImagePackageRequest.creationTime(environment: environment)
        } catch {
            throw PipelineError(error, code: .configuration)
        }
    }

    /// Runs a push or a pull with what both need: Docker's configuration, and the blob locations of the user's
    /// cache, saved only when the transfer succeeds, so that one cancelled or failed leaves nothing half-written.
    private func transfer<Result>(
        _ body: (DockerConfig, BlobLocationCache) async throws(RegistryError) -> Result
    ) async throws(PipelineError) -> Result {
        do throws(RegistryError) {
            let config = try DockerConfig(path: DockerConfig.defaultPath(environment: environment))
            let locations = BlobLocationCache(file: BlobLocationCache.defaultPath(environment: environment))
            let result = try await body(config, locations)
            do throws(RegistryError) {
                try locations.save()
            } catch {
                // A cache that cannot be written costs later pushes a mount, not this one its result.
                report(.warning(error.description))
            }
            return result
        } catch {
            throw PipelineError(error)
        }
    }
}
