import AgnostImage
import Foundation

/// A minimal ELF executable or shared library, made in the test with the dynamic entries it needs.
///
/// The layout is one PT_LOAD covering the whole file at ``loadAddress``, then PT_INTERP and PT_DYNAMIC when there is
/// something to put in them, and no section headers, like a stripped binary. The load address differs from the file
/// offset, so a parser that reads DT_STRTAB as an offset fails.
struct SyntheticELF {
    static let loadAddress: UInt64 = 0x40_0000

    var is64Bit = true
    var isLittleEndian = true
    var machine: UInt16 = 62
    /// ET_DYN, as for a PIE executable or a shared library.
    var type: UInt16 = 3
    var interpreter: String?
    var needed: [String] = []
    var soname: String?
    var rPath: String?
    var runPath: String?

    var bytes: [UInt8] {
        var strings: [UInt8] = [0]
        var dynamic: [(tag: UInt64, value: UInt64)] = []
        func add(_ tag: UInt64, _ string: String?) {
            guard let string else { return }
            dynamic.append((tag, UInt64(strings.count)))
            strings += Array(string.utf8) + [0]
        }
        needed.forEach { add(1, $0) }
        add(14, soname)
        add(15, rPath)
        add(29, runPath)

        let headerSize = is64Bit ? 64 : 52
        let programHeaderSize = is64Bit ? 56 : 32
        let dynamicEntrySize = is64Bit ? 16 : 8
        let interpreterBytes: [UInt8] = interpreter.map { Array($0.utf8) + [0] } ?? []
        let programHeaderCount = 1 + (interpreter == nil ? 0 : 1) + (dynamic.isEmpty ? 0 : 1)
        let interpreterOffset = headerSize + programHeaderCount * programHeaderSize
        let stringsOffset = interpreterOffset + interpreterBytes.count
        let dynamicOffset = (stringsOffset + strings.count + 7) / 8 * 8
        if !dynamic.isEmpty {
            dynamic += [(5, Self.loadAddress + UInt64(stringsOffset)), (10, UInt64(strings.count)), (0, 0)]
        }
        let total = dynamicOffset + dynamic.count * dynamicEntrySize

        var out = ByteWriter(is64Bit: is64Bit, isLittleEndian: isLittleEndian)
        out.bytes =
            [0x7f, 0x45, 0x4c, 0x46, is64Bit ? 2 : 1, isLittleEndian ? 1 : 2, 1] + Array(repeating: 0, count: 9)
        out.append(type)
        out.append(machine)
        out.append(UInt32(1))
        out.word(Self.loadAddress)
        out.word(UInt64(headerSize))
        out.word(0)
        out.append(UInt32(0))
        out.append(UInt16(headerSize))
        out.append(UInt16(programHeaderSize))
        out.append(UInt16(programHeaderCount))
        out.append(UInt16(is64Bit ? 64 : 40))
        out.append(UInt16(0))
        out.append(UInt16(0))
        out.segment(type: 1, offset: 0, size: total)
        if interpreter != nil { out.segment(type: 3, offset: interpreterOffset, size: interpreterBytes.count) }
        if !dynamic.isEmpty {
            out.segment(type: 2, offset: dynamicOffset, size: dynamic.count * dynamicEntrySize)
        }
        out.bytes += interpreterBytes + strings
        out.bytes += Array(repeating: 0, count: dynamicOffset - out.bytes.count)
        for (tag, value) in dynamic {
            out.word(tag)
            out.word(value)
        }
        return out.bytes
    }
}

/// Integers appended in one ELF class and byte order.
private struct ByteWriter {
    let is64Bit: Bool
    let isLittleEndian: Bool
    var bytes: [UInt8] = []

    mutating func append(_ value: some FixedWidthInteger) {
        withUnsafeBytes(of: isLittleEndian ? value.littleEndian : value.bigEndian) { bytes += $0 }
    }

    mutating func word(_ value: UInt64) {
        if is64Bit { append(value) } else { append(UInt32(truncatingIfNeeded: value)) }
    }

    mutating func segment(type: UInt32, offset: Int, size: Int) {
        let address = SyntheticELF.loadAddress + UInt64(offset)
        append(type)
        if is64Bit {
            append(UInt32(0))
            [UInt64(offset), address, address, UInt64(size), UInt64(size), 8].forEach { append($0) }
        } else {
            [UInt32(offset), UInt32(address), UInt32(address), UInt32(size), UInt32(size), 0, 4].forEach { append($0) }
        }
    }
}

/// A scratch directory with a fake root file system under `root/` and the binary to package under `host/`, outside
/// it, as on a packaging machine. Removed when the value goes away.
final class FakeRoot {
    /// The scratch directory with links resolved, as `$ORIGIN` of an executable in it is.
    let directory: String
    var root: String { directory + "/root" }

    init() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-closure-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        directory = scratch.resolvingSymlinksInPath().path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Writes `elf` at `path` below the root.
    func library(_ path: String, _ elf: SyntheticELF, mode: Int = 0o644) throws {
        try write(elf.bytes, at: root + path, mode: mode)
    }

    func text(_ path: String, _ contents: String) throws {
        try write(Array(contents.utf8), at: root + path, mode: 0o644)
    }

    func symlink(_ path: String, to target: String) throws {
        try makeParent(of: root + path)
        try FileManager.default.createSymbolicLink(atPath: root + path, withDestinationPath: target)
    }

    func hardLink(_ path: String, to existing: String) throws {
        try makeParent(of: root + path)
        try FileManager.default.linkItem(atPath: root + existing, toPath: root + path)
    }

    func directory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: root + path, withIntermediateDirectories: true)
    }

    /// Writes `executable` to `host/bin/server` and resolves its closure against the root.
    func closure(of executable: SyntheticELF) throws -> LibraryClosure {
        let path = executablePath
        try write(executable.bytes, at: path, mode: 0o755)
        return try LibraryClosure.resolve(executable: path, root: root)
    }

    var executablePath: String { directory + "/host/bin/server" }

    /// The file entry a closure gives for a regular file at `path` below the root.
    func fileEntry(_ path: String, mode: UInt16) throws -> LayerEntry {
        LayerEntry(path: try ImagePath(path), kind: .file(.path(root + path)), mode: mode)
    }

    private func write(_ bytes: [UInt8], at path: String, mode: Int) throws {
        try makeParent(of: path)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    private func makeParent(of path: String) throws {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
    }
}
