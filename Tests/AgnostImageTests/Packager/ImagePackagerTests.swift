import AgnostOCI
import AgnostTestSupport
import Foundation
import Synchronization
import Testing

@testable import AgnostImage

/// The packager on a small real bundle (`/usr/bin/env` as the server), checked with skopeo and umoci.
struct ImagePackagerTests {
    /// A temporary folder with a bundle of `/usr/bin/env` and a `bundle.json`, removed on deinit.
    final class Workspace {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-pkg-\(UUID().uuidString)").path
        var bundle: String { "\(root)/bundle" }
        var cache: String { "\(root)/cache" }

        init(server: String = "/usr/bin/env") throws {
            try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: server, toPath: "\(bundle)/server")
            try Data(#"{"app":"probe"}"#.utf8).write(to: URL(fileURLWithPath: "\(bundle)/bundle.json"))
        }

        func request(output: String, tag: String? = nil, base: LayoutReference? = nil) -> ImagePackageRequest {
            ImagePackageRequest(
                bundleDirectory: bundle,
                title: "probe",
                version: "v1",
                base: base,
                output: LayoutReference(transport: .layout, path: "\(root)/\(output)", tag: tag),
                cacheDirectory: cache
            )
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test func skopeoReadsTheLayoutWithOurDigests() throws {
        let workspace = try Workspace()
        let image = try ImagePackager().package(workspace.request(output: "layout"))
        let inspected = try Tool.run("/usr/bin/skopeo", ["inspect", "oci:\(workspace.root)/layout:v1"])
        #expect(inspected.status == 0, "\(inspected.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(inspected.output.utf8)) as? [String: Any])
        #expect(json["Digest"] as? String == image.manifestDigest.description)
        #expect(json["Layers"] as? [String] == image.manifest.layers.map(\.digest))
        #expect(json["Architecture"] as? String == (try ELFFile(path: "/usr/bin/env").architecture))
        #expect(image.manifest.layers.map(\.mediaType) == [MediaType.layerGzip, MediaType.layerGzip])
    }

    @Test func cleanRepeatsGiveTheSameManifestDigest() throws {
        let first = try Workspace()
        let second = try Workspace()
        let one = try ImagePackager().package(first.request(output: "a"))
        let two = try ImagePackager().package(second.request(output: "b"))
        #expect(one.manifestDigest == two.manifestDigest)
        let reused = try ImagePackager().package(first.request(output: "c"))
        #expect(reused.manifestDigest == one.manifestDigest)
    }

    @Test func anUnchangedLayerIsTakenFromTheCache() throws {
        let workspace = try Workspace()
        _ = try ImagePackager().package(workspace.request(output: "a"))
        let reused = Mutex<[PlannedLayer.Role: Bool]>([:])
        _ = try ImagePackager { event in
            if case .layer(let role, _, let wasReused) = event { reused.withLock { $0[role] = wasReused } }
        }.package(workspace.request(output: "b"))
        #expect(reused.withLock { $0 } == [.system: true, .app: true])
    }

    @Test(.enabled(if: TestConditions.runsRootChecks, TestConditions.rootComment))
    func theUnpackedImageRunsItsEntrypointUnderChroot() throws {
        let workspace = try Workspace()
        _ = try ImagePackager().package(workspace.request(output: "layout"))
        let unpacked = try Tool.run(
            "/usr/bin/umoci",
            ["unpack", "--image", "\(workspace.root)/layout:v1", "\(workspace.root)/unpacked"]
        )
        #expect(unpacked.status == 0, "\(unpacked.output)")
        let rootfs = "\(workspace.root)/unpacked/rootfs"
        // /usr/bin/env prints the environment it gets: it ran from the image's own libraries and loader.
        let ran = try Tool.run("/usr/sbin/chroot", ["--userspec=65532:65532", rootfs, "/app/server", "-i", "RAN=yes"])
        #expect(ran.status == 0, "\(ran.output)")
        #expect(ran.output == "RAN=yes\n")
        let tmp = try FileManager.default.attributesOfItem(atPath: "\(rootfs)/tmp")
        #expect((tmp[.posixPermissions] as? NSNumber)?.intValue == 0o1777)
        let passwd = try String(contentsOfFile: "\(rootfs)/etc/passwd", encoding: .utf8)
        #expect(passwd.contains("nonroot:x:65532:65532:"))
        #expect(FileManager.default.fileExists(atPath: "\(rootfs)/etc/ssl/certs/ca-certificates.crt"))
    }

    @Test func aBaseThatHasEverythingGetsOnlyTheAppLayer() throws {
        let workspace = try Workspace()
        let base = try ImagePackager().package(workspace.request(output: "base", tag: "stable"))
        let image = try ImagePackager().package(
            workspace.request(
                output: "on-base",
                base: LayoutReference(transport: .layout, path: "\(workspace.root)/base", tag: "stable")
            )
        )
        #expect(image.manifest.layers.count == 3)
        #expect(Array(image.manifest.layers.prefix(2)) == base.manifest.layers)
        #expect(image.manifest.annotations?[AnnotationKey.baseDigest] == base.manifestDigest.description)
        #expect(image.configuration.rootfs.diffIDs.prefix(2) == base.configuration.rootfs.diffIDs[...])
    }

    @Test func aServerLinkedOutOfTheBundleIsRefused() throws {
        let workspace = try Workspace()
        try FileManager.default.removeItem(atPath: "\(workspace.bundle)/server")
        try FileManager.default.createSymbolicLink(
            atPath: "\(workspace.bundle)/server",
            withDestinationPath: "/usr/bin/env"
        )
        #expect {
            try ImagePackager().package(workspace.request(output: "layout"))
        } throws: { error in
            let error = error as? ImageError
            return error?.code == .unsafePath && error?.context == "\(workspace.bundle)/server"
                && error?.message.contains("outside the bundle") == true
        }
        #expect(!FileManager.default.fileExists(atPath: "\(workspace.root)/layout"))
    }

