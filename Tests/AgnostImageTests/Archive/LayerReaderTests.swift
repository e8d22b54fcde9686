import AgnostImage
import AgnostOCI
import Foundation
import Testing

@Suite struct LayerReaderTests {
    @Test(arguments: [
        ArchiveFixture.ForeignMember(name: "../evil"),
        ArchiveFixture.ForeignMember(name: "/etc/evil"),
        ArchiveFixture.ForeignMember(name: "usr/../../evil"),
        ArchiveFixture.ForeignMember(name: "usr/shadow", type: "hardlink", target: "../etc/shadow"),
    ])
    func refusesEntriesThatLeaveTheImage(member: ArchiveFixture.ForeignMember) throws {
        try ArchiveScratch.with { scratch in
            let layer = scratch.path("evil.tar")
            try ArchiveFixture.foreignTar(at: layer, [ArchiveFixture.ForeignMember(name: "usr/", type: "dir"), member])

            let error = #expect(throws: ImageError.self) { try LayerReader.entries(ofLayerAt: layer) }
            #expect(error?.code == .unsafePath)
            #expect(error?.context == layer)
            #expect(error?.message.contains(member.name) == true)
        }
    }

    @Test func reportsHeaderFieldsAsStoredWhateverTheCompression() throws {
        try ArchiveScratch.with { scratch in
            let tar = scratch.path("layer.tar")
            let owner = ArchiveFixture.ForeignMember(
                name: "",
                uid: 1000,
                gid: 50,
                uname: "alice",
                gname: "staff",
                mtime: 12_345
            )
            var directory = owner, file = owner, symlink = owner, hardLink = owner
            (directory.name, directory.type, directory.mode) = ("./etc/", "dir", 0o755)
            (file.name, file.data, file.mode) = ("./etc/motd", "hi\n", 0o4640)
            (symlink.name, symlink.type, symlink.target) = ("./etc/link", "symlink", "motd")
            (hardLink.name, hardLink.type, hardLink.target) = ("./etc/hard", "hardlink", "./etc/motd")
            try ArchiveFixture.foreignTar(at: tar, [directory, file, symlink, hardLink])
            _ = try ArchiveTool.output([
                "sh", "-c", "gzip -n -c \"$1\" > \"$1.gz\" && zstd -q -c \"$1\" > \"$1.zst\"", "sh", tar,
            ])

            let plain = try LayerReader.entries(ofLayerAt: tar, includingContents: true)
            #expect(plain.map(\.name) == ["./etc/", "./etc/motd", "./etc/link", "./etc/hard"])
            #expect(plain.map(\.kind) == [.directory, .file, .symlink, .hardLink])
            #expect(plain.map(\.linkTarget) == [nil, nil, "motd", "./etc/motd"])
            #expect(plain.allSatisfy { $0.uid == 1000 && $0.gid == 50 && $0.modificationTime == 12_345 })
            #expect(plain.allSatisfy { $0.uname == "alice" && $0.gname == "staff" })
            #expect(plain[1].mode == 0o4640)
            #expect(plain[1].size == 3)
            #expect(plain[1].contents == Array("hi\n".utf8))
            #expect(try LayerReader.entries(ofLayerAt: tar + ".gz", includingContents: true) == plain)
            #expect(try LayerReader.entries(ofLayerAt: tar + ".zst", includingContents: true) == plain)
            #expect(try LayerReader.entries(ofLayerAt: tar).allSatisfy { $0.contents == nil })
        }
    }

    @Test func reportsWhatIsNotALayerWithLibarchivesReason() throws {
        try ArchiveScratch.with { scratch in
            let text = try scratch.file("notes.txt", Array(String(repeating: "not a tar archive\n", count: 100).utf8))
            for path in [text, scratch.path("missing.tar")] {
                let error = #expect(throws: ImageError.self) { try LayerReader.entries(ofLayerAt: path) }
                #expect(error?.code == .archiveFailed)
                #expect(error?.context == path)
            }
        }
    }
}
