import AgnostDigest
import AgnostHTTP
import AgnostOCI
import Foundation
import Synchronization

/// Pushes an image from an OCI layout to a registry: layers, then configs, then the manifest under the tag, or for
/// a multi-platform index each platform's manifest by digest and then the index under the tag. Blobs the repository
/// has are skipped, and blobs ``locations`` knows in another repository of the registry are mounted from there.
///
/// ```swift
/// let pushed = try await ImagePusher().push(
///     from: LayoutReference(transport: .layout, path: ".agnost/image", tag: "v1"),
///     to: try ImageReference(parsing: "localhost:5000/todo:v1"), plainHTTP: true, credentials: nil)
/// print(pushed)   // localhost:5000/todo:v1@sha256:…
/// ```
public struct ImagePusher: Sendable {
    /// Blobs up to this size go in one request; larger ones in chunks of it.
    public var chunkSize: Int64
    /// How many blobs upload at once, each over a connection of its own; 3, as Docker does.
    public var concurrentUploads: Int
    /// Where blobs were seen before, for mounting them; what this push stores is added.
    public var locations: BlobLocationCache
    private let report: @Sendable (TransferEvent) -> Void

    public init(
        chunkSize: Int64 = 32 << 20,
        concurrentUploads: Int = 3,
        locations: BlobLocationCache = BlobLocationCache(file: nil),
        report: @escaping @Sendable (TransferEvent) -> Void = { _ in }
    ) {
        self.chunkSize = chunkSize
        self.concurrentUploads = max(1, concurrentUploads)
        self.locations = locations
        self.report = report
    }

    /// - Returns: the reference pushed, pinned by the digest of the manifest or index the tag names.
    public func push(
        from source: LayoutReference,
        to destination: ImageReference,
        plainHTTP: Bool,
        credentials: (credentials: RegistryCredentials, source: String)?
    ) async throws(RegistryError) -> ImageReference {
        let layout = ImageLayout(directory: source.path)
        let contents = try Self.read(layout, tag: source.tag, context: source.description)
        let blobs = contents.blobs
        let session = try RegistrySession(
            registry: destination.registry,
            apiHost: destination.apiHost,
            repository: destination.repository,
            plainHTTP: plainHTTP,
            credentials: credentials
        )
        let mountSources = Dictionary(
            blobs.compactMap { blob in
                mountSource(for: blob, repository: destination.repository, registry: destination.registry).map {
                    (blob.digest, $0)
                }
            },
            uniquingKeysWith: { first, _ in first }
        )
        session.includePullScope(for: Set(mountSources.values).sorted())
        let ping = try await session.send(method: "GET", target: "/v2/")
        guard ping.status == 200 else {
            throw RegistryError(
                .unavailable,
                "GET /v2/ answered \(ping.status); this is not an OCI distribution registry",
                context: destination.registry
            )
        }
        try await uploadConcurrently(blobs, mountSources: mountSources, session: session)
        // An index may only name manifests the repository has, so they go first, by digest.
        for manifest in contents.platformManifests {
            try await store(manifest, as: manifest.digest.description, session: session, destination: destination)
        }
        try await store(
            contents.top,
            as: destination.tag ?? contents.top.digest.description,
            session: session,
            destination: destination
        )
        return destination.with(digest: contents.top.digest)
    }

    private func store(
        _ manifest: LayoutContents.Manifest,
        as reference: String,
        session: RegistrySession,
        destination: ImageReference
    ) async throws(RegistryError) {
        let response = try await session.send(
            method: "PUT",
            target: "/v2/\(destination.repository)/manifests/\(reference)",
            headers: ["Content-Type": manifest.mediaType],
            body: .bytes(manifest.bytes)
        )
        guard response.status == 201 else {
            throw session.failure(
                response,
                doing: "storing the manifest \(manifest.digest)",
                context: destination.description
            )
        }
        if let stored = response.header("Docker-Content-Digest"), stored != manifest.digest.description {
            throw RegistryError(
                .invalidContent,
                "the registry stored the manifest as \(stored), not \(manifest.digest); it rewrote the manifest",
                context: destination.description
            )
        }
        report(.manifest(manifest.digest, reference: reference))
    }

    /// Uploads the blobs side by side, ``concurrentUploads`` at a time, each worker on a session of its own; the
    /// manifest waits for all of them, as the registry requires. The first failure cancels the other uploads.
    private func uploadConcurrently(
        _ blobs: [Blob],
        mountSources: [SHA256Digest: String],
        session: RegistrySession
    ) async throws(RegistryError) {
        let workers = try (0..<min(blobs.count, concurrentUploads)).map { _ throws(RegistryError) in try session.fork()
        }
        let queue = WorkQueue(blobs)
        do {
            try await withThrowingTaskGroup { group in
                for worker in workers {
                    group.addTask {
                        while let blob = queue.next() {
                            try await upload(blob, mountFrom: mountSources[blob.digest], with: worker)
                        }
                    }
                }
                try await group.waitForAll()
            }
        } catch let error as RegistryError {
            throw error
        } catch {
            throw .cancelled(session.registry, underlying: error)
        }
    }

    /// Another repository of the registry known to hold the blob.
    private func mountSource(for blob: Blob, repository: String, registry: String) -> String? {
        locations.repositories(holding: blob.digest, registry: registry).first { $0 != repository }
    }

