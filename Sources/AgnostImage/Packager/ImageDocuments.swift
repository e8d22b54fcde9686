import AgnostOCI
import Foundation

/// The configuration, manifest and index entry of a planned image whose layers are written: pure functions of
/// their inputs, so that equal inputs give equal bytes.
struct ImageDocuments: Sendable {
    var configuration: ImageConfiguration
    var manifest: ImageManifest
    var configBlob: Blob
    var manifestBlob: Blob
    /// The manifest as `index.json` lists it: platform, tag and image name.
    var indexEntry: Descriptor

    /// - Parameter layers: the blob of each of `plan.layers`, in the same order.
    init(plan: ImagePlan, layers: [LayerBlob], request: ImagePackageRequest) throws(ImageError) {
        let created = Self.timestamp(request.creationTime)
        var labels = [AnnotationKey.title: request.title, AnnotationKey.version: request.version]
        labels[AnnotationKey.revision] = request.revision

        var run = plan.base?.configuration.config ?? ImageConfiguration.RunConfiguration()
        run.env = Self.merge(
            environment: run.env ?? [],
            with: ["PORT=8080", "AGNOST_BUNDLE=\(ImagePlanner.bundlePath)"]
        )
        run.entrypoint = [ImagePlanner.serverPath]
        // The base's command was meant for its own entrypoint, not for the server.
        run.cmd = nil
        run.workingDir = "/app"
        run.user = Self.isNonRoot(run.user) ? run.user : ImagePlanner.user
        run.exposedPorts = (run.exposedPorts ?? [:]).merging(["8080/tcp": EmptyObject()]) { $1 }
        run.labels = (run.labels ?? [:]).merging(labels) { $1 }

        let baseHistory = plan.base?.configuration.history ?? []
        let baseDiffIDs = plan.base?.configuration.rootfs.diffIDs ?? []
        configuration = ImageConfiguration(
            created: created,
            architecture: plan.platform.architecture,
            os: plan.platform.os,
            config: run,
            rootfs: .init(diffIDs: baseDiffIDs + layers.map(\.diffID.description)),
            history: baseHistory + plan.layers.map { .init(created: created, createdBy: $0.description) }
        )
        configBlob = Blob(bytes: try CanonicalJSON.encode(configuration))

        var baseLayers: [Descriptor] = []
        for layer in plan.base?.manifest.layers ?? [] {
            guard let mediaType = MediaType.ociLayerType(for: layer.mediaType) else {
                throw ImageError(
                    .invalidLayout,
                    "the base image has a layer of type \(layer.mediaType), which the packager cannot carry over",
                    context: plan.base?.reference
                )
            }
            baseLayers.append(Descriptor(mediaType: mediaType, digest: try layer.validatedDigest(), size: layer.size))
        }
        var annotations = labels
        annotations[AnnotationKey.created] = created
        // The base's digest is what it is. Only a registry reference names it: a local layout's path is not a
        // name anyone else can resolve, and it would make the manifest depend on where the base is stored.
        annotations[AnnotationKey.baseDigest] = plan.base?.manifestDigest.description
        annotations[AnnotationKey.baseName] = plan.base == nil ? nil : request.baseName
        manifest = ImageManifest(
            config: Descriptor(mediaType: MediaType.imageConfig, digest: configBlob.digest, size: configBlob.size),
            layers: baseLayers
                + layers.map { Descriptor(mediaType: MediaType.layerGzip, digest: $0.digest, size: $0.size) },
            annotations: annotations
        )
        manifestBlob = Blob(bytes: try CanonicalJSON.encode(manifest))

        var entryAnnotations = [AnnotationKey.refName: request.tag]
        if let repository = request.imageRepository {
            entryAnnotations[AnnotationKey.containerdImageName] = "\(repository):\(request.tag)"
        }
        indexEntry = Descriptor(
            mediaType: MediaType.imageManifest,
            digest: manifestBlob.digest,
            size: manifestBlob.size,
            platform: plan.platform,
            annotations: entryAnnotations
        )
    }

    /// RFC 3339 in UTC, as OCI's `created` fields are written.
    static func timestamp(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// The base's environment with ours laid over it: a variable we set replaces the base's, the rest stay in order.
    static func merge(environment base: [String], with ours: [String]) -> [String] {
        let name: (String) -> Substring = { $0.prefix { $0 != "=" } }
        let replaced = Set(ours.map(name))
        return base.filter { !replaced.contains(name($0)) } + ours
    }

    /// A base image that already runs as an unprivileged user keeps it; one that runs as root gets `nonroot`.
    static func isNonRoot(_ user: String?) -> Bool {
        guard let user, !user.isEmpty else { return false }
        let account = user.prefix { $0 != ":" }
        return account != "0" && account != "root"
    }
}
