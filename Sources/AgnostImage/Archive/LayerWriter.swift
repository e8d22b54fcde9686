public import AgnostDigest
import AgnostOCI

/// Writes a layer blob: the tar of a ``LayerContents``, compressed or not, in one pass that also computes the digests
/// an OCI manifest and config need. The same contents and time give the same bytes, whoever runs it, whatever the
/// umask, and whatever owners and times the source files have.
///
/// ```swift
/// let contents = try LayerContents([
///     LayerEntry(path: try ImagePath("/app/server"), kind: .file(.path(".build/release/server")), mode: 0o755),
/// ])
/// let blob = try LayerWriter.write(contents, to: "/tmp/layer.tar.gz", modificationTime: 0, compression: .gzip(level: 6))
/// print(blob.digest, blob.diffID, blob.size)
/// ```
public enum LayerWriter {
    public enum Compression: Sendable, Hashable {
        /// gzip at a zlib level from 1 (fastest) to 9 (smallest); 0 stores without compressing.
        case gzip(level: Int32)
        /// The plain tar; its digest is its diff ID.
        case none
    }

    /// Writes `contents` to `path`, replacing any file there only once the blob is complete.
    ///
    /// - Parameter modificationTime: seconds since 1970 for every entry, typically `SOURCE_DATE_EPOCH`.
    /// - Throws: ``ImageError/Code/unreadableInput`` naming a source file that cannot be read or changes size while
    ///   read; ``ImageError/Code/invalidArgument`` for a gzip level outside 0…9; ``ImageError/Code/archiveFailed``
    ///   and ``ImageError/Code/fileSystem`` when libarchive, zlib or the output fail. No output file is left then.
    public static func write(
        _ contents: LayerContents,
        to path: String,
        modificationTime: Int64,
        compression: Compression
    ) throws(ImageError) -> LayerBlob {
        let output = try StagedOutputFile(destination: path)
        let sink = try LayerBlobSink(compression: compression, output: output)
        let tar = try TarArchiveWriter(modificationTime: modificationTime, consume: sink.consume)
        for entry in contents.entries {
            try tar.append(entry)
        }
        try tar.finish()
        let blob = try sink.finish()
        try output.commit()
        return blob
    }
}

/// A written layer blob as an OCI manifest and image config describe it.
public struct LayerBlob: Sendable, Hashable {
    /// Of the bytes written: the blob's name in the layout and in the manifest.
    public let digest: SHA256Digest
    /// Of the uncompressed tar: the image config's `rootfs.diff_ids` entry.
    public let diffID: SHA256Digest
    /// Of the bytes written.
    public let size: Int64

    public init(digest: SHA256Digest, diffID: SHA256Digest, size: Int64) {
        self.digest = digest
        self.diffID = diffID
        self.size = size
    }
}
