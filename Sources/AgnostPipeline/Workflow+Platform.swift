import AgnostCompiler
import AgnostDigest
import AgnostOCI
import AgnostPlatform
import Foundation

/// How ``Workflow/deploy(_:through:options:)`` goes.
public struct PlatformDeployOptions: Sendable {
    /// The repository to push to; nil takes `image:` from `agnost.yaml`.
    public var image: ImageReference?
    /// Talk plain HTTP to a registry that is not on this machine.
    public var insecure = false
    /// How long to follow the deployment; the platform goes on with it after.
    public var timeout: Duration = .seconds(300)

    public init(image: ImageReference? = nil) {
        self.image = image
    }
}

extension Workflow {
    /// What a deploy through the platform did.
    public struct PlatformDeployment: Sendable {
        /// The image the platform deploys, `REPOSITORY@sha256:…`.
        public var image: String
        public var deployment: PlatformViews.Deployment
        /// How long building, packaging and pushing took.
        public var stages: [StageTime]
    }

    /// Check → build (release) → package → push → register the version's `agnost.yaml` → ask the platform to deploy
    /// the pushed digest → follow its progress until the revision serves or fails.
    ///
    /// ```swift
    /// let client = try PlatformClient(url: "http://127.0.0.1:8090", token: token)
    /// let result = try await workflow.deploy(project, through: client, options: PlatformDeployOptions())
    /// print(result.deployment.url ?? result.deployment.outcome)
    /// ```
    public func deploy(
        _ project: Project,
        through platform: PlatformClient,
        options: PlatformDeployOptions
    ) async throws(PipelineError) -> PlatformDeployment {
        let specFile = project.directory.appendingPathComponent("agnost.yaml")
        // The text is read before the build, which checks it: the version the platform keeps is what was built.
        guard let spec = try? String(contentsOf: specFile, encoding: .utf8) else {
            throw PipelineError(
                .configuration,
                "cannot read \(project.specDisplayPath)",
                context: project.specDisplayPath,
                underlying: CompilerError(.invalidSpec, "unreadable")
            )
        }
        let built = try await buildAndPush(project, to: options.image, insecure: options.insecure)
        guard let digest = built.manifest.specDigest.isEmpty ? nil : built.manifest.specDigest,
            digest == SHA256.hash(spec.utf8).description
        else {
            throw PipelineError(
                .configuration,
                "\(project.specDisplayPath) changed during the build; deploy again",
                context: project.specDisplayPath,
                underlying: CompilerError(.invalidSpec, "changed")
            )
        }
        let manifest = built.manifest
        do throws(PlatformClientError) {
            _ = try await platform.register(app: manifest.app, version: manifest.version, spec: spec, digest: digest)
            let requested = try await platform.requestDeployment(
                app: manifest.app,
                version: manifest.version,
                image: built.image
            )
            report(.platform("deployment \(requested.id) of \(manifest.serviceName) requested"))
            let followed = try await platform.follow(requested, timeout: options.timeout) { line in
                report(.platform(line))
            }
            return PlatformDeployment(image: built.image, deployment: followed, stages: built.stages)
        } catch {
            throw PipelineError(error)
        }
    }
}

extension PipelineError {
    public init(_ error: PlatformClientError) {
        self.init(.deploy, error.message, context: error.context, underlying: error)
    }
}
