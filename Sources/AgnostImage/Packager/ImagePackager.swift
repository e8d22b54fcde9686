import AgnostDigest
import AgnostOCI
import Foundation
import Synchronization

/// What the packager reports while it works.
public enum PackagingEvent: Sendable {
    case stageFinished(String, Duration)
    /// A layer is ready; `reused` when it came from the cache without compressing.
    case layer(PlannedLayer.Role, LayerBlob, reused: Bool)
}

/// A packaged image: where it went and what it is made of.
public struct PackagedImage: Sendable {
    /// The manifest digest, which names the image byte for byte.
    public var manifestDigest: SHA256Digest
    public var output: LayoutReference
    public var tag: String
    public var manifest: ImageManifest
    public var configuration: ImageConfiguration
    /// The compressed size of the image: config, manifest and every layer, base layers included.
    public var size: Int64
}

/// Packages a bundle as an OCI image: check bundle → read base → plan layers → write layers → write image.
///
/// No daemon and no network: layers are tars written through libarchive, compressed with zlib, into a cache that
/// makes packaging an unchanged bundle again a matter of hashing its files.
///
/// ```swift
/// let image = try ImagePackager().package(request)
/// print(image.manifestDigest)   // sha256:…
/// ```
public struct ImagePackager: Sendable {
    private let report: @Sendable (PackagingEvent) -> Void

    public init(report: @escaping @Sendable (PackagingEvent) -> Void = { _ in }) {
        self.report = report
    }

    public func package(_ request: ImagePackageRequest) throws(ImageError) -> PackagedImage {
        let bundle = try stage("check bundle") { () throws(ImageError) in
            try CheckedBundle.check(directory: request.bundleDirectory)
        }
        let platform = Platform(architecture: bundle.closure.architecture, os: "linux")
        let base = try request.base.map { reference throws(ImageError) in
            try stage("read base \(reference)") { () throws(ImageError) in
                try Self.readBase(reference, platform: platform)
            }
        }
        let plan = try stage("plan layers") { () throws(ImageError) in
            try ImagePlanner.plan(bundle: bundle, base: base?.image, baseFileSystem: base?.fileSystem)
        }
        let layers = try stage("write layers") { () throws(ImageError) in
            try writeLayers(plan, request: request)
        }
        return try stage("write \(request.output)") { () throws(ImageError) in
            let documents = try ImageDocuments(plan: plan, layers: layers.map(\.blob), request: request)
            var blobs = [documents.configBlob, documents.manifestBlob]
            blobs += base?.layers ?? []
            blobs += layers.map { Blob(digest: $0.blob.digest, size: $0.blob.size, contents: .path($0.file)) }
            try ImageWriter.write(
                blobs: blobs,
                entry: documents.indexEntry,
                to: request.output,
                modificationTime: request.creationTime
            )
            if request.ownsOutput, request.output.transport == .layout {
                try ImageLayout(directory: request.output.path).removeUnreferencedBlobs()
            }
            return PackagedImage(
                manifestDigest: documents.manifestBlob.digest,
                output: request.output,
                tag: request.tag,
                manifest: documents.manifest,
                configuration: documents.configuration,
                size: documents.configBlob.size + documents.manifestBlob.size
                    + documents.manifest.layers.reduce(0) { $0 + $1.size }
            )
        }
    }

    private static func readBase(
        _ reference: LayoutReference,
        platform: Platform
    ) throws(ImageError) -> (image: LayoutImage, layers: [Blob], fileSystem: ImageFileSystem) {
        guard reference.transport == .layout else {
            throw ImageError(
                .invalidArgument,
                "a base image must be an OCI layout folder, oci:DIR[:TAG]",
                context: "--base"
            )
        }
        let layout = ImageLayout(directory: reference.path)
        let image = try layout.image(tag: reference.tag, platform: platform)
        var layers: [Blob] = []
        var layerFiles: [String] = []
        for descriptor in image.manifest.layers {
            let layer = try layout.blob(descriptor)
            layers.append(layer)
            if case .path(let file) = layer.contents { layerFiles.append(file) }
        }
        return (image, layers, try ImageFileSystem(layers: layerFiles))
    }

    /// Takes each layer from the cache or compresses it, the layers side by side on their own threads.
    private func writeLayers(_ plan: ImagePlan, request: ImagePackageRequest) throws(ImageError) -> [CachedLayer] {
        let cache = LayerCache(directory: (request.cacheDirectory as NSString).appendingPathComponent("layers"))
        let results = Mutex<[Int: Result<CachedLayer, ImageError>]>([:])
        DispatchQueue.concurrentPerform(iterations: plan.layers.count) { index in
            let layer = plan.layers[index]
            let result = Result { () throws(ImageError) -> CachedLayer in
                let key = try cache.key(
                    for: layer.contents,
                    modificationTime: request.creationTime,
                    compressionLevel: request.compressionLevel
                )
                if let cached = cache.lookup(key) {
                    report(.layer(layer.role, cached.blob, reused: true))
                    return cached
                }
                let stored = try cache.store(
                    layer.contents,
                    key: key,
                    modificationTime: request.creationTime,
                    compressionLevel: request.compressionLevel
                )
                report(.layer(layer.role, stored.blob, reused: false))
                return stored
            }
            results.withLock { $0[index] = result }
        }
        let layers = try plan.layers.indices.map { index throws(ImageError) in
            guard let result = results.withLock({ $0[index] }) else {
                throw ImageError(.fileSystem, "layer \(index) was not written")
            }
            return try result.get()
        }
        cache.prune(keeping: Set(layers.map(\.key)))
        return layers
    }

    private func stage<Value>(_ name: String, _ work: () throws(ImageError) -> Value) throws(ImageError) -> Value {
        let start = ContinuousClock.now
        let value = try work()
        report(.stageFinished(name, ContinuousClock.now - start))
        return value
    }
}
