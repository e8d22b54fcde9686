import AgnostDigest
import AgnostImage
import AgnostTestSupport
import Foundation
import Testing

@testable import AgnostRegistry

/// Pulling what skopeo pushed, and choosing a platform from an index.
struct ImagePullerTests {
    @Test func anImageSkopeoPushedIsPulledWithTheSameManifestDigest() throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        try Tool.output(
            "/usr/bin/skopeo",
            [
                "--insecure-policy", "copy", "--dest-tls-verify=false", "oci:\(image.layout):v1",
                "docker://\(registry.host)/by-skopeo:v1",
            ]
        )
        let output = "\(image.folder)/pulled"
        let digest = try ImagePuller().pull(
            try ImageReference(parsing: "\(registry.host)/by-skopeo:v1"),
            into: LayoutReference(transport: .layout, path: output, tag: "stable"),
            platform: Platform(architecture: "amd64", os: "linux"),
            plainHTTP: true,
            credentials: nil
        )
        #expect(digest == image.image.manifestDigest)
        let inspected = try Tool.output("/usr/bin/skopeo", ["inspect", "oci:\(output):stable"])
        #expect(inspected.contains(#""Digest": "\#(digest)""#), "\(inspected)")
        for layer in image.image.manifest.layers {
            #expect(FileManager.default.fileExists(atPath: "\(output)/blobs/sha256/\(layer.digest.dropFirst(7))"))
        }
    }

    @Test func aMissingRepositoryIsNamedUnknown() throws {
        let registry = try RegistryFixture()
        #expect {
            try ImagePuller().pull(
                try ImageReference(parsing: "\(registry.host)/nothing-here:v1"),
                into: LayoutReference(transport: .layout, path: "/nonexistent/never-written"),
                platform: Platform(architecture: "amd64", os: "linux"),
                plainHTTP: true,
                credentials: nil
            )
        } throws: { error in
            let error = error as? RegistryError
            return error?.code == .notFound && error?.message.contains("name unknown (404)") == true
                && error?.context == "\(registry.host)/nothing-here:v1"
        }
    }

    static func entry(_ os: String, _ architecture: String, _ variant: String? = nil, _ text: String) -> Descriptor {
        Descriptor(
            mediaType: MediaType.imageManifest,
            digest: SHA256.hash(text.utf8),
            size: 1,
            platform: Platform(architecture: architecture, os: os, variant: variant)
        )
    }

    @Test func theWantedPlatformIsChosenFromAnIndex() throws {
        let reference = try ImageReference(parsing: "example.com/multi:v1")
        let entries = [
            Self.entry("linux", "arm", "v7", "arm"), Self.entry("linux", "arm64", "v8", "arm64"),
            Self.entry("linux", "amd64", nil, "amd64"), Self.entry("windows", "amd64", nil, "windows"),
        ]
        let amd64 = try PlatformSelection.choose(
            Platform(architecture: "amd64", os: "linux"),
            from: entries,
            reference: reference
        )
        #expect(amd64 == entries[2])
        let arm64 = try PlatformSelection.choose(
            Platform(architecture: "arm64", os: "linux", variant: "v8"),
            from: entries,
            reference: reference
        )
        #expect(arm64 == entries[1])
        #expect {
            try PlatformSelection.choose(
                Platform(architecture: "s390x", os: "linux"),
                from: entries,
                reference: reference
            )
        } throws: { error in
            (error as? RegistryError)?.message
                == "the image has no linux/s390x variant; it has linux/arm, linux/arm64, linux/amd64, windows/amd64; "
                + "choose one with --platform"
        }
    }
}
