import AgnostDigest
import AgnostImage
import AgnostOCI
import AgnostTestSupport
import Foundation
import Testing

@testable import AgnostRegistry

/// Pulling what skopeo pushed, and choosing a platform from an index.
struct ImagePullerTests {
    @Test func anImageSkopeoPushedIsPulledWithTheSameManifestDigest() async throws {
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
        let digest = try await ImagePuller().pull(
            try ImageReference(parsing: "\(registry.host)/by-skopeo:v1"),
            into: LayoutReference(transport: .layout, path: output, tag: "stable"),
            platform: ImagePuller.hostPlatform,
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

    @Test func aSecondPullFetchesNoBlobAndRecordsWhereTheBlobsAre() async throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        try Tool.output(
            "/usr/bin/skopeo",
            [
                "--insecure-policy", "copy", "--dest-tls-verify=false", "oci:\(image.layout):v1",
                "docker://\(registry.host)/team/base:v1",
            ]
        )
        let locations = BlobLocationCache(file: nil)
        let output = LayoutReference(transport: .layout, path: "\(image.folder)/pulled", tag: "v1")
        let reference = try ImageReference(parsing: "\(registry.host)/team/base:v1")
        let platform = ImagePuller.hostPlatform
        let events = Outcomes()
        let progress = Events()
        _ = try await ImagePuller(
            locations: locations,
            report: {
                events.record($0); progress.record($0)
            }
        ).pull(
            reference,
            into: output,
            platform: platform,
            plainHTTP: true,
            credentials: nil
        )
        #expect(events.all == [.downloaded, .downloaded, .downloaded])
        let system = image.image.manifest.layers[0]
        #expect(progress.progress(of: system.digestValue).last == system.size)
        let first = registry.requests
        #expect(first.filter { $0.hasPrefix("GET /v2/team/base/blobs/sha256:") }.count == 3)
        for layer in image.image.manifest.layers {
            #expect(locations.repositories(holding: layer.digestValue, registry: registry.host) == ["team/base"])
        }

        let again = Outcomes()
        let digest = try await ImagePuller(report: again.record).pull(
            reference,
            into: output,
            platform: platform,
            plainHTTP: true,
            credentials: nil
        )
        #expect(digest == image.image.manifestDigest)
        #expect(again.all == [.present, .present, .present])
        let second = Array(registry.requests.dropFirst(first.count))
        #expect(second.filter { $0.contains("/blobs/") }.isEmpty, "\(second)")
        #expect(second.contains("GET /v2/team/base/manifests/v1"))
    }

    @Test func aBlobThatDoesNotMatchItsDigestIsRefusedAndLeavesNothing() async throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        try Tool.output(
            "/usr/bin/skopeo",
            [
                "--insecure-policy", "copy", "--dest-tls-verify=false", "oci:\(image.layout):v1",
                "docker://\(registry.host)/corrupt:v1",
            ]
        )
        // The registry serves what its storage holds: flip one byte of the app layer there.
        let layer = image.image.manifest.layers[1]
        let hex = layer.digest.dropFirst(7)
        let stored = "\(registry.folder)/storage/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: stored))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: stored))

        let output = "\(image.folder)/pulled"
        await #expect {
            try await ImagePuller().pull(
                try ImageReference(parsing: "\(registry.host)/corrupt:v1"),
                into: LayoutReference(transport: .layout, path: output),
                platform: ImagePuller.hostPlatform,
                plainHTTP: true,
                credentials: nil
            )
        } throws: { error in
            let error = error as? RegistryError
            return error?.code == .invalidContent && error?.context == "\(registry.host)/corrupt:v1"
                && error?.message.contains("blob \(layer.digest) arrived with digest sha256:") == true
        }
        let blobs = try FileManager.default.contentsOfDirectory(atPath: "\(output)/blobs/sha256")
        #expect(!blobs.contains(String(hex)))
        #expect(!blobs.contains { $0.contains("partial") }, "\(blobs)")
    }

    @Test func aMissingRepositoryIsNamedUnknown() async throws {
        let registry = try RegistryFixture()
        await #expect {
            try await ImagePuller().pull(
                try ImageReference(parsing: "\(registry.host)/nothing-here:v1"),
                into: LayoutReference(transport: .layout, path: "/nonexistent/never-written"),
                platform: ImagePuller.hostPlatform,
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
            let error = error as? RegistryError
            return error?.message
                == "the image has no linux/s390x variant; it has linux/arm, linux/arm64, linux/amd64, windows/amd64; "
                + "choose one of them"
                && error?.remedy == .choosePlatform
        }
    }
}
