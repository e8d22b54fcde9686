import AgnostOCI

/// The image to build, before any layer is written: the platform, the base image, and each new layer's entries.
public struct ImagePlan: Sendable {
    public var platform: Platform
    public var base: LayoutImage?
    /// The layers this build adds, in order; a layer with nothing the base lacks is left out.
    public var layers: [PlannedLayer]
}

/// One layer the packager adds.
public struct PlannedLayer: Sendable {
    public enum Role: String, Sendable {
        /// Shared libraries, CA certificates, users and `/tmp`: what the server needs from an operating system.
        case system
        /// `/app/server` and `/app/bundle.json`.
        case app
    }

    public var role: Role
    public var contents: LayerContents
    /// The `created_by` of the layer's history entry.
    public var description: String
}

/// Turns a bundle and an optional base image into an ``ImagePlan``.
enum ImagePlanner {
    static let user = "65532"
    static let serverPath = "/app/server"
    static let bundlePath = "/app/bundle.json"
    static let certificates = "/etc/ssl/certs/ca-certificates.crt"

    static func plan(
        bundle: CheckedBundle,
        base: LayoutImage?,
        baseFileSystem: ImageFileSystem?,
        certificatesSource: String = certificates
    ) throws(ImageError) -> ImagePlan {
        var systemEntries = bundle.closure.entries
        systemEntries += [
            LayerEntry(path: try ImagePath(certificates), kind: .file(.path(certificatesSource)), mode: 0o644),
            LayerEntry(path: try ImagePath("/etc/passwd"), kind: .file(.bytes(Array(passwd.utf8))), mode: 0o644),
            LayerEntry(path: try ImagePath("/etc/group"), kind: .file(.bytes(Array(group.utf8))), mode: 0o644),
            .directory(try ImagePath("/tmp"), mode: 0o1777),
        ]
        if let baseFileSystem {
            systemEntries = over(baseFileSystem, systemEntries)
        }
        let appEntries = [
            LayerEntry.directory(try ImagePath("/app")),
            LayerEntry(path: try ImagePath(serverPath), kind: .file(.path(bundle.server)), mode: 0o755),
            LayerEntry(path: try ImagePath(bundlePath), kind: .file(.path(bundle.manifest)), mode: 0o644),
        ]
        var layers: [PlannedLayer] = []
        if !systemEntries.isEmpty {
            layers.append(
                PlannedLayer(
                    role: .system,
                    contents: try LayerContents(systemEntries),
                    description: "agnost-fn: shared libraries of the server, CA certificates, users, /tmp"
                )
            )
        }
        layers.append(
            PlannedLayer(
                role: .app,
                contents: try LayerContents(appEntries),
                description: "agnost-fn: \(serverPath) and \(bundlePath)"
            )
        )
        return ImagePlan(
            platform: Platform(architecture: bundle.closure.architecture, os: "linux"),
            base: base,
            layers: layers
        )
    }

    /// The entries a base image lacks, each placed where it lands through the base's own directory links (a base
    /// with a merged `/usr` gets `usr/lib/…`, never a `lib` directory over its `lib -> usr/lib` link).
    private static func over(_ base: ImageFileSystem, _ entries: [LayerEntry]) -> [LayerEntry] {
        var placed: [ImagePath: ImagePath] = [:]
        for entry in entries where !base.contains(entry.path) {
            placed[entry.path] = base.placement(of: entry.path)
        }
        return entries.compactMap { entry in
            guard let path = placed[entry.path] else { return nil }
            var entry = entry
            entry.path = path
            if case .hardLink(let target) = entry.kind {
                // The base has the target already, so the link cannot be a hard link within this layer.
                entry.kind = placed[target].map { .hardLink(target: $0) } ?? .symlink(target: target.absolute)
            }
            return entry
        }
    }

    /// A root entry for tools that look users up, and `nonroot` (65532) that the server runs as, as in distroless.
    static let passwd = """
        root:x:0:0:root:/root:/sbin/nologin
        nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin

        """
    static let group = """
        root:x:0:
        nonroot:x:65532:

        """
}
