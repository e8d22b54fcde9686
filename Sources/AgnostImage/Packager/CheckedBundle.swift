import AgnostOCI
import Foundation

/// A bundle folder checked for packaging: its two files are regular files inside it, and the server is an ELF
/// executable whose shared-library closure is known.
struct CheckedBundle: Sendable {
    /// The server binary's real path.
    var server: String
    /// `bundle.json`'s real path.
    var manifest: String
    var closure: LibraryClosure

    static func check(directory: String) throws(ImageError) -> CheckedBundle {
        guard let root = realPath(directory), isDirectory(root) else {
            throw ImageError(
                .unreadableInput,
                "no bundle here; build the project to make one",
                context: directory
            )
        }
        let server = try member("server", of: directory, root: root)
        let manifest = try member("bundle.json", of: directory, root: root)
        return CheckedBundle(
            server: server,
            manifest: manifest,
            closure: try LibraryClosure.resolve(executable: server)
        )
    }

    /// The real path of a bundle file, refusing one that is missing, not a regular file, or a symbolic link that
    /// leads out of the bundle.
    private static func member(_ name: String, of directory: String, root: String) throws(ImageError) -> String {
        let path = (directory as NSString).appendingPathComponent(name)
        guard let real = realPath(path) else {
            throw ImageError(.unreadableInput, "missing from the bundle; build the project again", context: path)
        }
        guard real.hasPrefix(root + "/") else {
            throw ImageError(
                .unsafePath,
                "is a symbolic link to \(real), outside the bundle; the image takes only files inside it",
                context: path
            )
        }
        var status = stat()
        guard stat(real, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw ImageError(.unreadableInput, "is not a regular file", context: path)
        }
        return real
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }
}
