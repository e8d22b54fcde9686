import AgnostOCI
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the dynamic loader needs to know about one ELF executable or shared library, read from its program headers.
///
/// Parsing uses only the ELF header, the program headers and the dynamic segment they point to, never section headers,
/// which stripped binaries may lack. Every offset is checked against the file's size, so truncated or garbage input is
/// reported rather than trusted.
///
/// ```swift
/// let ls = try ELFFile(path: "/bin/ls")
/// ls.architecture   // "amd64"
/// ls.interpreter    // "/lib64/ld-linux-x86-64.so.2"
/// ls.needed         // ["libselinux.so.1", "libc.so.6"]
/// ```
public struct ELFFile: Sendable {
    /// `e_machine`: 62 for x86-64, 183 for AArch64, …
    public let machine: UInt16
    /// ELFCLASS64 rather than ELFCLASS32.
    public let is64Bit: Bool
    /// ELFDATA2LSB rather than ELFDATA2MSB.
    public let isLittleEndian: Bool
    /// The program interpreter (`PT_INTERP`), the dynamic loader the kernel starts for an executable.
    public let interpreter: String?
    /// The `DT_NEEDED` entries, in the order the loader loads them.
    public let needed: [String]
    /// `DT_RUNPATH`, split on `:`, without empty elements.
    public let runPath: [String]
    /// `DT_RPATH`, split on `:`, without empty elements.
    public let rPath: [String]
    /// `DT_SONAME`, the name other objects' `DT_NEEDED` use for this library.
    public let soname: String?

    /// Reads and parses the file at `path`.
    ///
    /// ```swift
    /// let libc = try ELFFile(path: "/lib/x86_64-linux-gnu/libc.so.6")   // libc.soname == "libc.so.6"
    /// ```
    ///
    /// - Throws: ``ImageError/Code/unreadableInput`` naming `path` when it cannot be read, is not an ELF executable or
    ///   library, or is truncated or corrupt.
    public init(path: String) throws(ImageError) {
        try self.init(contents: try Self.contents(of: path), path: path)
    }

    /// Parses `bytes`, naming `path` in errors.
    ///
    /// ```swift
    /// let file = try ELFFile(bytes: Array(data), path: "server")
    /// ```
    ///
    /// - Throws: ``ImageError/Code/unreadableInput`` naming `path` when `bytes` are not an ELF executable or library,
    ///   or are truncated or corrupt.
    public init(bytes: [UInt8], path: String) throws(ImageError) {
        try self.init(contents: bytes, path: path)
    }

    /// Parses bytes read by ``contents(of:)`` or held in an array.
    init(contents: some ContiguousBytes, path: String) throws(ImageError) {
        let parsed = contents.withUnsafeBytes { buffer in
            Result { () throws(ImageError) in try ELFFile(buffer: buffer, path: path) }
        }
        self = try parsed.get()
    }

