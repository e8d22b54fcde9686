public import AgnostOCI

/// One entry of a layer's tar: what it is, where it goes, and its permission bits.
///
/// Ownership is always root (uid/gid 0, no names) and the modification time is the packager's fixed epoch, so
/// neither is part of an entry: both come from the writer, for reproducible bytes.
///
/// ```swift
/// let server = LayerEntry(path: try ImagePath("/app/server"), kind: .file(.path("/work/.agnost/bundle/server")),
///                         mode: 0o755)
/// ```
public struct LayerEntry: Sendable, Hashable {
    /// Where a file entry's bytes are: ``FileContents``, which blobs share.
    public typealias Contents = FileContents

    public enum Kind: Sendable, Hashable {
        case directory
        case file(Contents)
        /// A symbolic link; the target is stored as given (relative or absolute inside the image).
        case symlink(target: String)
        /// A hard link to an earlier regular-file entry of the same layer.
        case hardLink(target: ImagePath)
    }

    public var path: ImagePath
    public var kind: Kind
    /// Permission bits including setuid/setgid/sticky (`0o1777` for `/tmp`); the file type comes from ``kind``.
    public var mode: UInt16

    public init(path: ImagePath, kind: Kind, mode: UInt16) {
        self.path = path
        self.kind = kind
        self.mode = mode
    }

    /// A directory entry, mode 0755 unless given.
    public static func directory(_ path: ImagePath, mode: UInt16 = 0o755) -> LayerEntry {
        LayerEntry(path: path, kind: .directory, mode: mode)
    }
}
