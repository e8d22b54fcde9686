import AgnostOCI
import Testing

@testable import AgnostImage

@Suite struct TarArchiveWriterTests {
    @Test func reportsWhatTheConsumerThrewRatherThanLibarchivesAccount() throws {
        let tar = try TarArchiveWriter(modificationTime: 0) { (_) throws(ImageError) in
            throw ImageError(.fileSystem, "cannot write it: No space left on device", context: "/out/layer.tar")
        }
        // More than libarchive buffers, so that the callback runs before `finish`.
        let entry = LayerEntry(
            path: try ImagePath("/big"),
            kind: .file(.bytes(ArchiveFixture.noise(count: 64 << 10))),
            mode: 0o644
        )
        let error = #expect(throws: ImageError.self) {
            try tar.append(entry)
            try tar.finish()
        }
        #expect(error?.code == .fileSystem)
        #expect(error?.message == "cannot write it: No space left on device")
        #expect(error?.context == "/out/layer.tar")
    }
}
