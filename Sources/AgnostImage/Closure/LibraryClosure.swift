import AgnostOCI

/// Everything a dynamically linked binary needs from the file system to start: its program interpreter and the shared
/// libraries it loads, found as glibc's ld.so finds them, and the layer entries that let the loader find the same
/// files at the same paths inside an image.
///
/// ```swift
/// let closure = try LibraryClosure.resolve(executable: ".agnost/bundle/server")
/// closure.architecture   // "amd64"
/// closure.interpreter    // /lib64/ld-linux-x86-64.so.2
/// closure.libraries      // [/lib/x86_64-linux-gnu/libc.so.6, …]
/// closure.entries        // lib64 -> usr/lib64, usr/lib/x86_64-linux-gnu/libc.so.6, …
/// ```
public struct LibraryClosure: Sendable {
    /// The executable's architecture in OCI naming (`amd64`, `arm64`, …).
    public let architecture: String
    /// The path the kernel starts the dynamic loader from; nil for a static binary.
    public let interpreter: ImagePath?
    /// The paths the loader opens the libraries by, in the order it loads them.
    public let libraries: [ImagePath]
    /// The symbolic links on the way to the interpreter and the libraries, exactly as they are under the root, and
    /// the regular files they lead to, with hard links kept as hard links; sorted by path. Parent directories are left
    /// to the layer writer.
    public let entries: [LayerEntry]

    /// A closure as given, for code that has it from elsewhere.
    ///
    /// ```swift
    /// let none = LibraryClosure(architecture: "arm64", interpreter: nil, libraries: [], entries: [])
    /// ```
    public init(architecture: String, interpreter: ImagePath?, libraries: [ImagePath], entries: [LayerEntry]) {
        self.architecture = architecture
        self.interpreter = interpreter
        self.libraries = libraries
        self.entries = entries
    }

    /// Resolves the closure of `executable` as ld.so would inside `root`.
    ///
    /// Each library is searched for once per name, breadth-first: by path when its `DT_NEEDED` contains a `/`,
    /// otherwise through `DT_RPATH`, `DT_RUNPATH`, the directories in `/etc/ld.so.conf` and the system directories,
    /// passing over files of another class or machine. `LD_LIBRARY_PATH` is not read: an image must not depend on the
    /// environment it was packaged in.
    ///
    /// ```swift
    /// let closure = try LibraryClosure.resolve(executable: "/work/.agnost/bundle/server")
    /// let test = try LibraryClosure.resolve(executable: "/tmp/server", root: "/tmp/fake-root")
    /// ```
    ///
    /// - Parameters:
    ///   - executable: the binary on the packaging machine; it is not looked for under `root`, and `$ORIGIN` in it
    ///     is its directory there.
    ///   - root: the directory the loader will see as `/`.
    /// - Throws: ``ImageError/Code/libraryNotFound`` naming a library no directory holds, the object that needs it and
    ///   the directories searched; ``ImageError/Code/unsafePath`` for a link that leaves `root`;
    ///   ``ImageError/Code/unreadableInput`` for a file that cannot be read or is not what the loader needs, a link
    ///   loop, or an executable of no known architecture.
    public static func resolve(executable: String, root: String = "/") throws(ImageError) -> LibraryClosure {
        let elf = try ELFFile(path: executable)
        guard let architecture = elf.architecture else {
            throw ImageError(
                .unreadableInput,
                "built for ELF machine \(elf.machine) (\(elf.is64Bit ? 64 : 32)-bit), which no image platform names; "
                    + "build it for a Linux architecture such as amd64 or arm64",
                context: executable
            )
        }
        var resolver = try ClosureResolver(
            executable: executable,
            elf: elf,
            architecture: architecture,
            fileSystem: RootedFileSystem(root: root)
        )
        try resolver.run()
        return LibraryClosure(
            architecture: architecture,
            interpreter: resolver.interpreter,
            libraries: resolver.libraries,
            entries: (Array(resolver.links) + fileEntries(resolver.files)).sorted { $0.path < $1.path }
        )
    }

    /// One file entry per file, at the smallest of the paths that reach it; the other paths become hard links to it,
    /// so the layer holds the bytes once and the image keeps the host's link structure.
    private static func fileEntries(_ files: [ImagePath: ResolvedPath]) -> [LayerEntry] {
        var entries: [LayerEntry] = []
        for group in Dictionary(grouping: files, by: { $0.value.identity }).values {
            let paths = group.sorted { $0.key < $1.key }
            guard let first = paths.first?.key else { continue }
            for (path, file) in paths {
                let kind: LayerEntry.Kind = path == first ? .file(.path(file.hostPath)) : .hardLink(target: first)
                entries.append(LayerEntry(path: path, kind: kind, mode: file.permissions))
            }
        }
        return entries
    }
}
