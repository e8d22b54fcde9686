import AgnostOCI
import Testing

@testable import AgnostImage

struct ImagePathTests {
    @Test(arguments: [
        ("/etc/passwd", "etc/passwd"), ("etc/passwd", "etc/passwd"), ("//app//", "app"), ("/a b/ü", "a b/ü"),
    ])
    func pathsAreStoredRelativeToTheImageRoot(text: String, relative: String) throws {
        let path = try ImagePath(text)
        #expect(path.relative == relative)
        #expect(path.absolute == "/" + relative)
    }

    @Test(arguments: ["", "/", "..", "../etc/passwd", "app/../../etc", "app/./server", "app//server", "./app"])
    func namesThatCouldLeaveTheImageRootAreRefused(text: String) {
        #expect {
            try ImagePath(text)
        } throws: { error in
            let error = error as? ImageError
            return error?.code == .unsafePath && error?.context == text
        }
    }

    @Test func directoriesSortBeforeWhatTheyHoldAndComponentsCompareByteWise() throws {
        let paths = try ["a-b", "a/b", "a", "B", "a/b/c", "ab"].map { try ImagePath($0) }
        #expect(paths.sorted().map(\.relative) == ["B", "a", "a/b", "a/b/c", "a-b", "ab"])
        #expect(try ImagePath("usr/lib/libc.so.6").ancestors.map(\.relative) == ["usr", "usr/lib"])
        #expect(try ImagePath("usr/lib").parent?.relative == "usr")
        #expect(try ImagePath("usr").parent == nil)
    }
}
