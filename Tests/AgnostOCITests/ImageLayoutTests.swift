import Foundation
import Testing

@testable import AgnostOCI

/// Reading layouts that other tools (or attackers) wrote: nothing in `index.json` may name a file outside
/// `blobs/sha256`, and a blob that does not match its digest is refused.
struct ImageLayoutTests {
    final class Folder {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-layout-\(UUID().uuidString)")
            .path

        init(index: String) throws {
            try FileManager.default.createDirectory(atPath: "\(path)/blobs/sha256", withIntermediateDirectories: true)
            try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: "\(path)/oci-layout"))
            try Data(index.utf8).write(to: URL(fileURLWithPath: "\(path)/index.json"))
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static let amd64 = Platform(architecture: "amd64", os: "linux")

    static func index(digest: String, size: Int, tag: String = "v1") -> String {
        """
        {"schemaVersion":2,"manifests":[{"mediaType":"\(MediaType.imageManifest)","digest":"\(digest)",\
        "size":\(size),"annotations":{"\(AnnotationKey.refName)":"\(tag)"}}]}
        """
    }

    @Test(arguments: ["sha256:../../../../etc/passwd", "sha512:" + String(repeating: "0", count: 128), "sha256:abc"])
    func aDigestThatIsNotSHA256HexIsRefusedBeforeAnyFileIsOpened(digest: String) throws {
        let folder = try Folder(index: Self.index(digest: digest, size: 10))
        #expect {
            try ImageLayout(directory: folder.path).image(tag: "v1", platform: Self.amd64)
        } throws: { error in
            let error = error as? ImageError
            return error?.code == .invalidLayout && error?.context == digest
        }
    }

    @Test func aBlobThatDoesNotMatchItsDigestIsRefused() throws {
        let claimed = String(repeating: "ab", count: 32)
        let folder = try Folder(index: Self.index(digest: "sha256:\(claimed)", size: 2))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: "\(folder.path)/blobs/sha256/\(claimed)"))
        #expect {
            try ImageLayout(directory: folder.path).image(tag: "v1", platform: Self.amd64)
        } throws: { error in
            (error as? ImageError)?.message == "blob does not match its digest sha256:\(claimed)"
        }
    }

    @Test func aMissingTagListsTheTagsThere() throws {
        let folder = try Folder(index: Self.index(digest: "sha256:" + String(repeating: "0", count: 64), size: 2))
        #expect {
            try ImageLayout(directory: folder.path).image(tag: "v2", platform: Self.amd64)
        } throws: { error in
            let error = error as? ImageError
            return error?.message == "the layout has no image tagged 'v2'; its tags are v1"
                && error?.context == "\(folder.path):v2"
        }
    }
}
