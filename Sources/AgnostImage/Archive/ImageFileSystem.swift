import AgnostOCI

/// The file tree of an image, built by applying its layers in order with OCI whiteouts, for asking which paths a
/// base image already has.
///
/// A `.wh.<name>` entry removes `<name>` and everything under it from the layers below; a `.wh..wh..opq` entry makes
/// its directory opaque, removing everything the layers below put in it. Either applies before the rest of its own
/// layer, which may add new entries in the same places.
///
/// ```swift
/// let base = try ImageFileSystem(layers: ["blobs/sha256/3f4a…", "blobs/sha256/9c1e…"])
/// base.contains(try ImagePath("/lib/x86_64-linux-gnu/libssl.so.3"))   // false: add it to the layer
/// ```
public struct ImageFileSystem: Sendable {
    private var root = Node(kind: .directory)

    /// Applies the layer blobs at `layers`, lowest first.
    ///
    /// - Throws: what ``LayerReader/entries(ofLayerAt:includingContents:)`` throws.
    public init(layers: [String]) throws(ImageError) {
        for layer in layers {
            apply(try LayerReader.entries(ofLayerAt: layer))
        }
    }

    /// Whether a process in the container would find something at `path`, following symbolic links the way the
    /// kernel does, including in the last component, but never above the image's root. With a merged `/usr`, for
    /// one, `/lib/x86_64-linux-gnu/libc.so.6` is found through the `lib -> usr/lib` link.
    public func contains(_ path: ImagePath) -> Bool {
        if case .reached = walk(path.components) { true } else { false }
    }

    /// Where an entry for `path` belongs in a layer over this image: symbolic links among its enclosing directories
    /// followed, the last component kept. Written as given, an entry under `/lib` of a merged `/usr` would bring a
    /// `/lib` directory entry with it, and unpacking that replaces the base image's link. Nil when a file or a loop
    /// of links blocks the way.
    ///
    /// ```swift
    /// base.placement(of: try ImagePath("/lib/x86_64-linux-gnu/libssl.so.3"))   // /usr/lib/x86_64-linux-gnu/…
    /// ```
    public func placement(of path: ImagePath) -> ImagePath? {
        switch walk(Array(path.components.dropLast())) {
        case .reached(let parent, isDirectory: true), .missing(let parent):
            try? ImagePath((parent + [path.components[path.components.count - 1]]).joined(separator: "/"))
        case .reached, .blocked:
            nil
        }
    }

    /// Follows `components` from the root as the kernel resolves a path.
    private func walk(_ components: [String]) -> Walk {
        var pending = Array(components.reversed())
        var resolved: [String] = []
        var isDirectory = true
        var linksFollowed = 0
        while let name = pending.popLast() {
            guard isDirectory else { return .blocked }
            if name == "." { continue }
            if name == ".." {
                _ = resolved.popLast()
                continue
            }
            guard let node = node(at: resolved + [name]) else {
                let rest = pending.reversed().filter { $0 != "." }
                return rest.contains("..") ? .blocked : .missing(resolved + [name] + rest)
            }
            guard case .symlink(let target) = node.kind else {
                resolved.append(name)
                isDirectory = node.kind.isDirectory
                continue
            }
            // Linux's limit; past it, as in a loop, the path cannot be resolved.
            linksFollowed += 1
            guard linksFollowed <= 40 else { return .blocked }
            if target.hasPrefix("/") { resolved = [] }
            pending += target.split(separator: "/").reversed().map(String.init)
        }
        return .reached(resolved, isDirectory: isDirectory)
    }

    private func node(at components: [String]) -> Node? {
        var node = root
        for name in components {
            guard let child = node.children[name] else { return nil }
            node = child
        }
        return node
    }

    private mutating func apply(_ entries: [LayerReader.Entry]) {
        var additions: [(components: [String], kind: Node.Kind)] = []
        for entry in entries {
            var components = entry.name.split(separator: "/").map(String.init).filter { $0 != "." }
            guard let name = components.popLast() else { continue }
            if name == ".wh..wh..opq" {
                root.withChildren(of: components[...]) { $0.removeAll() }
            } else if name.hasPrefix(".wh..wh.") {
                // aufs bookkeeping (`.wh..wh.plnk`, …), not part of the file tree.
                continue
            } else if name.hasPrefix(".wh.") {
                root.withChildren(of: components[...]) { $0[String(name.dropFirst(4))] = nil }
            } else {
                let kind: Node.Kind =
                    switch entry.kind {
                    case .directory: .directory
                    case .symlink: .symlink(target: entry.linkTarget ?? "")
                    case .file, .hardLink, .other: .file
                    }
                additions.append((components + [name], kind))
            }
        }
        for addition in additions {
            root.insert(addition.components[...], kind: addition.kind)
        }
    }
}

extension ImageFileSystem {
    private enum Walk {
        /// Every component exists: the path with links resolved, and whether it ends at a directory.
        case reached([String], isDirectory: Bool)
        /// The resolved path of what exists, then the rest as given: below a missing name no link can redirect it.
        case missing([String])
        /// A file where a directory is needed, a loop of links, or a `..` out of a missing directory.
        case blocked
    }

    /// One path of the tree; a directory's children by name.
    private struct Node: Sendable {
        enum Kind: Sendable {
            case directory
            case file
            case symlink(target: String)

            var isDirectory: Bool {
                if case .directory = self { true } else { false }
            }
        }

        var kind: Kind
        var children: [String: Node] = [:]

        /// Adds the entry at `components` below this node, with a directory for each missing or non-directory parent.
        /// A directory over a directory keeps what is in it; anything else replaces what was there.
        mutating func insert(_ components: ArraySlice<String>, kind: Kind) {
            guard let name = components.first else { return }
            let rest = components.dropFirst()
            let added = rest.isEmpty ? kind : .directory
            if !(added.isDirectory && children[name]?.kind.isDirectory == true) {
                children[name] = Node(kind: added)
            }
            if !rest.isEmpty { children[name]!.insert(rest, kind: kind) }
        }

        /// Runs `change` on the children of the directory at `components` below this node, if there is one.
        mutating func withChildren(of components: ArraySlice<String>, _ change: (inout [String: Node]) -> Void) {
            guard let name = components.first else { return change(&children) }
            children[name]?.withChildren(of: components.dropFirst(), change)
        }
    }
}
