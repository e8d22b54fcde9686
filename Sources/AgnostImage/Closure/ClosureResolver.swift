#if canImport(Glibc)
import AgnostOCI
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An object the loader has mapped, as far as finding its dependencies goes.
struct LoadedObject: Sendable {
    let elf: ELFFile
    /// How messages name it: the host path of the executable, the in-image path of a library.
    let name: String
    /// What `$ORIGIN` expands to in its search paths and names.
    let origin: String
    /// The index of the object whose `DT_NEEDED` loaded it; nil for the executable.
    let loader: Int?
}

/// Walks an executable's `DT_NEEDED` graph breadth-first, as ld.so maps libraries, finding each one under the root and
/// remembering the links and files an image needs for the loader to find it there too.
///
/// ```swift
/// let fileSystem = RootedFileSystem(root: "/")
/// var resolver = try ClosureResolver(executable: path, elf: elf, architecture: "amd64", fileSystem: fileSystem)
/// try resolver.run()   // resolver.libraries, resolver.links, resolver.files
/// ```
struct ClosureResolver {
    private let fileSystem: RootedFileSystem
    private let searchPath: LoaderSearchPath
    /// In load order; the executable first.
    private var objects: [LoadedObject]
    /// The names loaded objects answer to, as ld.so matches them: names asked for, paths opened and sonames.
    private var names: Set<String>
    /// Loaded files: ld.so maps a file once, however many names lead to it.
    private var identities: Set<FileIdentity> = []
    private(set) var interpreter: ImagePath?
    /// The paths libraries are opened by, in load order.
    private(set) var libraries: [ImagePath] = []
    /// Every symbolic link met on the way to the interpreter and the libraries.
    private(set) var links: Set<LayerEntry> = []
    /// The regular files reached, by their link-free path.
    private(set) var files: [ImagePath: ResolvedPath] = [:]

    /// - Parameters:
    ///   - executable: the host path of the binary, which `elf` was read from.
    ///   - architecture: `elf`'s ``ELFFile/architecture``.
    init(executable: String, elf: ELFFile, architecture: String, fileSystem: RootedFileSystem) throws(ImageError) {
        guard let real = realpath(executable, nil) else {
            throw ImageError(
                .unreadableInput,
                "cannot resolve its path: \(String(cString: strerror(errno)))",
                context: executable
            )
        }
        defer { free(real) }
        self.fileSystem = fileSystem
        self.searchPath = try LoaderSearchPath(architecture: architecture, is64Bit: elf.is64Bit, fileSystem: fileSystem)
        // The kernel hands ld.so the executable's path with links resolved (/proc/self/exe), and $ORIGIN is its
        // directory.
        let origin = Self.directory(of: String(cString: real))
        self.objects = [LoadedObject(elf: elf, name: executable, origin: origin, loader: nil)]
        self.names = Set(elf.soname.map { [$0] } ?? [])
    }

    /// Finds the interpreter and every library, or throws for the first that cannot be found or read.
    mutating func run() throws(ImageError) {
        if let interpreter = objects[0].elf.interpreter { try loadInterpreter(interpreter) }
        var index = 0
        while index < objects.count {
            for needed in objects[index].elf.needed { try load(needed, neededBy: index) }
            index += 1
        }
    }

    private mutating func loadInterpreter(_ path: String) throws(ImageError) {
        guard let found = try fileSystem.resolve(path), found.isRegularFile else {
            throw ImageError(
                .libraryNotFound,
                "the program interpreter \(objects[0].name) names is not a file in \(fileSystem.root); install the "
                    + "C library package that provides it (libc6 on Debian)",
                context: path
            )
        }
        let elf = try ELFFile(path: found.hostPath)
        interpreter = try record(found)
        identities.insert(found.identity)
        // ld.so answers to the name PT_INTERP gives it and to its soname, which libc's DT_NEEDED uses.
        names.insert(path)
        if let soname = elf.soname { names.insert(soname) }
    }

