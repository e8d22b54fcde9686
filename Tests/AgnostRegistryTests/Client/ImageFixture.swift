import AgnostImage
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
