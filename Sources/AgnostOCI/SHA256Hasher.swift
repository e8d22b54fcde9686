public import AgnostDigest
internal import COpenSSL

/// Streaming SHA-256 over libcrypto, for layer blobs of tens of megabytes that the pure-Swift ``SHA256`` hashes too
/// slowly in debug builds. One hasher computes one digest: ``finalize()`` ends it, and using it again stops the
/// process.
///
/// ```swift
/// let hasher = SHA256Hasher()
/// Array("abc".utf8).withUnsafeBytes { hasher.update($0) }
/// let digest = hasher.finalize()   // sha256:ba7816bf…
/// ```
public final class SHA256Hasher {
    private let context: OpaquePointer
    private var isFinished = false

    public init() {
        // Either fails only when memory is exhausted or libcrypto lacks SHA-256; a caller could do nothing about it.
        guard let context = EVP_MD_CTX_new() else { fatalError("libcrypto could not allocate a digest context") }
        self.context = context
        precondition(EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1, "libcrypto could not start a SHA-256 digest")
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    public func update(_ buffer: UnsafeRawBufferPointer) {
        precondition(!isFinished, "SHA256Hasher.update called after finalize")
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return }
        precondition(EVP_DigestUpdate(context, base, buffer.count) == 1, "libcrypto could not update a SHA-256 digest")
    }

    public func finalize() -> SHA256Digest {
        precondition(!isFinished, "SHA256Hasher.finalize called twice")
        isFinished = true
        var bytes = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context, &bytes, &length) == 1, "libcrypto could not finish a SHA-256 digest")
        return SHA256Digest(bytes: bytes)!
    }

    /// Hashes a file on the packaging machine without reading it into memory whole.
    ///
    /// ```swift
    /// let (digest, size) = try SHA256Hasher.digest(ofFileAt: "/work/.agnost/blobs/layer.tar.gz")
    /// ```
    ///
    /// - Throws: ``ImageError/Code/unreadableInput`` naming `path` when it cannot be opened, is not a regular file,
    ///   or changes size while being read.
    public static func digest(ofFileAt path: String) throws(ImageError) -> (digest: SHA256Digest, size: Int64) {
        let file = try ChunkedFileReader(path: path)
        let hasher = SHA256Hasher()
        try file.forEachChunk { chunk in hasher.update(chunk) }
        return (hasher.finalize(), file.size)
    }
}