    private mutating func load(_ needed: String, neededBy index: Int) throws(ImageError) {
        let needing = objects[index]
        guard let name = searchPath.expand(needed, origin: needing.origin) else {
            throw ImageError(
                .libraryNotFound,
                "needed by \(needing.name), but $PLATFORM in it names the CPU model, which an image cannot know",
                context: needed
            )
        }
        guard !names.contains(name) else { return }
        let directories = name.contains("/") ? [] : searchPath.directories(for: chain(from: index))
        let candidates = name.contains("/") ? [name] : directories.map { "\($0)/\(name)" }
        guard candidates.allSatisfy({ $0.hasPrefix("/") }) else {
            throw ImageError(
                .libraryNotFound,
                "needed by \(needing.name) by a path relative to the working directory at run time, which an image "
                    + "cannot know; link against the library by its soname",
                context: name
            )
        }
        var passedOver: [String] = []
        for candidate in candidates {
            guard let found = try fileSystem.resolve(candidate) else { continue }
            guard let elf = try loadable(found, wanted: "\(name), needed by \(needing.name)") else {
                passedOver.append(found.hostPath)
                continue
            }
            let path = try record(found)
            if !libraries.contains(path) { libraries.append(path) }
            names.formUnion([name, candidate])
            if let soname = elf.soname { names.insert(soname) }
            if identities.insert(found.identity).inserted {
                let origin = Self.directory(of: candidate)
                objects.append(LoadedObject(elf: elf, name: path.absolute, origin: origin, loader: index))
            }
            return
        }
        let searched = directories.isEmpty ? "" : " (searched \(directories.joined(separator: ", ")))"
        let other =
            passedOver.isEmpty ? "" : "; passed over \(passedOver.joined(separator: ", ")), built for another machine"
        throw ImageError(
            .libraryNotFound,
            "needed by \(needing.name) but not found under \(fileSystem.root) where the dynamic loader looks"
                + "\(searched)\(other); install the package that provides it (on Debian, `apt-file search \(name)` "
                + "names it)",
            context: name
        )
    }

    /// The library at `found` if ld.so would load it, nil if it would pass over it for one of another class or
    /// machine, as multilib systems keep them side by side.
    ///
    /// - Parameter wanted: the name looked for and the object that needs it, for messages.
    /// - Throws: ``ImageError/Code/unreadableInput`` for a file ld.so would stop at: one that is no regular file, no
    ///   ELF file, or of the other byte order.
    private func loadable(_ found: ResolvedPath, wanted: String) throws(ImageError) -> ELFFile? {
        let executable = objects[0].elf
        let stop = "the dynamic loader opens this for \(wanted), and would fail on it"
        guard found.isRegularFile else {
            throw ImageError(.unreadableInput, "\(stop): it is not a regular file", context: found.hostPath)
        }
        let contents = try ELFFile.contents(of: found.hostPath)
        let elf: ELFFile
        do throws(ImageError) {
            elf = try ELFFile(contents: contents, path: found.hostPath)
        } catch {
            throw ImageError(.unreadableInput, "\(stop): \(error.message)", context: found.hostPath)
        }
        // ld.so checks the class, then the byte order, then the machine; only the byte order is fatal.
        guard elf.is64Bit == executable.is64Bit else { return nil }
        guard elf.isLittleEndian == executable.isLittleEndian else {
            throw ImageError(.unreadableInput, "\(stop): its byte order differs", context: found.hostPath)
        }
        return elf.machine == executable.machine ? elf : nil
    }

    /// Notes the links and the file an image needs for `found` to lead where it leads here.
    ///
    /// - Returns: the path `found` was opened by.
    private mutating func record(_ found: ResolvedPath) throws(ImageError) -> ImagePath {
        links.formUnion(found.links)
        files[try ImagePath(found.physical.joined(separator: "/"))] = found
        return try ImagePath(found.opened.joined(separator: "/"))
    }

    /// The object at `index` and those that loaded it, up to the executable: the objects whose DT_RPATH counts.
    private func chain(from index: Int) -> [LoadedObject] {
        var chain = [objects[index]]
        while let loader = chain.last?.loader { chain.append(objects[loader]) }
        return chain
    }

    /// The directory part of an absolute path, as ld.so cuts it for `$ORIGIN`: `/` for a file at the top.
    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
