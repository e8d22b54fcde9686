import AgnostDigest
import AgnostHTTP
import AgnostOCI
import Foundation

/// Pulls an image from a registry into an OCI layout: the manifest (through an index to the wanted platform), the
/// config and the layers. Blobs stream to disk and take their place only once they match their digest; blobs the
/// layout already has are not fetched again.
///
/// ```swift
/// let digest = try await ImagePuller().pull(
///     try ImageReference(parsing: "localhost:5000/base:12"),
///     into: LayoutReference(transport: .layout, path: "base", tag: "12"),
///     platform: Platform(architecture: "amd64", os: "linux"), plainHTTP: true, credentials: nil)
/// ```
public struct ImagePuller: Sendable {
    /// Where the pulled blobs are recorded, so that a push to another repository of the registry can mount them.
    public var locations: BlobLocationCache
    private let report: @Sendable (TransferEvent) -> Void

    public init(
        locations: BlobLocationCache = BlobLocationCache(file: nil),
        report: @escaping @Sendable (TransferEvent) -> Void = { _ in }
    ) {
        self.locations = locations
        self.report = report
    }

    /// This machine's platform, the default of `pull --platform`.
    public static var hostPlatform: Platform { PlatformSelection.host }

    static let manifestTypes = [
        MediaType.imageIndex, MediaType.imageManifest, MediaType.dockerManifestList, MediaType.dockerManifest,
    ]

    /// - Returns: the digest of the platform's manifest, as written to the layout.
    public func pull(
        _ reference: ImageReference,
        into output: LayoutReference,
        platform: Platform,
        plainHTTP: Bool,
        credentials: (credentials: RegistryCredentials, source: String)?
    ) async throws(RegistryError) -> SHA256Digest {
        let session = try RegistrySession(
            registry: reference.registry,
            apiHost: reference.apiHost,
            repository: reference.repository,
            plainHTTP: plainHTTP,
            credentials: credentials
        )
        var (mediaType, bytes) = try await fetchManifest(reference.reference, session: session, reference: reference)
        if let pinned = reference.digest, SHA256.hash(bytes) != pinned {
            throw RegistryError(
                .invalidContent,
                "the manifest does not match the digest asked for",
                context: "\(reference)"
            )
        }
        if mediaType == MediaType.imageIndex || mediaType == MediaType.dockerManifestList {
            let index = try decode(ImageIndex.self, bytes, reference: reference)
            let chosen = try PlatformSelection.choose(platform, from: index.manifests, reference: reference)
            (mediaType, bytes) = try await fetchManifest(chosen.digest, session: session, reference: reference)
            guard SHA256.hash(bytes).description == chosen.digest else {
                throw RegistryError(
                    .invalidContent,
                    "the manifest does not match its index entry",
                    context: "\(reference)"
                )
            }
        }
        guard mediaType == MediaType.imageManifest || mediaType == MediaType.dockerManifest else {
            throw RegistryError(.invalidContent, "unsupported manifest type \(mediaType)", context: "\(reference)")
        }
        let manifest = try decode(ImageManifest.self, bytes, reference: reference)
        let layout = ImageLayout(directory: output.path)
        var blobs = [Blob(bytes: bytes)]
        for descriptor in [manifest.config] + manifest.layers {
            blobs.append(try await fetchBlob(descriptor, into: layout, session: session, reference: reference))
        }
        let digest = blobs[0].digest
        var annotations = [AnnotationKey.containerdImageName: reference.description]
        annotations[AnnotationKey.refName] = output.tag ?? reference.tag
        let entry = Descriptor(
            mediaType: mediaType,
            digest: digest,
            size: blobs[0].size,
            platform: platform,
            annotations: annotations
        )
        do {
            try layout.add(blobs, entry: entry)
        } catch {
            throw RegistryError(.fileSystem, error.message, context: error.context ?? output.path)
        }
        return digest
    }

    private func fetchManifest(
        _ name: String,
        session: RegistrySession,
        reference: ImageReference
    ) async throws(RegistryError) -> (String, [UInt8]) {
        let response = try await session.send(
            method: "GET",
            target: "/v2/\(reference.repository)/manifests/\(name)",
            headers: ["Accept": Self.manifestTypes.joined(separator: ", ")]
        )
        guard response.status == 200 else {
            throw session.failure(response, doing: "fetching manifest \(name)", context: reference.description)
        }
        let contentType = response.header("Content-Type")?.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let declared = (try? JSONDecoder().decode(MediaTypeField.self, from: Data(response.body)))?.mediaType
        return (declared ?? contentType ?? MediaType.imageManifest, response.body)
    }

