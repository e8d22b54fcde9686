import Foundation
import Testing

@testable import AgnostImage

/// What the system layer holds over a base image: only what the base lacks, placed through the base's links.
struct ImagePlannerTests {
    @Test func overAMergedUsrBaseOnlyMissingFilesAreAddedWhereTheBaseLinksLead() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let baseLayer = folder.appendingPathComponent("base.tar.gz").path
        let file = LayerEntry.Kind.file(.bytes(Array("ELF".utf8)))
        _ = try LayerWriter.write(
            try LayerContents([
                LayerEntry(path: try ImagePath("usr/lib/x86_64-linux-gnu/libc.so.6"), kind: file, mode: 0o755),
                LayerEntry(path: try ImagePath("lib"), kind: .symlink(target: "usr/lib"), mode: 0o777),
                LayerEntry(path: try ImagePath("etc/passwd"), kind: file, mode: 0o644),
                .directory(try ImagePath("tmp"), mode: 0o1777),
            ]),
            to: baseLayer,
            modificationTime: 0,
            compression: .gzip(level: 1)
        )
        let libc = try ImagePath("lib/x86_64-linux-gnu/libc.so.6")
        let closure = LibraryClosure(
            architecture: "amd64",
            interpreter: nil,
            libraries: [],
            entries: [
                LayerEntry(path: libc, kind: file, mode: 0o755),
                LayerEntry(path: try ImagePath("lib/x86_64-linux-gnu/libextra.so.1"), kind: file, mode: 0o644),
                LayerEntry(
                    path: try ImagePath("lib/x86_64-linux-gnu/libalias.so"),
                    kind: .hardLink(target: libc),
                    mode: 0o755
                ),
            ]
        )
        let certificates = folder.appendingPathComponent("ca.crt").path
        try Data("certificates".utf8).write(to: URL(fileURLWithPath: certificates))
        let bundle = CheckedBundle(server: "/unused/server", manifest: "/unused/bundle.json", closure: closure)
        let plan = try ImagePlanner.plan(
            bundle: bundle,
            base: nil,
            baseFileSystem: try ImageFileSystem(layers: [baseLayer]),
            certificatesSource: certificates
        )
        let system = try #require(plan.layers.first { $0.role == .system })
        let entries = Dictionary(uniqueKeysWithValues: system.contents.entries.map { ($0.path.relative, $0.kind) })
        #expect(entries["lib"] == nil, "a lib directory would replace the base's lib -> usr/lib link")
        #expect(entries["usr/lib/x86_64-linux-gnu/libc.so.6"] == nil)
        #expect(entries["usr/lib/x86_64-linux-gnu/libextra.so.1"] == file)
        #expect(entries["usr/lib/x86_64-linux-gnu/libalias.so"] == .symlink(target: "/lib/x86_64-linux-gnu/libc.so.6"))
        #expect(entries["etc/passwd"] == nil)
        #expect(entries["etc/group"] != nil)
        #expect(entries["tmp"] == nil)
        #expect(entries["etc/ssl/certs/ca-certificates.crt"] == .file(.path(certificates)))
    }
}