    @Test func aMissingBundleSaysToBuild() throws {
        let workspace = try Workspace()
        try FileManager.default.removeItem(atPath: workspace.bundle)
        #expect {
            try ImagePackager().package(workspace.request(output: "layout"))
        } throws: { error in
            (error as? ImageError)?.description
                == "\(workspace.bundle): no bundle here; build the project to make one"
        }
    }

    @Test func retaggingKeepsOtherImagesAndCollectsOnlyUnreferencedBlobs() throws {
        let workspace = try Workspace()
        var request = workspace.request(output: "layout")
        request.ownsOutput = true
        let first = try ImagePackager().package(request)
        request.output.tag = "other"
        request.creationTime = 1
        let other = try ImagePackager().package(request)
        request.output.tag = nil
        request.creationTime = 2
        let replaced = try ImagePackager().package(request)
        let layout = ImageLayout(directory: "\(workspace.root)/layout")
        let tags = try layout.index().manifests.compactMap { $0.annotations?[AnnotationKey.refName] }
        #expect(tags.sorted() == ["other", "v1"])
        let blobs = Set(try FileManager.default.contentsOfDirectory(atPath: "\(workspace.root)/layout/blobs/sha256"))
        #expect(!blobs.contains(first.manifestDigest.hexString))
        #expect(blobs.contains(other.manifestDigest.hexString))
        #expect(blobs.contains(replaced.manifestDigest.hexString))
    }

    @Test func anArchiveHoldsTheSameImage() throws {
        let workspace = try Workspace()
        let layoutImage = try ImagePackager().package(workspace.request(output: "layout"))
        var request = workspace.request(output: "unused")
        request.output = LayoutReference(transport: .archive, path: "\(workspace.root)/out/probe.tar")
        let archived = try ImagePackager().package(request)
        #expect(archived.manifestDigest == layoutImage.manifestDigest)
        let inspected = try Tool.run("/usr/bin/skopeo", ["inspect", "oci-archive:\(workspace.root)/out/probe.tar"])
        #expect(inspected.output.contains(#""Digest": "\#(layoutImage.manifestDigest)""#), "\(inspected.output)")
    }
}
