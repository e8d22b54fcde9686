import AgnostOCI

/// A path inside an image's file system, normalised and known to stay inside it.
///
/// Stored without a leading `/` (`usr/lib/libc.so.6`), the form tar entries take. Construction refuses empty
/// components, `.` and `..`, so no entry the packager writes can point above the image root.
///
/// ```swift
/// let path = try ImagePath("/etc/passwd")   // path.relative == "etc/passwd", path.absolute == "/etc/passwd"
/// ```
public struct ImagePath: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The path components, root first.
    public let components: [String]

    /// - Throws: ``ImageError/Code/unsafePath`` for an empty path or one with `..`, `.` or empty components.
    public init(_ path: String) throws(ImageError) {
        var trimmed = Substring(path)
        while trimmed.hasPrefix("/") { trimmed = trimmed.dropFirst() }
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        let components = trimmed.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !trimmed.isEmpty, components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
            throw ImageError(
                .unsafePath,
                "not a path inside the image; use a path without '..', '.' or empty components",
                context: path
            )
        }
        self.components = components
    }

    private init(components: [String]) {
        self.components = components
    }

    /// `usr/lib/libc.so.6`: the tar entry name.
    public var relative: String { components.joined(separator: "/") }
    /// `/usr/lib/libc.so.6`: the path as a process in the container sees it.
    public var absolute: String { "/" + relative }
    public var description: String { absolute }

    /// The enclosing directory, or nil at the top level.
    public var parent: ImagePath? {
        components.count > 1 ? ImagePath(components: Array(components.dropLast())) : nil
    }

    /// Every enclosing directory, outermost first (`usr`, `usr/lib` for `usr/lib/libc.so.6`).
    public var ancestors: [ImagePath] {
        (1..<max(components.count, 1)).map { ImagePath(components: Array(components.prefix($0))) }
    }

    /// Component-wise order, so a directory sorts before everything inside it.
    public static func < (lhs: ImagePath, rhs: ImagePath) -> Bool {
        lhs.components.lexicographicallyPrecedes(rhs.components) { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
