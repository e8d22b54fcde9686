import AgnostDigest
import AgnostImage
import AgnostOCI
import AgnostRegistry
import AgnostTestSupport
import Foundation

/// A small image in a layout: `/usr/bin/env` as the server, packaged by AgnostImage.
final class ImageFixture {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-push-\(UUID().uuidString)").path
    var layout: String { "\(folder)/layout" }
    let image: PackagedImage

    init() throws {
        try FileManager.default.createDirectory(atPath: "\(folder)/bundle", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/usr/bin/env", toPath: "\(folder)/bundle/server")
        try Data(#"{"app":"probe"}"#.utf8).write(to: URL(fileURLWithPath: "\(folder)/bundle/bundle.json"))
        image = try ImagePackager().package(
            ImagePackageRequest(
                bundleDirectory: "\(folder)/bundle",
                title: "probe",
                version: "v1",
                output: LayoutReference(transport: .layout, path: "\(folder)/layout"),
                cacheDirectory: "\(folder)/cache"
            )
        )
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    /// Adds an index under `tag` of two platforms: the packaged image as linux/amd64, and the same layers with a
    /// config that says arm64 as linux/arm64. The labels are what the tests choose between, whatever this machine
    /// is; nothing in such an index is run.
    ///
    /// - Returns: the index's digest and the arm64 manifest's.
    func addMultiPlatformIndex(tag: String) throws -> (index: SHA256Digest, arm64: SHA256Digest) {
        let layout = ImageLayout(directory: self.layout)
        let amd64 = try layout.entry(tag: "v1")
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(layout.read(amd64)))
        var config = try JSONSerialization.jsonObject(with: Data(layout.read(manifest.config))) as! [String: Any]
        config["architecture"] = "arm64"
        let armConfig = Blob(bytes: Array(try JSONSerialization.data(withJSONObject: config, options: .sortedKeys)))
        let armManifest = Blob(
            bytes: Array(
                try JSONEncoder().encode(
                    ImageManifest(
                        config: Descriptor(
                            mediaType: MediaType.imageConfig,
                            digest: armConfig.digest,
                            size: armConfig.size
                        ),
                        layers: manifest.layers,
                        annotations: nil
                    )
                )
            )
        )
        let index = Blob(
            bytes: Array(
                try JSONEncoder().encode(
                    ImageIndex(manifests: [
                        Descriptor(
                            mediaType: MediaType.imageManifest,
                            digest: image.manifestDigest,
                            size: amd64.size,
                            platform: Platform(architecture: "amd64", os: "linux")
                        ),
                        Descriptor(
                            mediaType: MediaType.imageManifest,
                            digest: armManifest.digest,
                            size: armManifest.size,
                            platform: Platform(architecture: "arm64", os: "linux")
                        ),
                    ])
                )
            )
        )
        try layout.add(
            [armConfig, armManifest, index],
            entry: Descriptor(
                mediaType: MediaType.imageIndex,
                digest: index.digest,
                size: index.size,
                annotations: [AnnotationKey.refName: tag]
            )
        )
        return (index.digest, armManifest.digest)
    }

    /// Pushes the image the layout tags `tag` to `reference` over plain HTTP, as the registry tests do.
    func push(
        to reference: String,
        tag: String = "v1",
        with pusher: ImagePusher = ImagePusher(),
        credentials: (credentials: RegistryCredentials, source: String)? = nil
    ) async throws -> ImageReference {
        try await pusher.push(
            from: LayoutReference(transport: .layout, path: layout, tag: tag),
            to: try ImageReference(parsing: reference),
            plainHTTP: true,
            credentials: credentials
        )
    }

    /// The manifest digest of what `skopeo copy` makes of `reference` (`HOST/NAME:TAG`) in a new layout: the image
    /// as another client reads it back from the registry.
    func copiedBack(from reference: String) throws -> String {
        let copy = "\(folder)/copied-\(UUID().uuidString)"
        try Tool.output(
            "/usr/bin/skopeo",
            ["--insecure-policy", "copy", "--src-tls-verify=false", "docker://\(reference)", "oci:\(copy):copied"]
        )
        return try ImageLayout(directory: copy).entry(tag: "copied").digest
    }
}
