import AgnostDigest

/// The upload of one blob as the distribution API defines it, as a value-type state machine: it says which request
/// to send next and reads each response, and does no I/O itself.
///
/// `HEAD` first, so that a blob the repository has is skipped; a cross-repository mount when another repository of
/// the same registry is known to have it; otherwise an upload session, finished by one `PUT` for a small blob or by
/// `PATCH` chunks and a closing `PUT` for a large one. After a lost connection the upload resumes from the offset the
/// registry reports for the session; when the registry has dropped the session instead (the distribution registry
/// cancels one whose stored bytes and upload state disagree, as after a cut), the upload starts over, a few times
/// at most.
///
/// ```swift
/// var upload = BlobUpload(repository: "team/todo", digest: digest, size: 9_000_000, chunkSize: 8 << 20)
/// var request = upload.start()
/// while case .send(let next) = request { request = try upload.handle(try send(next)) }
/// ```
public struct BlobUpload: Sendable {
    /// A request for the session to send; bodies are byte ranges of the blob, read by the sender.
    public struct Request: Sendable, Equatable {
        public enum Method: String, Sendable {
            case head = "HEAD", get = "GET", post = "POST", put = "PUT", patch = "PATCH"
        }

        public var method: Method
        /// A path and query under the registry (`/v2/…`), or an absolute URL from a `Location` header.
        public var target: String
        /// The part of the blob to send as the body, if any.
        public var body: Range<Int64>?
        public var headers: [String: String]
    }

    /// What a response left to do.
    public enum Next: Sendable, Equatable {
        case send(Request)
        case finished(Outcome)
    }

    public enum Outcome: Sendable, Equatable {
        /// The repository had the blob; nothing was sent.
        case present
        /// The registry linked the blob from another repository; nothing was sent.
        case mounted
        /// The blob's bytes were sent.
        case uploaded
    }

    /// The parts of a response the machine reads.
    public struct Response: Sendable {
        public var status: Int
        public var location: String?
        /// The `Range` header of an upload session, `0-<last byte received>`.
        public var range: String?

        public init(status: Int, location: String? = nil, range: String? = nil) {
            self.status = status
            self.location = location
            self.range = range
        }
    }

    private enum State: Sendable {
        case checking
        case mounting
        case opening
        /// An open session at `location` that has received the bytes before `offset`.
        case sending(location: String, offset: Int64)
        /// Asking a session how much it received, after a lost connection.
        case recovering(location: String)
        case closing
        case done
    }

    public let repository: String
    public let digest: SHA256Digest
    public let size: Int64
    /// Blobs up to this size go in one `PUT`; larger ones in `PATCH` chunks of this size.
    public let chunkSize: Int64
    /// A repository of the same registry known to hold the blob.
    public let mountFrom: String?
    private var state = State.checking
    /// How many times the registry dropped a session and the upload started over.
    private var restarts = 0
    static let maximumRestarts = 3

    public init(repository: String, digest: SHA256Digest, size: Int64, chunkSize: Int64, mountFrom: String? = nil) {
        self.repository = repository
        self.digest = digest
        self.size = size
        self.chunkSize = max(chunkSize, 1)
        self.mountFrom = mountFrom
    }

    /// The first request: whether the repository has the blob.
    public mutating func start() -> Next {
        state = .checking
        return .send(Request(method: .head, target: "/v2/\(repository)/blobs/\(digest)", body: nil, headers: [:]))
    }

