import AgnostImage
import AgnostOCI
import Foundation
import Testing

@Suite struct LayerWriterTests {
    /// 2001-09-09 01:46:40 UTC.
    private static let epoch: Int64 = 1_000_000_000

    /// GNU tar's verbose listing as `[mode, owner, size, date, time, name]` rows, times in UTC.
    private func gnuListing(_ path: String) throws -> [[String]] {
        try ArchiveTool.output(["tar", "--numeric-owner", "-tvf", path], environment: ["TZ": "UTC"])
            .split(separator: "\n")
            .map { $0.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true).map(String.init) }
    }

    /// The pax extended header records of each entry, per Python's tarfile.
    private func paxHeaders(_ path: String) throws -> [String] {
        let script = "import sys, tarfile\nfor m in tarfile.open(sys.argv[1]): print(sorted(m.pax_headers))"
        return try ArchiveTool.python(script, path).split(separator: "\n").map(String.init)
    }

    @Test func writesSortedEntriesOwnedByRootAtTheGivenTime() throws {
        try ArchiveScratch.with { scratch in
            let server = try scratch.file("server", Array("#!/bin/sh\n".utf8))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: server)
            let contents = try LayerContents([
                try ArchiveFixture.hostFile("/app/server", from: server, mode: 0o755),
                try ArchiveFixture.file("/etc/passwd", "root:x:0:0::/:/sbin/nologin\n"),
                try ArchiveFixture.directory("/tmp", mode: 0o1777),
                try ArchiveFixture.symlink("/app/current", to: "server"),
                try ArchiveFixture.file("/a-b", "dash"),
                try ArchiveFixture.file("/a/b", "slash"),
            ])
            let blob = scratch.path("layer.tar.gz")
            _ = try LayerWriter.write(contents, to: blob, modificationTime: Self.epoch, compression: .gzip(level: 6))

            let listing = try gnuListing(blob)
            #expect(
                listing.map { $0[5] } == [
                    "a/", "a/b", "a-b", "app/", "app/current -> server", "app/server", "etc/", "etc/passwd", "tmp/",
                ]
            )
            #expect(
                listing.map { $0[0] } == [
                    "drwxr-xr-x", "-rw-r--r--", "-rw-r--r--", "drwxr-xr-x", "lrwxrwxrwx", "-rwxr-xr-x", "drwxr-xr-x",
                    "-rw-r--r--", "drwxrwxrwt",
                ]
            )
            #expect(listing.allSatisfy { $0[1] == "0/0" && $0[3] == "2001-09-09" && $0[4] == "01:46" })

            let entries = try LayerReader.entries(ofLayerAt: blob, includingContents: true)
            #expect(entries.map(\.mode) == [0o755, 0o644, 0o644, 0o755, 0o777, 0o755, 0o755, 0o644, 0o1777])
            #expect(
                entries.map(\.kind) == [
                    .directory, .file, .file, .directory, .symlink, .file, .directory, .file, .directory,
                ]
            )
            #expect(entries.allSatisfy { $0.uid == 0 && $0.gid == 0 && $0.uname.isEmpty && $0.gname.isEmpty })
            #expect(entries.allSatisfy { $0.modificationTime == Self.epoch })
            #expect(entries[5].size == 10)
            #expect(entries[5].contents == Array("#!/bin/sh\n".utf8))
            // Short names need no pax extended header, and nothing else (times, attributes) brings one in.
            #expect(try paxHeaders(blob) == Array(repeating: "[]", count: 9))
        }
    }

    @Test func longAndNonASCIINamesAndLinkTargetsRoundTrip() throws {
        try ArchiveScratch.with { scratch in
            // 146 characters, which ustar holds by splitting it into prefix and name; the others need pax records.
            let split = "opt/" + String(repeating: "m", count: 60) + "/" + String(repeating: "n", count: 81)
            let long = "opt/" + Array(repeating: String(repeating: "l", count: 50), count: 6).joined(separator: "/")
            let unicode = "opt/ünïcødé €"
            let linkTarget = "../" + String(repeating: "t", count: 297)
            let contents = try LayerContents([
                try ArchiveFixture.file("/" + split, "split"),
                try ArchiveFixture.file("/" + long, "long"),
                try ArchiveFixture.file("/" + unicode, "unicode"),
                try ArchiveFixture.symlink("/opt/far", to: linkTarget),
                // Sorts after its target, so it stays the link, with a target over 100 characters.
                try ArchiveFixture.hardLink("/opt/zz-hard", to: "/" + long),
            ])
            let blob = scratch.path("layer.tar")
            _ = try LayerWriter.write(contents, to: blob, modificationTime: Self.epoch, compression: .none)
            #expect(split.utf8.count > 100 && long.utf8.count > 255 && linkTarget.utf8.count > 255)

            let entries = try LayerReader.entries(ofLayerAt: blob)
            let byName = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })
            #expect(byName[split]?.kind == .file)
            #expect(byName[long]?.kind == .file)
            #expect(byName[unicode]?.kind == .file)
            #expect(byName["opt/far"]?.linkTarget == linkTarget)
            #expect(byName["opt/zz-hard"]?.kind == .hardLink)
            #expect(byName["opt/zz-hard"]?.linkTarget == long)
            let pax = Dictionary(uniqueKeysWithValues: zip(entries.map(\.name), try paxHeaders(blob)))
            #expect(pax[split] == "[]")
            #expect(pax[long] == "['path']")
            #expect(pax[unicode] == "['path']")
            #expect(pax["opt/far"] == "['linkpath']")
            #expect(pax["opt/zz-hard"] == "['linkpath']")

            let root = scratch.path("root")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
            _ = try ArchiveTool.output(["tar", "-xf", blob, "-C", root])
            let files = FileManager.default
            #expect(files.contents(atPath: "\(root)/\(split)") == Data("split".utf8))
            #expect(files.contents(atPath: "\(root)/\(unicode)") == Data("unicode".utf8))
            #expect(try files.destinationOfSymbolicLink(atPath: "\(root)/opt/far") == linkTarget)
            let inode = { (path: String) in
                try files.attributesOfItem(atPath: "\(root)/\(path)")[.systemFileNumber] as? Int
            }
            #expect(try inode(long) != nil)
            #expect(try inode(long) == inode("opt/zz-hard"))
        }
    }

    @Test func writesTheSameBytesWhateverTheSourceFilesTimesModesAndOrder() throws {
        try ArchiveScratch.with { scratch in
            let bytes = ArchiveFixture.noise(count: 200_000)
            let source = try scratch.file("server", bytes)
            let entries = [
                try ArchiveFixture.hostFile("/app/server", from: source, mode: 0o755),
                try ArchiveFixture.file("/etc/hostname", "function\n"),
                try ArchiveFixture.directory("/tmp", mode: 0o1777),
            ]
            let first = try LayerWriter.write(
                try LayerContents(entries),
                to: scratch.path("first.tar.gz"),
                modificationTime: Self.epoch,
                compression: .gzip(level: 6)
            )
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: 12_345), .posixPermissions: 0o640],
                ofItemAtPath: source
            )
            let second = try LayerWriter.write(
                try LayerContents(entries.reversed()),
                to: scratch.path("second.tar.gz"),
                modificationTime: Self.epoch,
                compression: .gzip(level: 6)
            )
            let fromBytes = try LayerWriter.write(
                try LayerContents(
                    [
                        LayerEntry(path: try ImagePath("/app/server"), kind: .file(.bytes(bytes)), mode: 0o755)
                    ] + entries.dropFirst()
                ),
                to: scratch.path("third.tar.gz"),
                modificationTime: Self.epoch,
                compression: .gzip(level: 6)
            )

            let written = try ["first", "second", "third"].map {
                try Data(contentsOf: URL(fileURLWithPath: scratch.path("\($0).tar.gz")))
            }
            #expect(written[0] == written[1])
            #expect(written[0] == written[2])
            #expect(first == second && first == fromBytes)
        }
    }

    @Test(arguments: [(Int32(1), UInt8(4)), (6, 0), (9, 2)])
    func gzipHeaderHasNoNameAndNoTime(level: Int32, extraFlags: UInt8) throws {
        try ArchiveScratch.with { scratch in
            let blob = scratch.path("layer.tar.gz")
            let contents = try LayerContents([try ArchiveFixture.file("/etc/hostname", "function\n")])
            _ = try LayerWriter.write(
                contents,
                to: blob,
                modificationTime: Self.epoch,
                compression: .gzip(level: level)
            )

            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: blob)))
            #expect(Array(bytes[0..<3]) == [0x1f, 0x8b, 8])
            // FLG: no file name, comment, extra field or header CRC.
            #expect(bytes[3] == 0)
            #expect(Array(bytes[4..<8]) == [0, 0, 0, 0])
            #expect(bytes[8] == extraFlags)
            // Unix, whatever system the zlib in use was built for.
            #expect(bytes[9] == 3)
            #expect(try ArchiveTool.run(["gzip", "-t", blob]).status == 0)
        }
    }

    @Test func digestsMatchSha256sumOfTheBlobAndOfTheTar() throws {
        try ArchiveScratch.with { scratch in
            // Several 1 MiB reads, and enough output to fill zlib's output buffer many times.
            let big = try scratch.file(
                "big",
                ArchiveFixture.noise(count: 3 << 20) + [UInt8](repeating: 0, count: 1 << 20)
            )
            let contents = try LayerContents([
                try ArchiveFixture.hostFile("/app/big", from: big, mode: 0o755),
                try ArchiveFixture.file("/app/small", "small"),
            ])
            let tarPath = scratch.path("layer.tar")
            let tar = try LayerWriter.write(contents, to: tarPath, modificationTime: Self.epoch, compression: .none)
            #expect(tar.digest == tar.diffID)
            #expect(tar.digest.hexString == (try ArchiveTool.sha256sum(of: tarPath)))
            #expect(tar.size == (try FileManager.default.attributesOfItem(atPath: tarPath)[.size] as? Int64))
            // Headers of app/, app/big and app/small, their contents, and the two zero blocks that end the archive,
            // without padding to a whole 10 KiB record.
            #expect(tar.size == 512 * (3 + 8192 + 1 + 2))
            #expect(try ArchiveTool.run(["tar", "-tf", tarPath]).status == 0)

            for level: Int32 in [1, 6, 9] {
                let path = scratch.path("layer-\(level).tar.gz")
                let blob = try LayerWriter.write(
                    contents,
                    to: path,
                    modificationTime: Self.epoch,
                    compression: .gzip(level: level)
                )
                #expect(blob.digest.hexString == (try ArchiveTool.sha256sum(of: path)))
                #expect(try ArchiveTool.run(["gzip", "-t", path]).status == 0)
                #expect(blob.diffID.hexString == (try ArchiveTool.sha256sum(of: path, through: "gzip -dc \"$1\"")))
                #expect(blob.diffID == tar.diffID)
                #expect(blob.size == (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64))
                #expect(blob.size < tar.size)
                let extracted = try ArchiveTool.sha256sum(of: path, through: "tar -xzOf \"$1\" app/big")
                #expect(extracted == (try ArchiveTool.sha256sum(of: big)))
            }
        }
    }

    @Test(arguments: ["missing", "directory"])
    func refusesAnUnreadableSourceNamingItAndLeavesNoOutput(source: String) throws {
        try ArchiveScratch.with { scratch in
            try FileManager.default.createDirectory(
                atPath: scratch.path("directory"),
                withIntermediateDirectories: false
            )
            let blob = try scratch.file("layer.tar.gz", Array("previous".utf8))
            let before = try scratch.listing()
            let contents = try LayerContents([
                // Written first, so that the output already holds data when the source fails.
                try ArchiveFixture.hostFile(
                    "/a/big",
                    from: try scratch.file("big", ArchiveFixture.noise(count: 2 << 20))
                ),
                try ArchiveFixture.hostFile("/z/broken", from: scratch.path(source)),
            ])

            let error = #expect(throws: ImageError.self) {
                try LayerWriter.write(contents, to: blob, modificationTime: Self.epoch, compression: .gzip(level: 6))
            }
            #expect(error?.code == .unreadableInput)
            #expect(error?.context == scratch.path(source))
            #expect(try scratch.listing() == (before + ["big"]).sorted())
            #expect(FileManager.default.contents(atPath: blob) == Data("previous".utf8))
        }
    }

    @Test func refusesAFileWhoseSizeChangesWhileRead() throws {
        try ArchiveScratch.with { scratch in
            // procfs reports a size of 0 for files that read as many bytes.
            let contents = try LayerContents([try ArchiveFixture.hostFile("/proc-stat", from: "/proc/self/stat")])
            let error = #expect(throws: ImageError.self) {
                try LayerWriter.write(contents, to: scratch.path("layer.tar"), modificationTime: 0, compression: .none)
            }
            #expect(error?.code == .unreadableInput)
            #expect(error?.context == "/proc/self/stat")
            #expect(error?.message.contains("size changed") == true)
            #expect(try scratch.listing() == [])
        }
    }

    @Test func refusesABadLevelAndAMissingOutputDirectory() throws {
        try ArchiveScratch.with { scratch in
            let contents = try LayerContents([try ArchiveFixture.file("/x", "x")])
            let level = #expect(throws: ImageError.self) {
                try LayerWriter.write(
                    contents,
                    to: scratch.path("l.tar.gz"),
                    modificationTime: 0,
                    compression: .gzip(level: 10)
                )
            }
            #expect(level?.code == .invalidArgument)
            #expect(try scratch.listing() == [])

            let missing = scratch.path("no/such/dir/layer.tar")
            let directory = #expect(throws: ImageError.self) {
                try LayerWriter.write(contents, to: missing, modificationTime: 0, compression: .none)
            }
            #expect(directory?.code == .fileSystem)
            #expect(directory?.context == missing)
        }
    }
}
