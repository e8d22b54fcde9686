import AgnostDigest
import Foundation

/// A blob arriving into an OCI layout, from a registry say: its bytes go to a staged file next to where the blob
/// belongs, hashed on the way, and take that place only once they match the descriptor's digest and size. Dropping
/// it before ``commit()`` leaves nothing behind.
///
/// ```swift
/// let incoming = try layout.receive(descriptor)
/// for piece in pieces { try piece.withUnsafeBytes { try incoming.append($0) } }
/// let blob = try incoming.commit()   // a .path blob of the layout
/// ```
public final class IncomingBlob {
    public let descriptor: Descriptor
    /// The descriptor's digest, checked to name a blob file.
    public let digest: SHA256Digest
    private let destination: String
    private var file: StagedOutputFile
    private var hasher = SHA256Hasher()
    /// The bytes appended since the last start.
    public private(set) var received: Int64 = 0

    init(descriptor: Descriptor, layout: ImageLayout) throws(ImageError) {
        self.descriptor = descriptor
        digest = try descriptor.validatedDigest()
        // Every blob of a pull comes through here; once the folder is a layout, that is all there is to check.
        if !FileManager.default.fileExists(atPath: layout.path(ImageLayout.layoutMarker)) {
            try layout.prepareForWriting()
        }
        destination = layout.path("blobs/sha256/\(digest.hexString)")
        file = try StagedOutputFile(destination: destination)
    }

    /// Adds the next bytes; more than the descriptor's size is refused, since the digest could not match.
    public func append(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        guard received + Int64(bytes.count) <= descriptor.size else {
            throw ImageError(
                .corruptContent,
                "blob \(descriptor.digest) is longer than the \(descriptor.size) bytes its descriptor says",
                context: destination
            )
        }
        try file.append(bytes)
        hasher.update(bytes)
        received += Int64(bytes.count)
    }

    /// Drops what arrived so far, for a transfer that starts again.
    public func restart() throws(ImageError) {
        guard received > 0 else { return }
        file = try StagedOutputFile(destination: destination)
        hasher = SHA256Hasher()
        received = 0
    }

    /// Checks the bytes against the descriptor and puts them in place.
    ///
    /// - Returns: the blob, as a file of the layout.
    public func commit() throws(ImageError) -> Blob {
        let arrived = hasher.finalize()
        guard arrived == digest, received == descriptor.size else {
            throw ImageError(
                .corruptContent,
                "blob \(descriptor.digest) arrived with digest \(arrived) and \(received) bytes; it was corrupted "
                    + "on the way or the source serves the wrong content",
                context: destination
            )
        }
        try file.commit()
        return Blob(digest: digest, size: received, contents: .path(destination))
    }
}

extension ImageLayout {
    /// Starts receiving a blob into the layout; see ``IncomingBlob``.
    public func receive(_ descriptor: Descriptor) throws(ImageError) -> IncomingBlob {
        try IncomingBlob(descriptor: descriptor, layout: self)
    }
}