    /// Reads the response to the last request and says what to send next.
    ///
    /// - Throws: ``RegistryError`` for a status the API does not allow at that step, with the registry's meaning.
    public mutating func handle(_ response: Response) throws(RegistryError) -> Next {
        switch (state, response.status) {
        case (.checking, 200):
            state = .done
            return .finished(.present)
        case (.checking, 404):
            if let mountFrom {
                state = .mounting
                return .send(post(query: "?mount=\(digest)&from=\(mountFrom)"))
            }
            state = .opening
            return .send(post(query: ""))
        case (.mounting, 201):
            state = .done
            return .finished(.mounted)
        case (.mounting, 202), (.opening, 202):
            // A registry that cannot mount opens an ordinary upload session instead.
            return try send(from: 0, location: try location(of: response))
        case (.sending(_, let offset), 202):
            let location = try location(of: response)
            let received = try receivedEnd(response) ?? offset + min(chunkSize, size - offset)
            return try send(from: received, location: location)
        case (.recovering, 204), (.recovering, 202):
            return try send(from: try receivedEnd(response) ?? 0, location: try location(of: response))
        case (.sending, 201), (.closing, 201):
            state = .done
            return .finished(.uploaded)
        case (.sending(let location, _), 416):
            // The registry holds another amount than the chunk assumed, as after a resent chunk: ask how much.
            state = .recovering(location: location)
            return .send(Request(method: .get, target: location, body: nil, headers: [:]))
        case (.sending, 404), (.closing, 404), (.recovering, 404):
            guard restarts < Self.maximumRestarts else {
                throw RegistryError(
                    .unavailable,
                    "the registry dropped the upload session of \(digest) \(restarts + 1) times; it may be short of "
                        + "storage, or something between here and there cuts connections",
                    context: repository
                )
            }
            restarts += 1
            state = .opening
            return .send(post(query: ""))
        default:
            throw unexpected(response.status)
        }
    }

    /// After a lost connection during an upload, the request that asks the session how far it got; nil when no
    /// session is open, and the whole upload should start again.
    public mutating func recover() -> Request? {
        let location: String
        switch state {
        case .sending(let open, _), .recovering(let open): location = open
        default: return nil
        }
        state = .recovering(location: location)
        return Request(method: .get, target: location, body: nil, headers: [:])
    }

    private mutating func send(from offset: Int64, location: String) throws(RegistryError) -> Next {
        if size <= chunkSize && offset == 0 {
            state = .sending(location: location, offset: 0)
            return .send(close(location, body: 0..<size))
        }
        guard offset < size else {
            state = .closing
            return .send(close(location, body: nil))
        }
        let end = min(offset + chunkSize, size)
        state = .sending(location: location, offset: offset)
        return .send(
            Request(
                method: .patch,
                target: location,
                body: offset..<end,
                headers: ["Content-Range": "\(offset)-\(end - 1)", "Content-Type": "application/octet-stream"]
            )
        )
    }

    private func post(query: String) -> Request {
        Request(method: .post, target: "/v2/\(repository)/blobs/uploads/\(query)", body: nil, headers: [:])
    }

    private func close(_ location: String, body: Range<Int64>?) -> Request {
        let separator = location.contains("?") ? "&" : "?"
        return Request(
            method: .put,
            target: "\(location)\(separator)digest=\(digest)",
            body: body,
            headers: ["Content-Type": "application/octet-stream"]
        )
    }

    private func location(of response: Response) throws(RegistryError) -> String {
        guard let location = response.location, !location.isEmpty else {
            throw RegistryError(
                .unavailable,
                "the registry opened an upload for \(digest) without a Location header; is it an OCI registry?",
                context: repository
            )
        }
        return location
    }

    /// The offset after the last byte the session holds, from `Range: 0-<last>`.
    private func receivedEnd(_ response: Response) throws(RegistryError) -> Int64? {
        guard let range = response.range else { return nil }
        guard let dash = range.lastIndex(of: "-"), let last = Int64(range[range.index(after: dash)...]) else {
            throw RegistryError(
                .unavailable,
                "the registry sent an unreadable upload Range '\(range)'",
                context: repository
            )
        }
        // A session with no bytes also reports `0-0`; the one-byte case it hides cannot arise with whole chunks.
        return last == 0 ? 0 : last + 1
    }

    private func unexpected(_ status: Int) -> RegistryError {
        RegistryError(
            .unavailable,
            "the registry answered \(status) while uploading \(digest), which the distribution API does not allow there",
            context: repository
        )
    }
}