    /// The file's bytes, mapped rather than copied: shared libraries run to tens of megabytes and only their headers
    /// are read.
    ///
    /// Kept apart from parsing so that the library search can tell a file it cannot read from one that is no ELF.
    static func contents(of path: String) throws(ImageError) -> Data {
        // Checked first: reading a named pipe or a device would block or never end.
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw ImageError(.unreadableInput, "cannot read it: \(String(cString: strerror(errno)))", context: path)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw ImageError(.unreadableInput, "not a regular file; give the path of a file", context: path)
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw ImageError(.unreadableInput, "cannot read it: \(error.localizedDescription)", context: path)
        }
    }

    /// The architecture as OCI image platforms and Go name it, or nil for a machine no image platform describes.
    ///
    /// ```swift
    /// try ELFFile(path: "/bin/ls").architecture   // "amd64" on x86-64, "arm64" on AArch64
    /// ```
    public var architecture: String? {
        switch (machine, is64Bit) {
        case (Machine.amd64, true): "amd64"
        case (Machine.aarch64, true): "arm64"
        case (Machine.i386, false): "386"
        case (Machine.arm, false): "arm"
        case (Machine.ppc64, true): isLittleEndian ? "ppc64le" : "ppc64"
        case (Machine.s390, true): "s390x"
        case (Machine.riscv, true): "riscv64"
        default: nil
        }
    }

    /// `e_machine` values with an image platform, named as in `<elf.h>` (EM_X86_64 as amd64).
    private enum Machine {
        static let i386: UInt16 = 3
        static let ppc64: UInt16 = 21
        static let s390: UInt16 = 22
        static let arm: UInt16 = 40
        static let amd64: UInt16 = 62
        static let aarch64: UInt16 = 183
        static let riscv: UInt16 = 243
    }

    private init(buffer: UnsafeRawBufferPointer, path: String) throws(ImageError) {
        let magic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]
        guard buffer.count >= 16, buffer.prefix(4).elementsEqual(magic) else {
            throw ImageError(.unreadableInput, "not an ELF executable or library", context: path)
        }
        guard (1...2).contains(buffer[4]), (1...2).contains(buffer[5]) else {
            throw ImageError(
                .unreadableInput,
                "corrupt ELF header: unknown class \(buffer[4]) or byte order \(buffer[5])",
                context: path
            )
        }
        let is64Bit = buffer[4] == 2
        let isLittleEndian = buffer[5] == 1
        let reader = ELFReader(bytes: buffer, path: path, is64Bit: is64Bit, isLittleEndian: isLittleEndian)
        let type = try reader.integer(UInt16.self, at: 16)
        // ET_EXEC and ET_DYN are what the loader maps; relocatable objects and core dumps are not.
        guard type == 2 || type == 3 else {
            throw ImageError(.unreadableInput, "not an ELF executable or library (ELF type \(type))", context: path)
        }
        let segments = try reader.segments()
        let dynamic = try segments.first { $0.type == Segment.dynamic }.map { segment throws(ImageError) in
            try reader.dynamicSection(segment, segments: segments)
        }
        self.machine = try reader.integer(UInt16.self, at: 18)
        self.is64Bit = is64Bit
        self.isLittleEndian = isLittleEndian
        self.interpreter = try segments.first { $0.type == Segment.interpreter }.map { segment throws(ImageError) in
            try reader.interpreter(segment)
        }
        self.needed = dynamic?.needed ?? []
        self.runPath = dynamic?.runPath ?? []
        self.rPath = dynamic?.rPath ?? []
        self.soname = dynamic?.soname
    }
}

/// One program header: where a segment lies in the file and in memory.
private struct Segment {
    static let load: UInt32 = 1
    static let dynamic: UInt32 = 2
    static let interpreter: UInt32 = 3

    let type: UInt32
    let offset: UInt64
    let address: UInt64
    let fileSize: UInt64

    /// The file offset of a virtual address this segment's file bytes hold, or nil if they don't hold it.
    func fileOffset(of virtualAddress: UInt64) -> UInt64? {
        guard virtualAddress >= address, virtualAddress - address < fileSize else { return nil }
        let (result, overflow) = offset.addingReportingOverflow(virtualAddress - address)
        return overflow ? nil : result
    }
}

/// One `Elf_Dyn`: a tag and its value or address.
private struct DynamicEntry {
    let tag: UInt64
    let value: UInt64
}

/// The strings of the dynamic section the loader acts on.
private struct DynamicSection {
    var needed: [String] = []
    var runPath: [String] = []
    var rPath: [String] = []
    var soname: String?
}

