import Foundation
import Testing

@testable import AgnostImage

@Suite struct GzipDeflaterTests {
    /// 5.5 blocks: noise, then text that repeats with a long period, then zeros, so that blocks of every kind meet.
    private static let mixed: [UInt8] = {
        let line = Array("GET /todos/42 HTTP/1.1\r\nHost: function.local\r\nAccept: application/json\r\n\r\n".utf8)
        let text = (0..<(2 << 20)).map { line[$0 % line.count] ^ UInt8(truncatingIfNeeded: $0 / 4099) }
        return ArchiveFixture.noise(count: 3 << 19) + text + [UInt8](repeating: 0, count: 3 << 19)
            + Array(text[..<(1 << 19)])
    }()

    /// Compresses `input` handed over in pieces of `pieceSize` bytes and returns everything emitted.
    private func gzip(_ input: [UInt8], level: Int32 = 6, workers: Int, pieceSize: Int = 1 << 16) throws -> [UInt8] {
        let deflater = try GzipDeflater(level: level, workers: workers)
        var output: [UInt8] = []
        try input.withUnsafeBytes { bytes in
            for start in stride(from: 0, to: bytes.count, by: pieceSize) {
                let piece = UnsafeRawBufferPointer(rebasing: bytes[start..<min(start + pieceSize, bytes.count)])
                try deflater.compress(piece) { output += $0 }
            }
        }
        try deflater.finish { output += $0 }
        return output
    }

    /// What zlib itself writes for the file at `path` in one stream with a gzip wrapper, per Python's zlib module.
    private func zlibGzip(of path: String, level: Int32) throws -> [UInt8] {
        let script = """
            import sys, zlib
            z = zlib.compressobj(int(sys.argv[2]), zlib.DEFLATED, 31)
            open(sys.argv[3], 'wb').write(z.compress(open(sys.argv[1], 'rb').read()) + z.flush())
            """
        try ArchiveTool.python(script, path, "\(level)", path + ".zlib.gz")
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + ".zlib.gz")))
    }

    @Test func outputIsTheSameWhateverTheWorkersAndHowTheInputArrives() throws {
        let one = try gzip(Self.mixed, workers: 1, pieceSize: 1 << 20)
        #expect(try gzip(Self.mixed, workers: 2) == one)
        #expect(try gzip(Self.mixed, workers: 4, pieceSize: 7919) == one)
        #expect(try gzip(Self.mixed, workers: 4, pieceSize: 3 << 20) == one)
    }

    @Test func writesOneGzipMemberThatToolsDecompressToTheInput() throws {
        try ArchiveScratch.with { scratch in
            let input = scratch.path("input")
            try scratch.file("input", Self.mixed)
            let blob = try scratch.file("input.gz", try gzip(Self.mixed, workers: 2))
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: blob)))
            // Deflate, no flags (so no file name), modification time 0, Unix.
            #expect(Array(bytes[0..<10]) == [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3])
            #expect(try ArchiveTool.run(["gzip", "-t", blob]).status == 0)
            #expect(try ArchiveTool.sha256sum(of: blob, through: "gzip -dc \"$1\"") == ArchiveTool.sha256sum(of: input))
            // gzip.decompress would also accept several members one after the other; a zlib gzip decoder stops at
            // the end of the first, and must find nothing after it.
            let script = """
                import gzip, sys, zlib
                blob, data = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
                z = zlib.decompressobj(31)
                print(gzip.decompress(blob) == data, z.decompress(blob) == data, z.eof, len(z.unused_data))
                """
            #expect(try ArchiveTool.python(script, blob, input) == "True True True 0\n")
        }
    }

    @Test(arguments: [0, 10, GzipDeflater.blockSize])
    func aSingleBlockIsWhatZlibWritesInOneStream(count: Int) throws {
        try ArchiveScratch.with { scratch in
            let input = Array(Self.mixed[(1 << 20)..<((1 << 20) + count)])
            let path = try scratch.file("input", input)
            for level: Int32 in [1, 6, 9] {
                #expect(try gzip(input, level: level, workers: 2) == zlibGzip(of: path, level: level))
            }
        }
    }

    @Test func oneByteMoreThanABlockMakesTwoBlocksThatStillDecompress() throws {
        try ArchiveScratch.with { scratch in
            let input = Array(Self.mixed[..<(GzipDeflater.blockSize + 1)])
            let path = try scratch.file("input", input)
            let output = try gzip(input, workers: 2)
            #expect(output != (try zlibGzip(of: path, level: 6)))
            let blob = try scratch.file("input.gz", output)
            #expect(try ArchiveTool.sha256sum(of: blob, through: "gzip -dc \"$1\"") == ArchiveTool.sha256sum(of: path))
        }
    }

    @Test func eachBlockMatchesAgainstTheEndOfTheOneBefore() throws {
        try ArchiveScratch.with { scratch in
            // Noise repeating every 16 KiB: nearly free to compress, but only for a block that can see the period
            // before it; compressed alone, each block would add the whole period as literals.
            let period = ArchiveFixture.noise(count: 16 << 10)
            let input = (0..<(3 * GzipDeflater.blockSize)).map { period[$0 % period.count] }
            let path = try scratch.file("input", input)
            let parallel = try gzip(input, workers: 2).count
            let single = try zlibGzip(of: path, level: 6).count
            #expect(Double(parallel) < Double(single) * 1.01, "\(parallel) bytes against zlib's \(single)")
        }
    }

    @Test func compressesWithinOnePercentOfASingleZlibStream() throws {
        try ArchiveScratch.with { scratch in
            // Machine code and tables, the kind of bytes a server binary is made of: this test bundle's own, which
            // exists wherever the tests run (a debug build of it is over 20 MB).
            let binary = try #require(FileHandle(forReadingAtPath: "/proc/self/exe"))
            let input = [UInt8](binary.readData(ofLength: 8 << 20))
            try #require(input.count == 8 << 20, "the test bundle is smaller than 8 MiB")
            let path = try scratch.file("input", input)
            let parallel = try gzip(input, workers: 2).count
            let single = try zlibGzip(of: path, level: 6).count
            #expect(Double(parallel) < Double(single) * 1.01, "\(parallel) bytes against zlib's \(single)")
        }
    }
}
