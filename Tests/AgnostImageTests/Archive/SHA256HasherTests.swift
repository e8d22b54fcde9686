import AgnostDigest
import AgnostOCI
import Testing

@Suite struct SHA256HasherTests {
    private func hex(_ pieces: [[UInt8]]) -> String {
        let hasher = SHA256Hasher()
        for piece in pieces {
            piece.withUnsafeBytes { hasher.update($0) }
        }
        return hasher.finalize().hexString
    }

    @Test func matchesPublishedVectorsWhateverTheUpdateSizes() {
        #expect(hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex([Array("a".utf8), [], Array("bc".utf8)]) == SHA256.hash("abc".utf8).hexString)
        // One million "a" (FIPS 180-2, appendix B.3) in pieces of 999 bytes, which never line up with 64-byte blocks.
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 999)
        let pieces = Array(repeating: piece, count: 1001) + [[UInt8(ascii: "a")]]
        #expect(hex(pieces) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func agreesWithThePureSwiftHasher() {
        let bytes = ArchiveFixture.noise(count: 100_003)
        #expect(hex([Array(bytes[..<70_001]), Array(bytes[70_001...])]) == SHA256.hash(bytes).hexString)
    }

    @Test func digestOfAFileMatchesSha256sum() throws {
        try ArchiveScratch.with { scratch in
            // Larger than one 1 MiB read, and not a multiple of it.
            let path = try scratch.file("blob", ArchiveFixture.noise(count: (3 << 20) + 7))
            let (digest, size) = try SHA256Hasher.digest(ofFileAt: path)
            #expect(digest.hexString == (try ArchiveTool.sha256sum(of: path)))
            #expect(size == (3 << 20) + 7)

            let empty = try scratch.file("empty", [])
            #expect(try SHA256Hasher.digest(ofFileAt: empty).digest.hexString == (try ArchiveTool.sha256sum(of: empty)))
        }
    }

    @Test func digestOfAFileNamesWhatItCannotRead() throws {
        try ArchiveScratch.with { scratch in
            for path in [scratch.path("missing"), scratch.directory.path] {
                let error = #expect(throws: ImageError.self) { try SHA256Hasher.digest(ofFileAt: path) }
                #expect(error?.code == .unreadableInput)
                #expect(error?.context == path)
            }
        }
    }
}
