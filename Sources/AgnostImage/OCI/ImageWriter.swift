import AgnostDigest
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
            try writeLayout(blobs: blobs, entry: entry, directory: output.path)
        case .archive:
            try writeArchive(blobs: blobs, entry: entry, file: output.path, modificationTime: modificationTime)
        }
    }

    private static func writeLayout(blobs: [Blob], entry: Descriptor, directory: String) throws(ImageError) {
        let layout = ImageLayout(directory: directory)
        let existing = try layout.prepareForWriting()
        for blob in blobs {
            try place(blob, at: layout.path(blob.layoutPath))
        }
        let tag = entry.annotations?[AnnotationKey.refName]
        let kept = existing.filter { tag == nil || $0.annotations?[AnnotationKey.refName] != tag }
        let index = ImageIndex(manifests: kept + [entry])
        try replaceFile(layout.path("index.json"), with: CanonicalJSON.encode(index))
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
        if !parent.isEmpty { try createDirectory(parent) }
        _ = try LayerWriter.write(
            LayerContents(entries),
            to: file,
            modificationTime: modificationTime,
            compression: .none
        )
    }

    /// Puts a blob at `destination` unless a file of its size is already there (blobs are content-addressed):
    /// a hard link to a file blob when the file system allows, else a copy.
    private static func place(_ blob: Blob, at destination: String) throws(ImageError) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: destination)
        if let size = (attributes?[.size] as? NSNumber)?.int64Value, size == blob.size { return }
        switch blob.contents {
        case .bytes(let bytes):
            try replaceFile(destination, with: bytes)
        case .path(let source):
            let temporary = destination + ".partial-\(getpid())"
            unlink(temporary)
            if link(source, temporary) != 0 {
                do {
                    try FileManager.default.copyItem(atPath: source, toPath: temporary)
                } catch {
                    unlink(temporary)
                    throw ImageError(.fileSystem, "cannot copy blob \(blob.digest): \(error)", context: destination)
                }
            }
            try rename(temporary, over: destination)
        }
    }

    static func replaceFile(_ destination: String, with bytes: [UInt8]) throws(ImageError) {
        let temporary = destination + ".partial-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
            throw ImageError(.fileSystem, "cannot write the file", context: temporary)
        }
        try rename(temporary, over: destination)
    }

    private static func rename(_ temporary: String, over destination: String) throws(ImageError) {
        guard Foundation.rename(temporary, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ImageError(.fileSystem, "cannot write the file: \(reason)", context: destination)
        }
    }

    static func createDirectory(_ path: String) throws(ImageError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ImageError(.fileSystem, "cannot create the folder: \(error.localizedDescription)", context: path)
        }
    }
}
