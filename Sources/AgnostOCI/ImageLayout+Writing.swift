import AgnostDigest
import Foundation

extension ImageLayout {
    /// Adds an image: its blobs, then its entry in `index.json`, replacing an entry of the same tag.
    ///
    /// Images under other tags stay. Every file is written to a temporary name and renamed into place, so that a
    /// reader never sees half a blob or half an index.
    ///
    /// ```swift
    /// try ImageLayout(directory: "out").add([config, layer, manifest], entry: manifestDescriptor)
    /// ```
    ///
    /// - Parameter entry: the manifest or index descriptor as `index.json` lists it, tag annotation included.
    public func add(_ blobs: [Blob], entry: Descriptor) throws(ImageError) {
        let existing = try prepareForWriting()
        for blob in blobs {
            try Self.place(blob, at: path(blob.layoutPath))
        }
        let tag = entry.annotations?[AnnotationKey.refName]
        let kept = existing.filter { tag == nil || $0.annotations?[AnnotationKey.refName] != tag }
        try Self.replaceFile(path("index.json"), with: CanonicalJSON.encode(ImageIndex(manifests: kept + [entry])))
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

    /// Writes `bytes` to a temporary name beside `destination`, then renames it into place.
    package static func replaceFile(_ destination: String, with bytes: [UInt8]) throws(ImageError) {
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

    package static func createDirectory(_ path: String) throws(ImageError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ImageError(.fileSystem, "cannot create the folder: \(error.localizedDescription)", context: path)
        }
    }
}
