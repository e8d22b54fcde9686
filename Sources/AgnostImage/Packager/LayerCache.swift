import AgnostDigest
import AgnostOCI
import Foundation

/// Compressed layers kept between runs, found by a key over everything that decides their bytes, so that
/// packaging an unchanged bundle again compresses nothing.
///
/// The key covers each entry's path, kind, mode, link target and content digest, the time stamp and the
/// compression level. Only the layers of the latest run are kept: ``prune(keeping:)`` drops the rest.
struct LayerCache: Sendable {
    let directory: String

    /// Bumped when the layer writer's output changes for the same inputs, so that old entries stop matching.
    private static let formatVersion = "agnost-fn layer 2"

    private struct Record: Codable {
        var digest: String
        var diffID: String
        var size: Int64
    }

    func key(
        for contents: LayerContents,
        modificationTime: Int64,
        compressionLevel: Int32
    ) throws(ImageError)
        -> SHA256Digest
    {
        let hasher = SHA256Hasher()
        func add(_ text: String) {
            var text = text + "\n"
            text.withUTF8 { hasher.update(UnsafeRawBufferPointer($0)) }
        }
        add("\(Self.formatVersion) mtime=\(modificationTime) gzip=\(compressionLevel)")
        for entry in contents.entries {
            let detail: String
            switch entry.kind {
            case .directory: detail = "directory"
            case .symlink(let target): detail = "symlink \(target)"
            case .hardLink(let target): detail = "hardlink \(target.relative)"
            case .file(.bytes(let bytes)):
                let bytesHasher = SHA256Hasher()
                bytes.withUnsafeBytes { bytesHasher.update($0) }
                detail = "file \(bytesHasher.finalize())"
            case .file(.path(let source)):
                detail = "file \(try SHA256Hasher.digest(ofFileAt: source).digest)"
            }
            add("\(entry.path.relative)\u{0} \(String(entry.mode, radix: 8)) \(detail)")
        }
        return hasher.finalize()
    }

    /// The blob stored under `key`, if it is still there whole.
    func lookup(_ key: SHA256Digest) -> CachedLayer? {
        guard let data = FileManager.default.contents(atPath: recordPath(key)),
            let record = try? JSONDecoder().decode(Record.self, from: data),
            let digest = SHA256Digest(prefixed: record.digest), let diffID = SHA256Digest(prefixed: record.diffID),
            let size = (try? FileManager.default.attributesOfItem(atPath: blobPath(key))[.size] as? NSNumber)?
                .int64Value,
            size == record.size
        else { return nil }
        return CachedLayer(key: key, blob: LayerBlob(digest: digest, diffID: diffID, size: size), file: blobPath(key))
    }

    /// Compresses `contents` into the cache under `key`.
    func store(
        _ contents: LayerContents,
        key: SHA256Digest,
        modificationTime: Int64,
        compressionLevel: Int32
    ) throws(ImageError) -> CachedLayer {
        try ImageLayout.createDirectory(directory)
        let blob = try LayerWriter.write(
            contents,
            to: blobPath(key),
            modificationTime: modificationTime,
            compression: .gzip(level: compressionLevel)
        )
        let record = Record(digest: blob.digest.description, diffID: blob.diffID.description, size: blob.size)
        try ImageLayout.replaceFile(recordPath(key), with: CanonicalJSON.encode(record))
        return CachedLayer(key: key, blob: blob, file: blobPath(key))
    }

    /// Removes every cached layer but those of `keys`.
    func prune(keeping keys: Set<SHA256Digest>) {
        let kept = Set(keys.flatMap { [($0.hexString + ".json"), ($0.hexString + ".tar.gz")] })
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !kept.contains(name) {
            unlink((directory as NSString).appendingPathComponent(name))
        }
    }

    private func blobPath(_ key: SHA256Digest) -> String {
        (directory as NSString).appendingPathComponent(key.hexString + ".tar.gz")
    }

    private func recordPath(_ key: SHA256Digest) -> String {
        (directory as NSString).appendingPathComponent(key.hexString + ".json")
    }
}

/// A compressed layer in the cache.
struct CachedLayer: Sendable {
    var key: SHA256Digest
    var blob: LayerBlob
    /// The compressed bytes.
    var file: String
}
