import AgnostImage
import Testing

@Suite struct ImageFileSystemTests {
    private func layer(_ scratch: ArchiveScratch, _ name: String, _ entries: [LayerEntry]) throws -> String {
        let path = scratch.path(name)
        _ = try LayerWriter.write(
            try LayerContents(entries),
            to: path,
            modificationTime: 0,
            compression: .gzip(level: 1)
        )
        return path
    }

    private func contains(_ fileSystem: ImageFileSystem, _ path: String) throws -> Bool {
        fileSystem.contains(try ImagePath(path))
    }

    @Test func appliesWhiteoutsAndOpaqueDirectoriesToLowerLayersOnly() throws {
        try ArchiveScratch.with { scratch in
            let base = try layer(
                scratch,
                "1.tar.gz",
                [
                    try ArchiveFixture.file("/etc/passwd", "root"),
                    try ArchiveFixture.file("/usr/lib/libfoo.so", "foo"),
                    try ArchiveFixture.file("/usr/lib/libbar.so", "bar"),
                    try ArchiveFixture.file("/var/cache/z", "z"),
                    try ArchiveFixture.file("/opt/data/x", "x"),
                    try ArchiveFixture.file("/opt/data/sub/y", "y"),
                ]
            )
            let whiteouts = try layer(
                scratch,
                "2.tar.gz",
                [
                    try ArchiveFixture.file("/usr/lib/.wh.libfoo.so", ""),
                    try ArchiveFixture.file("/.wh.var", ""),
                    // In the same layer as the whiteout of its directory, so added after it.
                    try ArchiveFixture.file("/var/fresh", "new"),
                ]
            )
            let opaque = try layer(
                scratch,
                "3.tar.gz",
                [
                    try ArchiveFixture.file("/opt/data/.wh..wh..opq", ""),
                    try ArchiveFixture.file("/opt/data/new", "new"),
                ]
            )

            let two = try ImageFileSystem(layers: [base, whiteouts])
            #expect(try contains(two, "/opt/data/x"))
            #expect(try !contains(two, "/usr/lib/.wh.libfoo.so"))

            let three = try ImageFileSystem(layers: [base, whiteouts, opaque])
            let expected = [
                "/etc/passwd": true, "/usr/lib": true, "/usr/lib/libbar.so": true, "/usr/lib/libfoo.so": false,
                "/var": true, "/var/fresh": true, "/var/cache": false, "/var/cache/z": false,
                "/opt/data": true, "/opt/data/new": true, "/opt/data/x": false, "/opt/data/sub": false,
                "/opt/data/sub/y": false, "/opt/data/.wh..wh..opq": false,
            ]
            for (path, present) in expected {
                #expect(try contains(three, path) == present, "\(path)")
            }
        }
    }

    @Test func followsSymbolicLinksWithoutLeavingTheRoot() throws {
        try ArchiveScratch.with { scratch in
            let base = try layer(
                scratch,
                "base.tar.gz",
                [
                    try ArchiveFixture.file("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc"),
                    try ArchiveFixture.file("/usr/lib/x86_64-linux-gnu/ld.so", "ld"),
                    try ArchiveFixture.symlink("/lib", to: "usr/lib"),
                    try ArchiveFixture.symlink("/lib64", to: "/usr/lib64"),
                    try ArchiveFixture.symlink("/usr/lib64/ld-linux-x86-64.so.2", to: "../lib/x86_64-linux-gnu/ld.so"),
                    try ArchiveFixture.symlink("/usr/lib/libgone.so", to: "libgone.so.1"),
                    try ArchiveFixture.symlink("/usr/up", to: "../../../../usr"),
                    try ArchiveFixture.symlink("/loop/a", to: "b"),
                    try ArchiveFixture.symlink("/loop/b", to: "/loop/a"),
                ]
            )
            let image = try ImageFileSystem(layers: [base])
            #expect(try contains(image, "/lib/x86_64-linux-gnu/libc.so.6"))
            #expect(try contains(image, "/lib64/ld-linux-x86-64.so.2"))
            #expect(try contains(image, "/usr/up/lib/x86_64-linux-gnu/ld.so"))
            #expect(try !contains(image, "/lib/x86_64-linux-gnu/libssl.so.3"))
            #expect(try !contains(image, "/usr/lib/libgone.so"))
            #expect(try !contains(image, "/loop/a"))
            #expect(try !contains(image, "/usr/lib/x86_64-linux-gnu/libc.so.6/x"))
        }
    }

    @Test func readsNamesAsOtherToolsStoreThemAndReplacesDirectoriesWithFiles() throws {
        try ArchiveScratch.with { scratch in
            let base = scratch.path("base.tar")
            try ArchiveFixture.foreignTar(
                at: base,
                [
                    ArchiveFixture.ForeignMember(name: "./", type: "dir"),
                    ArchiveFixture.ForeignMember(name: "./usr/", type: "dir"),
                    ArchiveFixture.ForeignMember(name: "./usr/bin/env", data: "env"),
                    ArchiveFixture.ForeignMember(name: "./usr/share/doc/readme", data: "doc"),
                ]
            )
            let upper = scratch.path("upper.tar")
            try ArchiveFixture.foreignTar(
                at: upper,
                [
                    ArchiveFixture.ForeignMember(name: "./usr/bin", data: "now a file"),
                    ArchiveFixture.ForeignMember(name: "./usr/share/.wh.doc"),
                ]
            )

            let lower = try ImageFileSystem(layers: [base])
            #expect(try contains(lower, "/usr/bin/env"))
            #expect(try contains(lower, "/usr/share/doc/readme"))
            let image = try ImageFileSystem(layers: [base, upper])
            #expect(try contains(image, "/usr/bin"))
            #expect(try !contains(image, "/usr/bin/env"))
            #expect(try contains(image, "/usr/share"))
            #expect(try !contains(image, "/usr/share/doc"))
        }
    }

    @Test func placesEntriesWhereSymlinkedDirectoriesLead() throws {
        try ArchiveScratch.with { scratch in
            let base = try layer(
                scratch,
                "base.tar.gz",
                [
                    try ArchiveFixture.file("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc"),
                    try ArchiveFixture.symlink("/lib", to: "usr/lib"),
                    try ArchiveFixture.file("/etc/passwd", "root"),
                    try ArchiveFixture.symlink("/loop/a", to: "b"),
                    try ArchiveFixture.symlink("/loop/b", to: "a"),
                ]
            )
            let image = try ImageFileSystem(layers: [base])
            let placement = { (path: String) in image.placement(of: try ImagePath(path))?.absolute }
            #expect(try placement("/lib/x86_64-linux-gnu/libssl.so.3") == "/usr/lib/x86_64-linux-gnu/libssl.so.3")
            #expect(try placement("/lib/new/deeper/libx.so") == "/usr/lib/new/deeper/libx.so")
            #expect(try placement("/app/server") == "/app/server")
            #expect(try placement("/lib") == "/lib")
            #expect(try placement("/etc/passwd/x") == nil)
            #expect(try placement("/loop/a/x") == nil)
        }
    }
}
