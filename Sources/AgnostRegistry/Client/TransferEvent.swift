import AgnostDigest

/// What a push or a pull reports while it works, from the threads that move the bytes: progress while a blob's bytes
/// go out or come in, one event per finished blob, and each manifest a push stores.
///
/// ```swift
/// let pusher = ImagePusher { event in
///     if case .blob(let digest, _, .uploaded, let elapsed) = event { print(digest, elapsed) }
/// }
/// ```
public enum TransferEvent: Sendable {
    /// `done` of the blob's `size` bytes have been handed to the connection, or written to the layout.
    case progress(SHA256Digest, done: Int64, size: Int64)
    case blob(SHA256Digest, size: Int64, Outcome, Duration)
    case manifest(SHA256Digest, reference: String)

    /// How a blob got where it had to be.
    public enum Outcome: Sendable, Equatable {
        /// The destination had it; nothing was sent.
        case present
        /// The registry linked it from another repository; nothing was sent.
        case mounted
        /// Its bytes were sent to the registry.
        case uploaded
        /// Its bytes came from the registry.
        case downloaded

        init(_ upload: BlobUpload.Outcome) {
            switch upload {
            case .present: self = .present
            case .mounted: self = .mounted
            case .uploaded: self = .uploaded
            }
        }
    }
}
