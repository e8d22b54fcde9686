import AgnostOCI

/// The entries of one layer, complete and in the order they are written: every enclosing directory present, each
/// path once, parents before children in ``ImagePath`` order. The same entries in any order give the same value.
///
/// A regular file and its hard links share an inode, so they are written as one group: the path that sorts first
/// carries the contents and the file's mode, the others link to it. Tar needs the target of a link before the link,
/// and this way the order stays sorted.
///
/// ```swift
/// let contents = try LayerContents([
///     LayerEntry(path: try ImagePath("/app/server"), kind: .file(.path(".build/release/server")), mode: 0o755),
///     .directory(try ImagePath("/tmp"), mode: 0o1777),
/// ])
/// contents.entries.map(\.path)   // /app, /app/server, /tmp
/// ```
public struct LayerContents: Sendable, Hashable {
    public let entries: [LayerEntry]

    /// - Throws: ``ImageError/Code/unsafePath`` naming the path for one given twice with different contents, one
    ///   with entries inside it that is not a directory, a hard link whose target is not a regular file of the
    ///   layer, and a NUL in a path or link target; ``ImageError/Code/invalidArgument`` for a mode with more than
    ///   permission bits.
    public init(_ entries: [LayerEntry]) throws(ImageError) {
        var byPath: [ImagePath: LayerEntry] = [:]
        for entry in entries {
            try Self.validate(entry)
            if let existing = byPath[entry.path], existing != entry {
                throw ImageError(
                    .unsafePath,
                    "given twice with different contents, type or mode; give each path once",
                    context: entry.path.absolute
                )
            }
            byPath[entry.path] = entry
        }
        for path in Array(byPath.keys) {
            for ancestor in path.ancestors {
                let existing = byPath[ancestor, default: .directory(ancestor)]
                guard existing.kind == .directory else {
                    throw ImageError(
                        .unsafePath,
                        "not a directory, yet the layer has \(path.absolute) inside it",
                        context: ancestor.absolute
                    )
                }
                byPath[ancestor] = existing
            }
        }
        try Self.groupHardLinks(in: &byPath)
        self.entries = byPath.values.sorted { $0.path < $1.path }
    }

    private static func validate(_ entry: LayerEntry) throws(ImageError) {
        guard entry.mode & ~0o7777 == 0 else {
            throw ImageError(
                .invalidArgument,
                "mode 0o\(String(entry.mode, radix: 8)) has bits beyond the permission bits; give at most 0o7777",
                context: entry.path.absolute
            )
        }
        // libarchive takes C strings: a NUL would cut the name short and write a different path than the one given.
        var texts = entry.path.components
        switch entry.kind {
        case .symlink(let target):
            guard !target.isEmpty else {
                throw ImageError(.unsafePath, "a symbolic link needs a target", context: entry.path.absolute)
            }
            texts.append(target)
        case .hardLink(let target):
            texts += target.components
        case .directory, .file:
            break
        }
        guard !texts.contains(where: { $0.utf8.contains(0) }) else {
            throw ImageError(.unsafePath, "contains a NUL character", context: entry.path.absolute)
        }
    }

    /// Checks every hard link's target and rewrites each group so that its first path in sort order holds the file.
    private static func groupHardLinks(in byPath: inout [ImagePath: LayerEntry]) throws(ImageError) {
        var linksByTarget: [ImagePath: [ImagePath]] = [:]
        for entry in byPath.values {
            guard case .hardLink(let target) = entry.kind else { continue }
            guard case .file? = byPath[target]?.kind else {
                throw ImageError(
                    .unsafePath,
                    "a hard link to \(target.absolute), which is not a regular file of this layer",
                    context: entry.path.absolute
                )
            }
            linksByTarget[target, default: []].append(entry.path)
        }
        for (target, links) in linksByTarget {
            let file = byPath[target]!
            let group = links + [target]
            let first = group.min()!
            // A link's own mode means nothing: it shares the file's inode.
            for path in group {
                let kind = path == first ? file.kind : .hardLink(target: first)
                byPath[path] = LayerEntry(path: path, kind: kind, mode: file.mode)
            }
        }
    }
}
