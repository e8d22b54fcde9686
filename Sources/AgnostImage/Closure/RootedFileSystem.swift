import AgnostOCI
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory of the packaging machine taken as the root of the file system the dynamic loader will see, with paths
/// looked up inside it the way the kernel looks them up in a chroot.
///
/// Lookup goes component by component with `lstat`, follows symbolic links (relative targets from the link's
/// directory, absolute ones from the root) and takes `..` physically, after the links before it. It never leaves the
/// root: a `..` above it is refused rather than clamped, so that a broken or hostile link cannot pull a file from
/// elsewhere on the machine into an image.
///
/// ```swift
/// let found = try RootedFileSystem(root: "/").resolve("/lib64/ld-linux-x86-64.so.2")
/// // found?.physical == ["usr", "lib", "x86_64-linux-gnu", "ld-linux-x86-64.so.2"] on merged-/usr Debian
/// ```
struct RootedFileSystem: Sendable {
    /// Linux's limit on symbolic links followed in one lookup, after which it fails with ELOOP.
    static let maximumLinks = 40

    /// The root as given, for messages.
    let root: String
    /// The root without trailing slashes (empty for `/`), ready to prefix an absolute path.
    private let prefix: String

    init(root: String) {
        self.root = root
        var prefix = Substring(root)
        while prefix.hasSuffix("/") { prefix = prefix.dropLast() }
        self.prefix = String(prefix)
    }

    /// Where `components`, a path below the root, lies on the packaging machine.
    func hostPath(_ components: [String]) -> String {
        components.isEmpty ? (prefix.isEmpty ? "/" : prefix) : prefix + "/" + components.joined(separator: "/")
    }

    /// Looks `path` up below the root, relative paths from the root too.
    ///
    /// - Returns: nil when a component does not exist or a non-directory is used as a directory (ENOENT, ENOTDIR).
    /// - Throws: ``ImageError/Code/unsafePath`` for a `..` above the root; ``ImageError/Code/unreadableInput`` when a
    ///   component cannot be examined or more than ``maximumLinks`` links are met.
    func resolve(_ path: String) throws(ImageError) -> ResolvedPath? {
        var physical: [String] = []
        var opened: [String] = []
        var links: [LayerEntry] = []
        var status = stat()
        // Components still to walk, last first; `link` is the link whose target supplied the component, nil for the
        // path's own components, which alone make up the name the path was opened by.
        var pending = Self.components(of: path).reversed().map { (name: $0, link: String?.none) }
        while let (name, link) = pending.popLast() {
            if name == "." { continue }
            if name == ".." {
                guard !physical.isEmpty else {
                    let reason = link == nil ? "'\(path)' climbs" : "its target climbs"
                    throw ImageError(
                        .unsafePath,
                        "\(reason) above the root \(root); only links that stay inside it can be packaged",
                        context: link ?? path
                    )
                }
                physical.removeLast()
                if link == nil { opened = physical }
                continue
            }
            let candidate = physical + [name]
            let host = hostPath(candidate)
            guard lstat(host, &status) == 0 else {
                if errno == ENOENT || errno == ENOTDIR { return nil }
                throw Self.failure("cannot examine it", host)
            }
            if link == nil { opened.append(name) }
            switch status.st_mode & S_IFMT {
            case S_IFLNK:
                guard links.count < Self.maximumLinks else {
                    throw ImageError(
                        .unreadableInput,
                        "too many levels of symbolic links (more than \(Self.maximumLinks)) looking up '\(path)'; "
                            + "the links form a loop",
                        context: host
                    )
                }
                let target = try Self.target(ofLink: host)
                links.append(
                    LayerEntry(
                        path: try ImagePath(candidate.joined(separator: "/")),
                        kind: .symlink(target: target),
                        mode: 0o777
                    )
                )
                if target.hasPrefix("/") { physical = [] }
                if target.isEmpty { return nil }
                pending.append(contentsOf: Self.components(of: target).reversed().map { ($0, host) })
            case S_IFDIR:
                physical = candidate
            default:
                // A file used as a directory: the kernel answers ENOTDIR.
                guard pending.isEmpty else { return nil }
                physical = candidate
            }
        }
        // Examined again: the last component walked may have been a link to `.` or a `..`, not the file reached.
        let host = hostPath(physical)
        guard (physical.isEmpty ? stat(host, &status) : lstat(host, &status)) == 0 else {
            throw Self.failure("cannot examine it", host)
        }
        return ResolvedPath(
            opened: opened,
            physical: physical,
            hostPath: host,
            links: links,
            fileType: status.st_mode & S_IFMT,
            permissions: UInt16(truncatingIfNeeded: status.st_mode & 0o7777),
            identity: FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
        )
    }

    /// The names in a directory found by ``resolve(_:)``, `.` and `..` excluded.
    func contentsOfDirectory(_ directory: ResolvedPath) throws(ImageError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory.hostPath)
        } catch {
            throw ImageError(
                .unreadableInput,
                "cannot list the directory: \(error.localizedDescription)",
                context: directory.hostPath
            )
        }
    }

    /// The bytes of a file found by ``resolve(_:)``.
    func contents(of file: ResolvedPath) throws(ImageError) -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: file.hostPath))
        } catch {
            throw ImageError(.unreadableInput, "cannot read it: \(error.localizedDescription)", context: file.hostPath)
        }
    }

    private static func components(of path: String) -> [String] {
        path.split(separator: "/").map(String.init)
    }

    private static func target(ofLink path: String) throws(ImageError) -> String {
        do {
            return try FileManager.default.destinationOfSymbolicLink(atPath: path)
        } catch {
            throw ImageError(
                .unreadableInput,
                "cannot read the symbolic link: \(error.localizedDescription)",
                context: path
            )
        }
    }

    private static func failure(_ what: String, _ path: String) -> ImageError {
        ImageError(.unreadableInput, "\(what): \(String(cString: strerror(errno)))", context: path)
    }
}

/// A path looked up by ``RootedFileSystem/resolve(_:)``.
struct ResolvedPath: Sendable {
    /// The path as opened: `.` dropped, `..` taken physically, links kept by name. Empty for the root.
    let opened: [String]
    /// The same file's path with no symbolic link in it. Empty for the root.
    let physical: [String]
    /// Where ``physical`` lies on the packaging machine.
    let hostPath: String
    /// Every symbolic link followed, as the image must hold it for the path to lead to the same file.
    let links: [LayerEntry]
    /// `st_mode & S_IFMT` of the file reached.
    let fileType: mode_t
    /// `st_mode & 0o7777` of the file reached.
    let permissions: UInt16
    let identity: FileIdentity

    var isRegularFile: Bool { fileType == S_IFREG }
    var isDirectory: Bool { fileType == S_IFDIR }
}

/// What makes two paths the same file: hard links share it.
struct FileIdentity: Sendable, Hashable {
    let device: UInt64
    let inode: UInt64
}
