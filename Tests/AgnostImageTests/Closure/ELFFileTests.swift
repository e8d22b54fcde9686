import AgnostImage
import AgnostOCI
import Foundation
import Testing

/// The tests that read this machine's own binaries expect an x86-64 Debian: they check the loader, machine and
/// multiarch paths (`/lib/x86_64-linux-gnu`, `ld-linux-x86-64.so.2`) that such a system has, which differ on
/// every other architecture and distribution.
let isAMD64Debian =
    (try? ELFFile(path: "/bin/ls"))?.architecture == "amd64"
    && FileManager.default.fileExists(atPath: "/lib/x86_64-linux-gnu/libc.so.6")

/// Why a test that reads this machine's binaries did not run.
let amd64DebianComment: Comment = "skipped: reads x86-64 Debian system paths, and this machine is not one"

struct ELFFileTests {
    @Test(.enabled(if: isAMD64Debian, amd64DebianComment))
    func readsASystemExecutable() throws {
        let ls = try ELFFile(path: "/bin/ls")
        #expect(ls.interpreter == "/lib64/ld-linux-x86-64.so.2")
        #expect(ls.needed.contains("libc.so.6"))
        #expect(ls.architecture == "amd64")
        #expect(ls.machine == 62 && ls.is64Bit && ls.isLittleEndian)
        #expect(ls.soname == nil)
    }

    @Test(.enabled(if: isAMD64Debian, amd64DebianComment))
    func readsASystemLibrary() throws {
        let libc = try ELFFile(path: "/lib/x86_64-linux-gnu/libc.so.6")
        #expect(libc.soname == "libc.so.6")
        #expect(libc.needed == ["ld-linux-x86-64.so.2"])
    }

    @Test(
        arguments: [
            (true, true, 62, "amd64"), (true, true, 183, "arm64"), (false, true, 3, "386"), (false, true, 40, "arm"),
            (true, true, 21, "ppc64le"), (true, false, 21, "ppc64"), (true, false, 22, "s390x"),
            (true, true, 243, "riscv64"), (false, true, 62, nil), (false, false, 22, nil), (true, true, 2, nil),
        ] as [(Bool, Bool, UInt16, String?)]
    )
    func readsEveryClassAndByteOrder(
        is64Bit: Bool,
        isLittleEndian: Bool,
        machine: UInt16,
        architecture: String?
    )
        throws
    {
        let elf = SyntheticELF(
            is64Bit: is64Bit,
            isLittleEndian: isLittleEndian,
            machine: machine,
            interpreter: "/lib/ld-linux.so.1",
            needed: ["libfirst.so.1", "libsecond.so.2"],
            soname: "libself.so.3",
            rPath: "/opt/one::/opt/two",
            runPath: "$ORIGIN/../lib"
        )
        let file = try ELFFile(bytes: elf.bytes, path: "synthetic")
        #expect(file.machine == machine)
        #expect(file.is64Bit == is64Bit)
        #expect(file.isLittleEndian == isLittleEndian)
        #expect(file.architecture == architecture)
        #expect(file.interpreter == "/lib/ld-linux.so.1")
        #expect(file.needed == ["libfirst.so.1", "libsecond.so.2"])
        #expect(file.soname == "libself.so.3")
        #expect(file.rPath == ["/opt/one", "/opt/two"])
        #expect(file.runPath == ["$ORIGIN/../lib"])
    }

    @Test
    func aStaticExecutableHasNoInterpreterAndNeedsNothing() throws {
        let file = try ELFFile(bytes: SyntheticELF(type: 2).bytes, path: "static")
        #expect(file.interpreter == nil)
        #expect(file.needed.isEmpty && file.runPath.isEmpty && file.rPath.isEmpty && file.soname == nil)
        #expect(file.architecture == "amd64")
    }

    @Test
    func aTextFileIsNotAnELFFile() throws {
        let path = try scratchFile(Array("#!/bin/sh\necho hello\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: ImageError.self) { try ELFFile(path: path) }
        #expect(error.code == .unreadableInput && error.context == path)
        #expect(error.message.contains("not an ELF executable or library"))
    }

    @Test(.enabled(if: isAMD64Debian, amd64DebianComment))
    func aTruncatedSystemBinaryIsRejected() throws {
        let head = try Array(Data(contentsOf: URL(fileURLWithPath: "/bin/ls")).prefix(100))
        let path = try scratchFile(head)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = try #require(throws: ImageError.self) { try ELFFile(path: path) }
        #expect(error.code == .unreadableInput && error.context == path)
        #expect(error.message.contains("truncated"))
    }

    @Test
    func randomBytesAreRejected() throws {
        var generator = SplitMix64(seed: 7)
        for length in [0, 3, 16, 64, 4096] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...0x7e, using: &generator) }
            let error = try #require(throws: ImageError.self) { try ELFFile(bytes: bytes, path: "noise") }
            #expect(error.code == .unreadableInput && error.context == "noise")
        }
    }

    @Test(arguments: ["/nonexistent/agnost/server", "/tmp", "/dev/null"])
    func aMissingFileOrOneThatIsNotRegularIsUnreadable(path: String) throws {
        let error = try #require(throws: ImageError.self) { try ELFFile(path: path) }
        #expect(error.code == .unreadableInput && error.context == path)
    }

    @Test
    func aRelocatableObjectIsNotAnExecutableOrLibrary() throws {
        let error = try #require(throws: ImageError.self) {
            try ELFFile(bytes: SyntheticELF(type: 1).bytes, path: "main.o")
        }
        #expect(error.code == .unreadableInput && error.context == "main.o")
        #expect(error.message.contains("not an ELF executable or library"))
    }

    @Test(arguments: [true, false])
    func everyTruncationIsRejected(is64Bit: Bool) throws {
        let whole = SyntheticELF(is64Bit: is64Bit, interpreter: "/lib/ld.so", needed: ["libc.so.6"]).bytes
        _ = try ELFFile(bytes: whole, path: "whole")
        for length in 0..<whole.count {
            let error = try #require(throws: ImageError.self) {
                try ELFFile(bytes: Array(whole.prefix(length)), path: "cut")
            }
            #expect(error.code == .unreadableInput && error.context == "cut", "cut at \(length)")
        }
    }

    @Test(arguments: [true, false])
    func corruptedBytesAreRejectedOrParsedNeverTrusted(is64Bit: Bool) {
        let whole = SyntheticELF(
            is64Bit: is64Bit,
            isLittleEndian: !is64Bit,
            interpreter: "/lib/ld.so",
            needed: ["libc.so.6", "libm.so.6"],
            runPath: "/opt/lib"
        ).bytes
        var generator = SplitMix64(seed: is64Bit ? 1 : 2)
        var rejected = 0
        for _ in 0..<3000 {
            var bytes = whole
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                // Past the identification bytes, or nearly every mutation is a bad magic number.
                bytes[Int.random(in: 16..<bytes.count, using: &generator)] = UInt8.random(
                    in: 0...255,
                    using: &generator
                )
            }
            do throws(ImageError) {
                _ = try ELFFile(bytes: bytes, path: "mutant")
            } catch {
                rejected += 1
                #expect(error.code == .unreadableInput && error.context == "mutant")
            }
        }
        #expect(rejected > 0)
    }

    private func scratchFile(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-elf-\(UUID())").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// A seeded generator, so that a failing random input comes back on the next run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
