import AgnostImage
import AgnostOCI
import Testing

@Suite struct LayerContentsTests {
    private func paths(_ contents: LayerContents) -> [String] {
        contents.entries.map(\.path.relative)
    }

    @Test func sortsComponentWiseAndAddsMissingParents() throws {
        let given = [
            try ArchiveFixture.file("/a.txt", "dot"),
            try ArchiveFixture.file("/a-b", "dash"),
            try ArchiveFixture.file("/a/b/c", "deep"),
            try ArchiveFixture.directory("/tmp", mode: 0o1777),
            try ArchiveFixture.symlink("/usr/lib/libz.so", to: "libz.so.1"),
        ]
        let contents = try LayerContents(given)

        // Byte-wise string order would put "a-b" and "a.txt" before "a/…", since "-" and "." sort before "/".
        #expect(paths(contents) == ["a", "a/b", "a/b/c", "a-b", "a.txt", "tmp", "usr", "usr/lib", "usr/lib/libz.so"])
        let added = contents.entries.filter { ["a", "a/b", "usr", "usr/lib"].contains($0.path.relative) }
        #expect(added.count == 4)
        #expect(added.allSatisfy { $0.kind == .directory && $0.mode == 0o755 })
        #expect(contents.entries.first { $0.path.relative == "tmp" }?.mode == 0o1777)

        // Any order of the same entries gives the same value.
        #expect(try LayerContents(given.reversed()) == contents)
        #expect(try LayerContents([given[3], given[0], given[4], given[2], given[1]]) == contents)
    }

    @Test func keepsAnExplicitParentAndDropsExactDuplicates() throws {
        let contents = try LayerContents([
            try ArchiveFixture.file("/etc/passwd", "root:x:0:0::/:/sbin/nologin\n"),
            try ArchiveFixture.directory("/etc", mode: 0o700),
            try ArchiveFixture.file("/etc/passwd", "root:x:0:0::/:/sbin/nologin\n"),
        ])
        #expect(paths(contents) == ["etc", "etc/passwd"])
        #expect(contents.entries[0].mode == 0o700)
    }

    @Test(arguments: [
        (try! ArchiveFixture.file("/app/x", "one"), try! ArchiveFixture.file("/app/x", "two"), "/app/x"),
        (try! ArchiveFixture.file("/app/x", "one"), try! ArchiveFixture.file("/app/x", "one", mode: 0o755), "/app/x"),
        (try! ArchiveFixture.directory("/app"), try! ArchiveFixture.directory("/app", mode: 0o700), "/app"),
        (try! ArchiveFixture.file("/app", "file"), try! ArchiveFixture.file("/app/x", "inside"), "/app"),
        (try! ArchiveFixture.symlink("/app", to: "/etc"), try! ArchiveFixture.file("/app/x", "inside"), "/app"),
    ])
    func refusesConflictingEntriesNamingThePath(first: LayerEntry, second: LayerEntry, named path: String) {
        let error = #expect(throws: ImageError.self) { try LayerContents([first, second]) }
        #expect(error?.code == .unsafePath)
        #expect(error?.context == path)
    }

    @Test func refusesHardLinksToAnythingButARegularFileOfTheLayer() throws {
        let targets = [
            try ArchiveFixture.directory("/target"),
            try ArchiveFixture.symlink("/target", to: "elsewhere"),
            try ArchiveFixture.hardLink("/target", to: "/file"),
        ]
        for target in [nil] + targets {
            let entries = [try ArchiveFixture.file("/file", "x"), try ArchiveFixture.hardLink("/link", to: "/target")]
            let error = #expect(throws: ImageError.self) { try LayerContents(entries + [target].compactMap { $0 }) }
            #expect(error?.code == .unsafePath)
            #expect(error?.context == "/link")
            #expect(error?.message.contains("/target") == true)
        }
    }

    @Test func putsTheFileOfAHardLinkGroupFirstInOrder() throws {
        let contents = try LayerContents([
            try ArchiveFixture.file("/z/file", "shared", mode: 0o750),
            try ArchiveFixture.hardLink("/a/link", to: "/z/file"),
            try ArchiveFixture.hardLink("/m/link", to: "/z/file"),
        ])
        let byPath = Dictionary(uniqueKeysWithValues: contents.entries.map { ($0.path.relative, $0) })
        let first = try ImagePath("/a/link")
        #expect(byPath["a/link"]?.kind == .file(.bytes(Array("shared".utf8))))
        #expect(byPath["m/link"]?.kind == .hardLink(target: first))
        #expect(byPath["z/file"]?.kind == .hardLink(target: first))
        #expect(["a/link", "m/link", "z/file"].allSatisfy { byPath[$0]?.mode == 0o750 })
    }

    @Test func refusesModesBeyondPermissionBitsAndNamesThatCExcludes() throws {
        let typed = LayerEntry(path: try ImagePath("/x"), kind: .file(.bytes([])), mode: 0o100644)
        #expect(throws: ImageError.self) { try LayerContents([typed]) }
        let error = #expect(throws: ImageError.self) { try LayerContents([try ArchiveFixture.file("/a\u{0}b", "")]) }
        #expect(error?.code == .unsafePath)
        #expect(throws: ImageError.self) { try LayerContents([try ArchiveFixture.symlink("/link", to: "")]) }
    }
}
