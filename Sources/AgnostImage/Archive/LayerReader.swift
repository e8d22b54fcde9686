import AgnostOCI

/// Lists the entries of a layer blob: gzip, zstd or uncompressed tar, told apart by their contents.
///
/// ```swift
/// for entry in try LayerReader.entries(ofLayerAt: "/tmp/layer.tar.gz") {
///     print(entry.name, entry.kind, String(entry.mode, radix: 8), entry.uid, entry.gid)
/// }
/// ```
public enum LayerReader {
    /// One entry, with its header fields as stored.
    public struct Entry: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            case directory
            case file
            case symlink
            case hardLink
            /// A device, a FIFO or a socket.
            case other
        }

        /// As stored: possibly with a leading `./`, and a trailing `/` on directories.
        public let name: String
        public let kind: Kind
        /// Permission bits including setuid/setgid/sticky.
        public let mode: UInt16
        public let uid: Int64
        public let gid: Int64
        /// Empty when the header names no user.
        public let uname: String
        /// Empty when the header names no group.
        public let gname: String
        /// Seconds since 1970.
        public let modificationTime: Int64
        /// The contents' size: 0 for everything but regular files.
        public let size: Int64
        /// The target of a symbolic or hard link.
        public let linkTarget: String?
        /// A regular file's contents, when asked for.
        public let contents: [UInt8]?
    }

    /// The entries of the layer at `path`, in archive order.
    ///
    /// - Parameter includingContents: read each regular file's contents into ``Entry/contents`` (for tests and
    ///   small layers: they are held in memory).
    /// - Throws: ``ImageError/Code/unsafePath`` naming the layer for an entry, or a hard link's target, that is
    ///   absolute or has a `..` component; ``ImageError/Code/archiveFailed`` with libarchive's reason for a file
    ///   that cannot be opened or is not a tar archive.
    public static func entries(ofLayerAt path: String, includingContents: Bool = false) throws(ImageError) -> [Entry] {
        let reader = try TarArchiveReader(path: path)
        var entries: [Entry] = []
        while let entry = try reader.next(includingContents: includingContents) {
            let hardLinkTarget = entry.kind == .hardLink ? entry.linkTarget : nil
            for name in [entry.name, hardLinkTarget].compactMap({ $0 }) where escapesRoot(name) {
                throw ImageError(
                    .unsafePath,
                    "entry \(entry.name) refers to \(name), outside the image; layers may hold only relative names "
                        + "without '..'",
                    context: path
                )
            }
            entries.append(entry)
        }
        return entries
    }

    private static func escapesRoot(_ name: String) -> Bool {
        name.hasPrefix("/") || name.split(separator: "/").contains("..")
    }
}
