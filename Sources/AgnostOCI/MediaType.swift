/// The OCI media types the packager writes, and the Docker ones it accepts from base images.
public enum MediaType {
    public static let imageIndex = "application/vnd.oci.image.index.v1+json"
    public static let imageManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let imageConfig = "application/vnd.oci.image.config.v1+json"
    public static let layerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let layerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let layerTar = "application/vnd.oci.image.layer.v1.tar"

    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"

    /// The OCI name of a layer media type, mapping Docker's to the OCI type with the same bytes; nil when the
    /// type is not a layer type the packager can carry over (foreign or encrypted layers, say).
    public static func ociLayerType(for mediaType: String) -> String? {
        switch mediaType {
        case layerGzip, "application/vnd.docker.image.rootfs.diff.tar.gzip": layerGzip
        case layerZstd, "application/vnd.docker.image.rootfs.diff.tar.zstd": layerZstd
        case layerTar, "application/vnd.docker.image.rootfs.diff.tar": layerTar
        default: nil
        }
    }
}

/// The `org.opencontainers.image.*` annotation keys the packager writes.
public enum AnnotationKey {
    public static let created = "org.opencontainers.image.created"
    public static let title = "org.opencontainers.image.title"
    public static let version = "org.opencontainers.image.version"
    public static let revision = "org.opencontainers.image.revision"
    public static let refName = "org.opencontainers.image.ref.name"
    public static let baseName = "org.opencontainers.image.base.name"
    public static let baseDigest = "org.opencontainers.image.base.digest"
    /// The full image name of an index entry, as containerd's `ctr import` reads it.
    public static let containerdImageName = "io.containerd.image.name"
}
