import AgnostDigest
import Foundation

/// An OCI image layout on disk (`oci-layout`, `index.json`, `blobs/sha256/…`): reading the image a tag names, and
/// adding an image under a tag.
///
/// ```swift
/// let layout = ImageLayout(directory: "/tmp/base")
/// let base = try layout.image(tag: "v1", platform: Platform(architecture: "amd64", os: "linux"))
/// ```
public struct ImageLayout: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    package static let layoutMarker = "oci-layout"
    package static let layoutMarkerContents = Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)

    /// `index.json`, after checking that the folder is an OCI layout.
    public func index() throws(ImageError) -> ImageIndex {
        guard FileManager.default.fileExists(atPath: path(Self.layoutMarker)) else {
            throw ImageError(
                .invalidLayout,
                "not an OCI image layout (no oci-layout file); make one with 'skopeo copy … oci:DIR:TAG'",
                context: directory
            )
        }
        return try CanonicalJSON.decode(ImageIndex.self, from: read(path("index.json")), context: path("index.json"))
    }

    /// The blob a descriptor names, as a file of the layout, after checking that it is there with the right size.
    public func blob(_ descriptor: Descriptor) throws(ImageError) -> Blob {
        let digest = try descriptor.validatedDigest()
        let file = path("blobs/sha256/\(digest.hexString)")
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value
        guard let size else {
            throw ImageError(.invalidLayout, "blob \(descriptor.digest) is missing from the layout", context: file)
        }
        guard size == descriptor.size else {
            throw ImageError(
                .invalidLayout,
                "blob is \(size) bytes but its descriptor says \(descriptor.size)",
                context: file
            )
        }
        return Blob(digest: digest, size: size, contents: .path(file))
    }

    /// A small blob's bytes (a manifest, an index, a config), checked against the descriptor's digest.
    public func read(_ descriptor: Descriptor) throws(ImageError) -> [UInt8] {
        let blob = try blob(descriptor)
        let bytes = try read(path(blob.layoutPath))
        let hasher = SHA256Hasher()
        bytes.withUnsafeBytes { hasher.update($0) }
        guard hasher.finalize() == blob.digest else {
            throw ImageError(
                .invalidLayout,
                "blob does not match its digest \(descriptor.digest)",
                context: blob.layoutPath
            )
        }
        return bytes
    }

    /// The image a tag names (or the only image, when `tag` is nil), for `platform` when the tag names a
    /// multi-platform index.
    public func image(tag: String?, platform: Platform) throws(ImageError) -> LayoutImage {
        var descriptor = try entry(tag: tag)
        let reference = tag.map { "\(directory):\($0)" } ?? directory
        if descriptor.mediaType == MediaType.imageIndex || descriptor.mediaType == MediaType.dockerManifestList {
            let nested = try CanonicalJSON.decode(ImageIndex.self, from: read(descriptor), context: descriptor.digest)
            guard let match = nested.manifests.first(where: { $0.platform.map { Self.matches($0, platform) } ?? false })
            else {
                let platforms = nested.manifests.compactMap { $0.platform.map { "\($0.os)/\($0.architecture)" } }
                throw ImageError(
                    .invalidLayout,
                    "the image has no \(platform.os)/\(platform.architecture) variant; it has "
                        + platforms.joined(separator: ", "),
                    context: reference
                )
            }
            descriptor = match
        }
        guard descriptor.mediaType == MediaType.imageManifest || descriptor.mediaType == MediaType.dockerManifest else {
            throw ImageError(
                .invalidLayout,
                "unsupported manifest media type \(descriptor.mediaType)",
                context: reference
            )
        }
        let manifest = try CanonicalJSON.decode(ImageManifest.self, from: read(descriptor), context: descriptor.digest)
        let configuration = try CanonicalJSON.decode(
            ImageConfiguration.self,
            from: read(manifest.config),
            context: manifest.config.digest
        )
        guard Self.matches(Platform(architecture: configuration.architecture, os: configuration.os), platform) else {
            throw ImageError(
                .invalidLayout,
                "the image is for \(configuration.os)/\(configuration.architecture), but the server binary is for "
                    + "\(platform.os)/\(platform.architecture)",
                context: reference
            )
        }
        return LayoutImage(
            reference: reference,
            manifestDigest: try descriptor.validatedDigest(),
            manifest: manifest,
            configuration: configuration
        )
    }

    /// The `index.json` entry a tag names, or the only entry when `tag` is nil.
    public func entry(tag: String?) throws(ImageError) -> Descriptor {
        let entries = try index().manifests
        let tagged = entries.filter { tag == nil || $0.annotations?[AnnotationKey.refName] == tag }
        guard tagged.count == 1, let descriptor = tagged.first else {
            let tags = entries.compactMap { $0.annotations?[AnnotationKey.refName] }.sorted()
            let available = tags.isEmpty ? "it has no tagged images" : "its tags are \(tags.joined(separator: ", "))"
            let problem =
                tag == nil
                ? "holds \(entries.count) images; name one as oci:DIR:TAG"
                : tagged.isEmpty ? "has no image tagged '\(tag ?? "")'" : "has several images tagged '\(tag ?? "")'"
            throw ImageError(
                .invalidLayout,
                "the layout \(problem); \(available)",
                context: tag.map { "\(directory):\($0)" } ?? directory
            )
        }
        return descriptor
    }

    /// Makes the folder a layout that blobs can be added to, unless it is one: an empty one when it is new or
    /// empty, and an error when it holds anything else, which is never touched.
    ///
    /// - Returns: the images the layout already lists.
    @discardableResult
    public func prepareForWriting() throws(ImageError) -> [Descriptor] {
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: path(Self.layoutMarker)) {
            return try index().manifests
        }
        if let contents = try? fileManager.contentsOfDirectory(atPath: directory), !contents.isEmpty {
            throw ImageError(
                .invalidArgument,
                "the folder exists and is not an OCI image layout; name a new or empty folder",
                context: directory
            )
        }
        try Self.createDirectory(path("blobs/sha256"))
        try Self.replaceFile(path("index.json"), with: CanonicalJSON.encode(ImageIndex(manifests: [])))
        // The marker comes last: a folder with it is a complete layout.
        try Self.replaceFile(path(Self.layoutMarker), with: Self.layoutMarkerContents)
        return []
    }

    /// The entry added last: the packager appends each image it writes, so this is the latest build.
    public func newestEntry() throws(ImageError) -> Descriptor {
        guard let entry = try index().manifests.last else {
            throw ImageError(
                .invalidLayout,
                "the layout holds no image; build one into it first",
                context: directory
            )
        }
        return entry
    }

    /// Deletes the blobs that no image of `index.json` refers to: the layers of images a tag no longer names.
    public func removeUnreferencedBlobs() throws(ImageError) {
        var referenced: Set<String> = []
        var pending = try index().manifests
        while let descriptor = pending.popLast() {
            guard referenced.insert(descriptor.digest).inserted else { continue }
            switch descriptor.mediaType {
            case MediaType.imageIndex, MediaType.dockerManifestList:
                pending += try CanonicalJSON.decode(ImageIndex.self, from: read(descriptor), context: descriptor.digest)
                    .manifests
            case MediaType.imageManifest, MediaType.dockerManifest:
                let manifest = try CanonicalJSON.decode(
                    ImageManifest.self,
                    from: read(descriptor),
                    context: descriptor.digest
                )
                referenced.formUnion([manifest.config.digest] + manifest.layers.map(\.digest))
            default:
                continue
            }
        }
        let blobs = path("blobs/sha256")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blobs)) ?? []
        where !referenced.contains("sha256:\(name)") {
            unlink((blobs as NSString).appendingPathComponent(name))
        }
    }

    private static func matches(_ candidate: Platform, _ wanted: Platform) -> Bool {
        candidate.os == wanted.os && candidate.architecture == wanted.architecture
    }

    func path(_ relative: String) -> String {
        (directory as NSString).appendingPathComponent(relative)
    }

    private func read(_ file: String) throws(ImageError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ImageError(.invalidLayout, "cannot read the file", context: file)
        }
        return Array(data)
    }
}

/// An image read from a layout: its manifest and configuration; the layer blobs stay in the layout.
public struct LayoutImage: Sendable {
    /// `DIR:TAG`, as the user named it.
    public var reference: String
    public var manifestDigest: SHA256Digest
    public var manifest: ImageManifest
    public var configuration: ImageConfiguration

    public init(
        reference: String,
        manifestDigest: SHA256Digest,
        manifest: ImageManifest,
        configuration: ImageConfiguration
    ) {
        self.reference = reference
        self.manifestDigest = manifestDigest
        self.manifest = manifest
        self.configuration = configuration
    }
}