/// Bounds-checked reads of one ELF file's integers and strings in its own class and byte order.
private struct ELFReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    let is64Bit: Bool
    let isLittleEndian: Bool

    func integer<T: FixedWidthInteger>(_ type: T.Type, at offset: UInt64) throws(ImageError) -> T {
        let range = try self.range(offset: offset, count: UInt64(MemoryLayout<T>.size), of: "a header field")
        let raw = bytes.loadUnaligned(fromByteOffset: range.lowerBound, as: T.self)
        return isLittleEndian ? T(littleEndian: raw) : T(bigEndian: raw)
    }

    /// An address, offset or size: 8 bytes in a 64-bit file, 4 in a 32-bit one.
    func word(at offset: UInt64) throws(ImageError) -> UInt64 {
        is64Bit ? try integer(UInt64.self, at: offset) : UInt64(try integer(UInt32.self, at: offset))
    }

    func range(offset: UInt64, count: UInt64, of what: String) throws(ImageError) -> Range<Int> {
        let size = UInt64(bytes.count)
        guard offset <= size, count <= size - offset else {
            throw ImageError(
                .unreadableInput,
                "truncated or corrupt ELF file: \(what) at offset \(offset) (\(count) bytes) lies beyond its "
                    + "\(size) bytes",
                context: path
            )
        }
        return Int(offset)..<Int(offset + count)
    }

    func segments() throws(ImageError) -> [Segment] {
        let tableOffset = try word(at: is64Bit ? 32 : 28)
        let entrySize = UInt64(try integer(UInt16.self, at: is64Bit ? 54 : 42))
        let count = UInt64(try integer(UInt16.self, at: is64Bit ? 56 : 44))
        guard count == 0 || entrySize >= (is64Bit ? 56 : 32) else {
            throw ImageError(
                .unreadableInput,
                "corrupt ELF header: program header entries of \(entrySize) bytes are too small",
                context: path
            )
        }
        _ = try range(offset: tableOffset, count: count * entrySize, of: "the program header table")
        var segments: [Segment] = []
        for index in 0..<count {
            let base = tableOffset + index * entrySize
            segments.append(
                Segment(
                    type: try integer(UInt32.self, at: base),
                    offset: try word(at: base + (is64Bit ? 8 : 4)),
                    address: try word(at: base + (is64Bit ? 16 : 8)),
                    fileSize: try word(at: base + (is64Bit ? 32 : 16))
                )
            )
        }
        return segments
    }

    func interpreter(_ segment: Segment) throws(ImageError) -> String {
        let range = try range(offset: segment.offset, count: segment.fileSize, of: "the interpreter path")
        let name = bytes[range].prefix { $0 != 0 }
        guard !name.isEmpty else {
            throw ImageError(.unreadableInput, "corrupt ELF file: the interpreter path is empty", context: path)
        }
        return String(decoding: name, as: UTF8.self)
    }

    func dynamicSection(_ segment: Segment, segments: [Segment]) throws(ImageError) -> DynamicSection {
        let entrySize: UInt64 = is64Bit ? 16 : 8
        let table = try range(offset: segment.offset, count: segment.fileSize, of: "the dynamic section")
        var entries: [DynamicEntry] = []
        for index in 0..<(UInt64(table.count) / entrySize) {
            let base = UInt64(table.lowerBound) + index * entrySize
            let tag = try word(at: base)
            if tag == DynamicTag.null { break }
            entries.append(DynamicEntry(tag: tag, value: try word(at: base + entrySize / 2)))
        }
        let stringEntries = entries.filter { DynamicTag.strings.contains($0.tag) }
        guard !stringEntries.isEmpty else { return DynamicSection() }
        let strings = try stringTable(in: entries, segments: segments)
        var section = DynamicSection()
        for entry in stringEntries {
            let string = try self.string(at: entry.value, in: strings)
            switch entry.tag {
            case DynamicTag.needed: section.needed.append(string)
            case DynamicTag.soname: section.soname = string
            case DynamicTag.rPath: section.rPath = string.split(separator: ":").map(String.init)
            default: section.runPath = string.split(separator: ":").map(String.init)
            }
        }
        return section
    }

    /// DT_STRTAB holds a virtual address; the PT_LOAD segment that maps it says where its bytes lie in the file.
    private func stringTable(in entries: [DynamicEntry], segments: [Segment]) throws(ImageError) -> Range<Int> {
        guard let address = entries.first(where: { $0.tag == DynamicTag.stringTable })?.value else {
            throw ImageError(.unreadableInput, "corrupt ELF file: the dynamic section has no DT_STRTAB", context: path)
        }
        let loads = segments.filter { $0.type == Segment.load }
        guard let offset = loads.lazy.compactMap({ $0.fileOffset(of: address) }).first else {
            throw ImageError(
                .unreadableInput,
                "corrupt ELF file: no loadable segment holds the string table at address \(address)",
                context: path
            )
        }
        let size = entries.first { $0.tag == DynamicTag.stringTableSize }?.value
        return try range(
            offset: offset,
            count: size ?? UInt64(bytes.count) - min(offset, UInt64(bytes.count)),
            of: "the dynamic string table"
        )
    }

    private func string(at offset: UInt64, in table: Range<Int>) throws(ImageError) -> String {
        guard offset < UInt64(table.count),
            let end = bytes[(table.lowerBound + Int(offset))..<table.upperBound].firstIndex(of: 0)
        else {
            throw ImageError(
                .unreadableInput,
                "corrupt ELF file: dynamic string at offset \(offset) is outside its string table or unterminated",
                context: path
            )
        }
        return String(decoding: bytes[(table.lowerBound + Int(offset))..<end], as: UTF8.self)
    }
}

/// The `d_tag` values read.
private enum DynamicTag {
    static let null: UInt64 = 0
    static let needed: UInt64 = 1
    static let stringTable: UInt64 = 5
    static let stringTableSize: UInt64 = 10
    static let soname: UInt64 = 14
    static let rPath: UInt64 = 15
    static let runPath: UInt64 = 29
    /// The tags whose value is an offset into the string table.
    static let strings: Set<UInt64> = [needed, soname, rPath, runPath]
}
