import AgnostOCI

/// Where glibc's dynamic loader looks for a library named without a `/`, and how it expands the dynamic string tokens
/// `$ORIGIN`, `$LIB` and `$PLATFORM` in search paths and names, for executables of one architecture in one root.
///
/// The order is ld.so's: the `DT_RPATH` of the needing object and of each object that loaded it (unless the needing
/// object has a `DT_RUNPATH`), the needing object's `DT_RUNPATH`, the directories ldconfig indexes, then the system
/// directories. `LD_LIBRARY_PATH` is deliberately not read: what goes into an image must not depend on the environment
/// of whoever packages it, and nothing sets it in the container.
///
/// ```swift
/// let searchPath = try LoaderSearchPath(architecture: "amd64", is64Bit: true, fileSystem: RootedFileSystem(root: "/"))
/// searchPath.expand("$ORIGIN/../$LIB", origin: "/app")   // "/app/../lib/x86_64-linux-gnu" on Debian
/// ```
struct LoaderSearchPath: Sendable {
    /// The directories from `/etc/ld.so.conf`, standing in for `/etc/ld.so.cache`.
    let configured: [String]
    /// The directories compiled into ld.so, searched last.
    let system: [String]
    /// What `$LIB` expands to.
    let lib: String
    /// What `$PLATFORM` expands to (the kernel's AT_PLATFORM), nil where it names the CPU model, which the image
    /// cannot know; ld.so drops a path element whose token it cannot expand, and so does ``expand(_:origin:)``.
    let platform: String?

    /// The Debian multiarch triplet and AT_PLATFORM of each architecture ``ELFFile/architecture`` names.
    private static let platforms: [String: (triplet: String, platform: String?)] = [
        "amd64": ("x86_64-linux-gnu", "x86_64"),
        "arm64": ("aarch64-linux-gnu", "aarch64"),
        "386": ("i386-linux-gnu", "i686"),
        "arm": ("arm-linux-gnueabihf", nil),
        "ppc64le": ("powerpc64le-linux-gnu", nil),
        "ppc64": ("powerpc64-linux-gnu", nil),
        "s390x": ("s390x-linux-gnu", nil),
        "riscv64": ("riscv64-linux-gnu", nil),
    ]

    /// Reads the root's ldconfig configuration and tells its glibc build from its layout.
    ///
    /// Debian and Ubuntu, recognised by `/usr/lib/<triplet>`, build glibc for multiarch: their ld.so expands `$LIB`
    /// to `lib/<triplet>` and searches `/lib/<triplet>`, `/usr/lib/<triplet>`, `/lib` and `/usr/lib` (`ld.so --help`
    /// lists them). Other roots get the Fedora layout: `$LIB` is `lib64` for 64-bit code and `lib` otherwise, and
    /// `/lib64` and `/usr/lib64` (64-bit only) come before `/lib` and `/usr/lib`.
    init(architecture: String, is64Bit: Bool, fileSystem: RootedFileSystem) throws(ImageError) {
        let known = Self.platforms[architecture]
        var multiarch: String?
        if let triplet = known?.triplet, try fileSystem.resolve("/usr/lib/\(triplet)")?.isDirectory == true {
            multiarch = triplet
        }
        if let multiarch {
            self.lib = "lib/\(multiarch)"
            self.system = ["/lib/\(multiarch)", "/usr/lib/\(multiarch)", "/lib", "/usr/lib"]
        } else {
            self.lib = is64Bit ? "lib64" : "lib"
            self.system = (is64Bit ? ["/lib64", "/usr/lib64"] : []) + ["/lib", "/usr/lib"]
        }
        self.platform = known?.platform
        self.configured = try LoaderConfiguration.directories(in: fileSystem)
    }

    /// The directories searched, in order and without repeats, for a name `chain[0]` needs; the rest of `chain` are
    /// the objects that loaded it, up to the executable.
    ///
    /// Relative path elements are left out: they name directories relative to the working directory at run time,
    /// which packaging cannot know.
    func directories(for chain: [LoadedObject]) -> [String] {
        var directories: [String] = []
        if let needing = chain.first {
            // A DT_RUNPATH in the needing object turns off every DT_RPATH; one in an object up the chain only makes
            // ld.so ignore that object's own DT_RPATH.
            if needing.elf.runPath.isEmpty {
                for object in chain where object.elf.runPath.isEmpty {
                    directories += object.elf.rPath.compactMap { expand($0, origin: object.origin) }
                }
            }
            directories += needing.elf.runPath.compactMap { expand($0, origin: needing.origin) }
        }
        var seen: Set<String> = []
        return (directories.filter { $0.hasPrefix("/") } + configured + system).compactMap { directory in
            var trimmed = Substring(directory)
            while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
            return seen.insert(String(trimmed)).inserted ? String(trimmed) : nil
        }
    }

    /// `string` with its dynamic string tokens expanded, or nil when one cannot be (`$PLATFORM` without a value).
    ///
    /// A token is `$NAME` not followed by a letter, digit or `_`, or `${NAME}`; anything else after a `$` is left
    /// alone, as ld.so leaves it.
    ///
    /// - Parameter origin: the directory of the object `string` comes from, as the loader sees it.
    func expand(_ string: String, origin: String) -> String? {
        var result = ""
        var rest = Substring(string)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            rest = rest[rest.index(after: dollar)...]
            guard let (name, length) = Self.token(at: rest) else {
                result += "$"
                continue
            }
            let value: String? =
                switch name {
                case "ORIGIN": origin
                case "LIB": lib
                default: platform
                }
            guard let value else { return nil }
            result += value
            rest = rest.dropFirst(length)
        }
        return result + rest
    }

    /// The token `text` starts with, after its `$`, and the characters it takes.
    private static func token(at text: Substring) -> (name: String, length: Int)? {
        for name in ["ORIGIN", "PLATFORM", "LIB"] {
            if text.hasPrefix("{\(name)}") { return (name, name.count + 2) }
            // Unbraced, the name must end where an identifier would: `$ORIGINAL` holds no token.
            let next = text.dropFirst(name.count).first
            let isIdentifier = next.map { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) } ?? false
            if text.hasPrefix(name) && !isIdentifier { return (name, name.count) }
        }
        return nil
    }
}
