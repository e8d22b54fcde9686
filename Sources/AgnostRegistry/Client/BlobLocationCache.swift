import AgnostDigest
import Foundation
import Synchronization

/// Which repositories of which registries are known to hold a blob: learnt from every push and pull, so that a
/// later push of the same blob to another repository of that registry mounts it instead of uploading it, as skopeo's
/// blob-info cache does.
///
/// The cache is a hint. A repository may have lost the blob since, and then the registry answers the mount with an
/// ordinary upload; a cache that cannot be read starts empty, and one that cannot be written is only a slower push.
///
/// ```swift
/// let cache = BlobLocationCache(file: BlobLocationCache.defaultPath(environment: ProcessInfo.processInfo.environment))
/// cache.record(digest, registry: "registry.example.com", repository: "team/base")
/// cache.repositories(holding: digest, registry: "registry.example.com")   // ["team/base"]
/// try cache.save()
/// ```
public final class BlobLocationCache: Sendable {
    /// Where the cache is kept, or nil for one in memory only.
    public let file: String?
    private let state: Mutex<Contents>

    /// Repositories remembered per blob and registry; the oldest go first.
    static let repositoriesPerBlob = 4
    /// Blobs remembered in all; the least recently seen go first.
    static let blobLimit = 20_000

    private struct Contents: Codable {
        struct Entry: Codable {
            /// `registry` → repositories, most recent last.
            var locations: [String: [String]]
            /// When the blob was last recorded, in seconds since 1970, for trimming.
            var seen: Int64
        }
        var version = 1
        var blobs: [String: Entry] = [:]
    }

    /// Loads the cache from `file`; a missing or unreadable file gives an empty cache.
    public init(file: String?) {
        self.file = file
        let loaded = file.flatMap { try? Data(contentsOf: URL(fileURLWithPath: $0)) }
            .flatMap { try? JSONDecoder().decode(Contents.self, from: $0) }
        state = Mutex(loaded?.version == 1 ? loaded! : Contents())
    }

    /// `$XDG_CACHE_HOME/agnost-fn/blob-locations.json`, else under `~/.cache`; nil when neither is known.
    public static func defaultPath(environment: [String: String]) -> String? {
        if let cache = environment["XDG_CACHE_HOME"], cache.hasPrefix("/") {
            return "\(cache)/agnost-fn/blob-locations.json"
        }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return "\(home)/.cache/agnost-fn/blob-locations.json"
    }

    /// The repositories of `registry` known to hold the blob, most recently seen first.
    public func repositories(holding digest: SHA256Digest, registry: String) -> [String] {
        state.withLock { $0.blobs[digest.description]?.locations[registry]?.reversed() ?? [] }
    }

    /// Notes that `repository` of `registry` holds the blob.
    public func record(_ digest: SHA256Digest, registry: String, repository: String, at now: Date = Date()) {
        state.withLock { contents in
            var entry = contents.blobs[digest.description] ?? Contents.Entry(locations: [:], seen: 0)
            var repositories = entry.locations[registry, default: []].filter { $0 != repository }
            repositories.append(repository)
            entry.locations[registry] = Array(repositories.suffix(Self.repositoriesPerBlob))
            entry.seen = Int64(now.timeIntervalSince1970)
            contents.blobs[digest.description] = entry
        }
    }

    /// Writes the cache to its file through a temporary one, keeping the most recently seen blobs.
    public func save() throws(RegistryError) {
        guard let file else { return }
        let bytes: Data
        do {
            bytes = try state.withLock { contents in
                if contents.blobs.count > Self.blobLimit {
                    let kept = contents.blobs.sorted { $0.value.seen > $1.value.seen }.prefix(Self.blobLimit)
                    contents.blobs = Dictionary(uniqueKeysWithValues: Array(kept))
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                return try encoder.encode(contents)
            }
            let folder = (file as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try bytes.write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            throw RegistryError(.fileSystem, "cannot write the blob location cache: \(error)", context: file)
        }
    }
}