    private func upload(_ blob: Blob, mountFrom: String?, with session: RegistrySession) async throws(RegistryError) {
        guard case .path(let file) = blob.contents else { return }
        let start = ContinuousClock.now
        var outcome: BlobUpload.Outcome
        do throws(RegistryError) {
            outcome = try await upload(blob, from: file, mountFrom: mountFrom, with: session)
        } catch let error where mountFrom != nil && [.unauthorized, .forbidden].contains(error.code) {
            // The credentials may not read the repository the blob was seen in; the bytes are here to upload.
            outcome = try await upload(blob, from: file, mountFrom: nil, with: session)
        }
        locations.record(blob.digest, registry: session.registry, repository: session.repository)
        report(.blob(blob.digest, size: blob.size, TransferEvent.Outcome(outcome), ContinuousClock.now - start))
    }

    private func upload(
        _ blob: Blob,
        from file: String,
        mountFrom: String?,
        with session: RegistrySession
    ) async throws(RegistryError) -> BlobUpload.Outcome {
        var upload = BlobUpload(
            repository: session.repository,
            digest: blob.digest,
            size: blob.size,
            chunkSize: chunkSize,
            mountFrom: mountFrom
        )
        var next = upload.start()
        var recoveries = 0
        while case .send(let request) = next {
            let offset = request.body?.lowerBound ?? 0
            let response: BlobUpload.Response
            do throws(RegistryError) {
                let sent = try await session.send(
                    method: request.method.rawValue,
                    target: session.absolute(request.target),
                    headers: request.headers,
                    body: request.body.map { .file(path: file, range: $0) },
                    retry: request.method != .patch,
                    uploadProgress: { [report] in report(.progress(blob.digest, done: offset + $0, size: blob.size)) }
                )
                guard sent.status < 400 || sent.status == 404 || sent.status == 416 else {
                    throw session.failure(sent, doing: "uploading \(blob.digest)")
                }
                response = BlobUpload.Response(
                    status: sent.status,
                    location: sent.header("Location").map(session.absolute),
                    range: sent.header("Range")
                )
            } catch let error where error.code == .unavailable {
                // A chunk may have arrived in part: ask the session how much it holds, then go on from there.
                guard recoveries < Self.maximumRecoveries, let recovery = upload.recover() else { throw error }
                recoveries += 1
                next = .send(recovery)
                continue
            }
            next = try upload.handle(response)
        }
        guard case .finished(let outcome) = next else { preconditionFailure("the upload loop ends only when finished") }
        return outcome
    }

    /// How many times one blob's upload may resume after a lost connection or a failed chunk.
    static let maximumRecoveries = 5

    /// What a push sends from a layout: blobs, then the manifests of an index, then the tagged manifest or index.
    private struct LayoutContents {
        struct Manifest {
            var mediaType: String
            var digest: SHA256Digest
            var bytes: [UInt8]
        }

        /// Layers, then configs, each once.
        var blobs: [Blob] = []
        /// The manifests an index lists; none for a single-platform image.
        var platformManifests: [Manifest] = []
        /// What the tag names: a manifest, or an index.
        var top: Manifest
    }

    private static func read(
        _ layout: ImageLayout,
        tag: String?,
        context: String
    ) throws(RegistryError) -> LayoutContents {
        do {
            let entry = try layout.entry(tag: tag)
            let top = LayoutContents.Manifest(
                mediaType: entry.mediaType,
                digest: try entry.validatedDigest(),
                bytes: try layout.read(entry)
            )
            var contents = LayoutContents(top: top)
            switch entry.mediaType {
            case MediaType.imageManifest:
                contents.blobs = try blobs(of: top.bytes, in: layout)
            case MediaType.imageIndex:
                let index = try JSONDecoder().decode(ImageIndex.self, from: Data(top.bytes))
                for descriptor in index.manifests {
                    guard descriptor.mediaType == MediaType.imageManifest else {
                        throw RegistryError(
                            .invalidArgument,
                            "the index lists a \(descriptor.mediaType); only indexes of image manifests can be pushed",
                            context: context
                        )
                    }
                    let bytes = try layout.read(descriptor)
                    contents.platformManifests.append(
                        .init(mediaType: descriptor.mediaType, digest: try descriptor.validatedDigest(), bytes: bytes)
                    )
                    for blob in try blobs(of: bytes, in: layout) where !contents.blobs.contains(blob) {
                        contents.blobs.append(blob)
                    }
                }
            default:
                throw RegistryError(
                    .invalidArgument,
                    "the image is a \(entry.mediaType), which cannot be pushed; push an OCI manifest or index",
                    context: context
                )
            }
            return contents
        } catch let error as ImageError {
            throw RegistryError(.fileSystem, error.message, context: error.context ?? context)
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError(.invalidContent, "the manifest cannot be read: \(error)", context: context)
        }
    }

    /// A manifest's blobs in upload order: layers, then the config.
    private static func blobs(of manifest: [UInt8], in layout: ImageLayout) throws -> [Blob] {
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(manifest))
        return try (manifest.layers + [manifest.config]).map { try layout.blob($0) }
    }
}

extension RegistrySession {
    /// An absolute URL for a `Location` header, which registries may send relative to themselves.
    func absolute(_ location: String) -> String {
        location.hasPrefix("/") ? baseURL + location : location
    }
}

/// Items handed out one at a time to whichever worker asks next.
private final class WorkQueue<Item: Sendable>: Sendable {
    private let items: [Item]
    private let taken = Mutex(0)

    init(_ items: [Item]) {
        self.items = items
    }

    func next() -> Item? {
        taken.withLock { taken in
            guard taken < items.count else { return nil }
            defer { taken += 1 }
            return items[taken]
        }
    }
}
