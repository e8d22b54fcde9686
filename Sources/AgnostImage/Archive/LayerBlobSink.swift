import AgnostOCI

/// Where a layer's tar stream goes, in one pass: its digest (the diff ID), gzip when asked for, the digest and size
/// of the bytes stored, and the output file.
final class LayerBlobSink {
    private let tarHasher = SHA256Hasher()
    /// Absent without compression, where the blob is the tar itself and its digest the diff ID.
    private let blobHasher: SHA256Hasher?
    private let deflater: GzipDeflater?
    private let output: StagedOutputFile
    private var size: Int64 = 0

    init(compression: LayerWriter.Compression, output: StagedOutputFile) throws(ImageError) {
        switch compression {
        case .gzip(let level):
            deflater = try GzipDeflater(level: level)
            blobHasher = SHA256Hasher()
        case .none:
            deflater = nil
            blobHasher = nil
        }
        self.output = output
    }

    /// Takes the next bytes of the uncompressed tar.
    func consume(_ tar: UnsafeRawBufferPointer) throws(ImageError) {
        tarHasher.update(tar)
        if let deflater {
            try deflater.compress(tar, emit: store)
        } else {
            try store(tar)
        }
    }

    /// Ends the stream after the last tar bytes and describes the blob written.
    func finish() throws(ImageError) -> LayerBlob {
        try deflater?.finish(emit: store)
        let diffID = tarHasher.finalize()
        return LayerBlob(digest: blobHasher?.finalize() ?? diffID, diffID: diffID, size: size)
    }

    private func store(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        blobHasher?.update(bytes)
        try output.append(bytes)
        size += Int64(bytes.count)
    }
}