    /// A blob of the layout: the one there, or the registry's, following one redirect to where the registry
    /// stores it, written as it arrives and checked against its digest and size.
    private func fetchBlob(
        _ descriptor: Descriptor,
        into layout: ImageLayout,
        session: RegistrySession,
        reference: ImageReference
    ) async throws(RegistryError) -> Blob {
        // Blobs are content-addressed, and the layout's were checked against their digest when they arrived.
        if let present = try? layout.blob(descriptor) {
            report(.blob(present.digest, size: present.size, .present, .zero))
            return present
        }
        let start = ContinuousClock.now
        let receiver = try BlobReceiver(descriptor, layout: layout, reference: reference, report: report)
        let target = "/v2/\(reference.repository)/blobs/\(descriptor.digest)"
        var response = try await session.send(method: "GET", target: target, receiver: receiver)
        if [301, 302, 303, 307, 308].contains(response.status), let location = response.header("Location") {
            response = try await session.fetchRedirect(session.absolute(location), receiver: receiver)
        }
        guard response.status == 200 else {
            throw session.failure(response, doing: "fetching blob \(descriptor.digest)", context: reference.description)
        }
        let blob = try receiver.commit()
        locations.record(blob.digest, registry: reference.registry, repository: reference.repository)
        report(.blob(blob.digest, size: blob.size, .downloaded, ContinuousClock.now - start))
        return blob
    }

    private func decode<Value: Decodable>(
        _ type: Value.Type,
        _ bytes: [UInt8],
        reference: ImageReference
    ) throws(RegistryError) -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw RegistryError(
                .invalidContent,
                "the registry sent an unreadable \(Value.self): \(error)",
                context: "\(reference)"
            )
        }
    }

    private struct MediaTypeField: Decodable {
        var mediaType: String?
    }
}

/// Writes a blob's response body into the layout as it arrives, reporting how far it got.
///
/// Unchecked: as ``ResponseReceiver`` requires, the transfer's thread and the session take turns with it, never at
/// once, and the session's awaiting the transfer orders their accesses.
private final class BlobReceiver: ResponseReceiver, @unchecked Sendable {
    private let incoming: IncomingBlob
    private let reference: ImageReference
    private let report: @Sendable (TransferEvent) -> Void
    private(set) var failure: RegistryError?

    var expectedSize: Int64 { incoming.descriptor.size }

    init(
        _ descriptor: Descriptor,
        layout: ImageLayout,
        reference: ImageReference,
        report: @escaping @Sendable (TransferEvent) -> Void
    ) throws(RegistryError) {
        self.reference = reference
        self.report = report
        do {
            incoming = try layout.receive(descriptor)
        } catch {
            throw RegistryError(.fileSystem, error.message, context: error.context ?? layout.directory)
        }
    }

    func restart() {
        do {
            try incoming.restart()
            failure = nil
        } catch {
            failure = translated(error)
        }
    }

    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard failure == nil else { return false }
        do {
            try incoming.append(bytes)
            report(.progress(incoming.digest, done: incoming.received, size: incoming.descriptor.size))
            return true
        } catch {
            failure = translated(error)
            return false
        }
    }

    func commit() throws(RegistryError) -> Blob {
        if let failure { throw failure }
        do {
            return try incoming.commit()
        } catch {
            throw translated(error)
        }
    }

    private func translated(_ error: ImageError) -> RegistryError {
        guard error.code == .corruptContent else {
            return RegistryError(.fileSystem, error.message, context: error.context)
        }
        return RegistryError(.invalidContent, error.message, context: reference.description)
    }
}

/// Which manifest of a multi-platform index serves a platform.
enum PlatformSelection {
    static func choose(
        _ platform: Platform,
        from entries: [Descriptor],
        reference: ImageReference
    ) throws(RegistryError) -> Descriptor {
        let matching = entries.filter {
            $0.platform?.os == platform.os && $0.platform?.architecture == platform.architecture
        }
        let exact = matching.first { platform.variant == nil || $0.platform?.variant == platform.variant }
        guard let chosen = exact ?? matching.first else {
            let available = entries.compactMap { $0.platform.map { "\($0.os)/\($0.architecture)" } }
            throw RegistryError(
                .notFound,
                "the image has no \(platform.os)/\(platform.architecture) variant; it has "
                    + (available.isEmpty ? "no platform entries" : available.joined(separator: ", "))
                    + "; choose one of them",
                context: reference.description,
                remedy: .choosePlatform
            )
        }
        return chosen
    }

    /// This machine's platform, in OCI's naming.
    static var host: Platform {
        #if arch(arm64)
        Platform(architecture: "arm64", os: "linux")
        #else
        Platform(architecture: "amd64", os: "linux")
        #endif
    }
}
