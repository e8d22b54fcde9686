import AgnostDigest
import AgnostOCI
import Foundation

/// Writes a packaged image to an OCI layout folder or to a tar of one.
///
/// A layout keeps the images it already holds: an image under another tag stays, one under the same tag is
/// replaced in `index.json`. Every file is written to a temporary name and renamed into place, so that a reader
/// never sees half a blob or half an index.
enum ImageWriter {
    /// - Parameters:
    ///   - entry: the manifest descriptor as `index.json` lists it (platform and tag annotations included).
    ///   - modificationTime: the time stamp of the entries of an `oci-archive`.
    static func write(
        blobs: [Blob],
        entry: Descriptor,
        to output: LayoutReference,
        modificationTime: Int64
    ) throws(ImageError) {
        switch output.transport {
        case .layout:
            try ImageLayout(directory: output.path).add(blobs, entry: entry)
        case .archive:
            try writeArchive(blobs: blobs, entry: entry, file: output.path, modificationTime: modificationTime)
        }
    }

    private static func writeArchive(
        blobs: [Blob],
        entry: Descriptor,
        file: String,
        modificationTime: Int64
    ) throws(ImageError) {
        var entries = [
            LayerEntry(
                path: try ImagePath(ImageLayout.layoutMarker),
                kind: .file(.bytes(ImageLayout.layoutMarkerContents)),
                mode: 0o644
            ),
            LayerEntry(
                path: try ImagePath("index.json"),
                kind: .file(.bytes(try CanonicalJSON.encode(ImageIndex(manifests: [entry])))),
                mode: 0o644
            ),
        ]
        for blob in Set(blobs) {
            entries.append(LayerEntry(path: try ImagePath(blob.layoutPath), kind: .file(blob.contents), mode: 0o644))
        }
        let parent = (file as NSString).deletingLastPathComponent
        if !parent.isEmpty { try ImageLayout.createDirectory(parent) }
        _ = try LayerWriter.write(
            LayerContents(entries),
            to: file,
            modificationTime: modificationTime,
            compression: .none
        )
    }
}
