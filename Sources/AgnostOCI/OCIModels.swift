import AgnostDigest

/// A content descriptor: what a blob is, its digest and its size.
public struct Descriptor: Codable, Sendable, Hashable {
    public var mediaType: String
    /// `sha256:<hex>`.
    public var digest: String
    public var size: Int64
    public var platform: Platform?
    public var annotations: [String: String]?

    public init(
        mediaType: String,
        digest: SHA256Digest,
        size: Int64,
        platform: Platform? = nil,
        annotations: [String: String]? = nil
    ) {
        self.mediaType = mediaType
        self.digest = digest.description
        self.size = size
        self.platform = platform
        self.annotations = annotations
    }

    /// The digest, checked to be `sha256:` and 64 hex digits, so that it can name a file under `blobs/sha256`.
    public func validatedDigest() throws(ImageError) -> SHA256Digest {
        guard let parsed = SHA256Digest(prefixed: digest) else {
            throw ImageError(
                .invalidLayout,
                "unsupported digest; only sha256:<64 hex digits> is accepted",
                context: digest
            )
        }
        return parsed
    }
}

/// The operating system and architecture an image runs on.
public struct Platform: Codable, Sendable, Hashable {
    public var architecture: String
    public var os: String
    public var variant: String?

    public init(architecture: String, os: String, variant: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
    }

    enum CodingKeys: String, CodingKey {
        case architecture
        case os
        case variant
    }
}

/// An image manifest: one config and its layers.
public struct ImageManifest: Codable, Sendable, Hashable {
    public var schemaVersion = 2
    public var mediaType: String? = MediaType.imageManifest
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    public init(config: Descriptor, layers: [Descriptor], annotations: [String: String]?) {
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

/// An image index: the top of an OCI layout (`index.json`) or a multi-platform image.
public struct ImageIndex: Codable, Sendable, Hashable {
    public var schemaVersion = 2
    public var mediaType: String? = MediaType.imageIndex
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.manifests = manifests
        self.annotations = annotations
    }
}

/// An image configuration: the platform, how to run the image, and the uncompressed digests of its layers.
///
/// Field names follow the OCI image spec (`config.Env`, `rootfs.diff_ids`); fields the packager does not use are
/// not kept when a base image's configuration is read.
public struct ImageConfiguration: Codable, Sendable, Hashable {
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    public var config: RunConfiguration?
    public var rootfs: RootFileSystem
    public var history: [History]?

    public init(
        created: String?,
        architecture: String,
        os: String,
        config: RunConfiguration,
        rootfs: RootFileSystem,
        history: [History]
    ) {
        self.created = created
        self.architecture = architecture
        self.os = os
        self.config = config
        self.rootfs = rootfs
        self.history = history
    }

    /// How a container of the image is started.
    public struct RunConfiguration: Codable, Sendable, Hashable {
        public var user: String?
        public var exposedPorts: [String: EmptyObject]?
        public var env: [String]?
        public var entrypoint: [String]?
        public var cmd: [String]?
        public var volumes: [String: EmptyObject]?
        public var workingDir: String?
        public var labels: [String: String]?
        public var stopSignal: String?

        public init() {}

        enum CodingKeys: String, CodingKey {
            case user = "User"
            case exposedPorts = "ExposedPorts"
            case env = "Env"
            case entrypoint = "Entrypoint"
            case cmd = "Cmd"
            case volumes = "Volumes"
            case workingDir = "WorkingDir"
            case labels = "Labels"
            case stopSignal = "StopSignal"
        }
    }

    public struct RootFileSystem: Codable, Sendable, Hashable {
        public var type = "layers"
        public var diffIDs: [String]

        public init(diffIDs: [String]) {
            self.diffIDs = diffIDs
        }

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    public struct History: Codable, Sendable, Hashable {
        public var created: String?
        public var createdBy: String?
        public var comment: String?
        public var emptyLayer: Bool?

        public init(created: String?, createdBy: String, comment: String? = nil) {
            self.created = created
            self.createdBy = createdBy
            self.comment = comment
        }

        enum CodingKeys: String, CodingKey {
            case created
            case createdBy = "created_by"
            case comment
            case emptyLayer = "empty_layer"
        }
    }
}

/// `{}`: the value of the set-like maps of an image configuration (`ExposedPorts`, `Volumes`).
public struct EmptyObject: Codable, Sendable, Hashable {
    public init() {}
}

extension SHA256Digest {
    /// Parses `sha256:<hex>`.
    package init?(prefixed text: String) {
        guard text.hasPrefix("sha256:") else { return nil }
        self.init(hex: text.dropFirst("sha256:".count))
    }
}
