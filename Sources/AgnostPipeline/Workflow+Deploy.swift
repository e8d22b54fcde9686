import AgnostBundle
import AgnostCompiler
import AgnostKnative
import AgnostOCI
import AgnostSpec
import Foundation

/// Which cluster, as kubectl picks one: a kubeconfig file (or `$KUBECONFIG`, or `~/.kube/config`, or the pod's
/// service account), a context in it, and a namespace.
public struct ClusterOptions: Sendable {
    public var kubeconfig: String?
    public var context: String?
    public var namespace: String?

    public init(kubeconfig: String? = nil, context: String? = nil, namespace: String? = nil) {
        self.kubeconfig = kubeconfig
        self.context = context
        self.namespace = namespace
    }
}

/// How ``Workflow/deploy(_:options:)`` goes.
public struct DeployOptions: Sendable {
    /// The repository to push to; nil takes `image:` from `agnost.yaml`.
    public var image: ImageReference?
    public var cluster = ClusterOptions()
    public var dryRun = false
    /// How long to wait for the new revision; nil returns once the objects are applied.
    public var wait: Duration? = .seconds(300)
    /// Talk plain HTTP to a registry that is not on this machine.
    public var insecure = false
    /// The Broker in the namespace that the app's queues go through.
    public var broker = "default"

    public init(image: ImageReference? = nil, cluster: ClusterOptions = ClusterOptions()) {
        self.image = image
        self.cluster = cluster
    }
}

extension Workflow {
    /// What a deploy did, for the front end to show.
    public struct Deployment: Sendable {
        /// The image the Service runs, `REPOSITORY@sha256:…`.
        public var image: String
        public var result: Deployer.Result
        /// How long each step took: build, package, push, apply, wait.
        public var stages: [StageTime]
    }

    /// Check → build (release) → package → push → render → apply → wait: puts the project's version on Knative.
    ///
    /// ```swift
    /// let deployment = try await workflow.deploy(project, options: DeployOptions(cluster: .init(namespace: "demo")))
    /// print(deployment.result.url ?? "")
    /// ```
    public func deploy(_ project: Project, options: DeployOptions) async throws(PipelineError) -> Deployment {
        // The cluster is resolved first: a kubeconfig that cannot be used should fail before minutes of building.
        let deployer = try self.deployer(options.cluster)
        let built = try await buildAndPush(project, to: options.image, insecure: options.insecure)
        do throws(DeployError) {
            let result = try await deployer.deploy(
                built.manifest,
                image: built.image,
                options: Deployer.Options(dryRun: options.dryRun, wait: options.wait, broker: options.broker)
            )
            let stages =
                built.stages + [StageTime("apply", result.applyElapsed), StageTime("wait", result.waitElapsed)]
            return Deployment(image: built.image, result: result, stages: stages)
        } catch {
            throw PipelineError(error)
        }
    }

    /// The manifests deploy would apply for a first deploy (no API keys, and no internal token, which is never
    /// rendered, nor the cron sender token made from it): of `image` when it is pinned by digest, else of the image
    /// built and pushed to `image` (or to agnost.yaml's `image:`). Queue messages go to the address Knative's
    /// default Broker class gives `broker`, as no cluster is asked.
    public func render(
        _ project: Project,
        image: ImageReference?,
        namespace: String,
        broker: String = "default",
        insecure: Bool = false
    ) async throws(PipelineError) -> RenderedVersion {
        let manifest: BundleManifest
        let pinned: String
        if let image, let digest = image.digest {
            manifest = try plan(project).manifest
            pinned = "\(image.registry)/\(image.repository)@\(digest)"
        } else {
            let built = try await buildAndPush(project, to: image, insecure: insecure)
            (manifest, pinned) = (built.manifest, built.image)
        }
        do throws(ManifestError) {
            return try ManifestRenderer.render(
                manifest,
                options: RenderOptions(
                    namespace: namespace,
                    image: pinned,
                    secret: VersionSecretData(internalToken: "", apiKeys: []),
                    broker: broker
                )
            )
        } catch {
            throw PipelineError(.deploy, error.description, context: manifest.serviceName, underlying: error)
        }
    }

    /// Builds the release bundle and image and pushes it to `repository` (else agnost.yaml's `image:`); returns
    /// the bundle's manifest and the image as Knative should run it, `REPOSITORY@sha256:…`, without a tag.
    func buildAndPush(
        _ project: Project,
        to repository: ImageReference?,
        insecure: Bool
    ) async throws(PipelineError) -> (manifest: BundleManifest, image: String, stages: [StageTime]) {
        let name = if let repository { repository } else { try imageName(of: project) }
        var imageOptions = ImageOptions(name: name)
        imageOptions.insecure = insecure
        let built = try await buildImage(project, configuration: .release, options: imageOptions, push: true)
        guard let pushed = built.pushed, let digest = pushed.digest else {
            preconditionFailure("a pushed image is pinned by digest")
        }
        return (built.bundle.manifest, "\(pushed.registry)/\(pushed.repository)@\(digest)", built.stages)
    }

    /// A deployer for the cluster `options` name, reporting through the workflow.
    public func deployer(_ options: ClusterOptions) throws(PipelineError) -> Deployer {
        let access: ClusterAccess
        do throws(KubeconfigError) {
            access = try KubeconfigLoader.resolve(
                explicitPath: options.kubeconfig,
                context: options.context,
                namespace: options.namespace,
                environment: environment,
                homeDirectory: environment["HOME"] ?? NSHomeDirectory()
            )
        } catch {
            throw PipelineError(.cluster, error.message, context: nil, underlying: error)
        }
        let report = self.report
        return Deployer(client: KubernetesClient(access: access), namespace: access.namespace) { report(.deploy($0)) }
    }

    /// `agnost.yaml` checked, and the runtime's plan of it: everything the manifests need, without a build.
    public func plan(_ project: Project) throws(PipelineError) -> (spec: AppSpec, manifest: BundleManifest) {
        do throws(CompilerError) {
            let checked = try BundleBuilder.checkSpec(
                at: project.directory.appendingPathComponent("agnost.yaml"),
                displayPath: project.specDisplayPath
            )
            return (checked.spec, BuildPlan(spec: checked.spec, specDigest: checked.digest).manifest)
        } catch {
            throw PipelineError(error)
        }
    }

    /// The repository `image:` in `agnost.yaml` names.
    public func imageName(of project: Project) throws(PipelineError) -> ImageReference {
        guard let text = try plan(project).spec.image else {
            throw PipelineError(
                .configuration,
                "no image to push to: add `image: REGISTRY/NAME` to \(project.specDisplayPath), or name one for "
                    + "this deploy",
                context: nil,
                underlying: CompilerError(.invalidSpec, "no image")
            )
        }
        do throws(ImageError) {
            return try ImageReference(parsing: text)
        } catch {
            throw PipelineError(
                .configuration,
                "\(project.specDisplayPath): image: \(error.message)",
                context: nil,
                underlying: error
            )
        }
    }
}

extension PipelineError {
    public init(_ error: DeployError) {
        self.init(.deploy, error.message, context: error.context, underlying: error)
    }
}
