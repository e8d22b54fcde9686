internal import AgnostDigest
import Synchronization

/// The tokens verified in the last moments, so that a client's stream of requests reads its token's record once
/// per ``lifetime`` instead of once per request: that read was a store round trip on every call of the API.
///
/// A token revoked through this platform is forgotten at once; one revoked through another replica on the same
/// store is refused once its entry here is older than ``lifetime`` (Kubernetes caches webhook token reviews for the
/// same reason, for minutes).
///
/// ```swift
/// let verified = VerifiedTokens()
/// verified.remember(id: "3fa9…", digest: digest, as: caller)
/// let caller = verified.caller(id: "3fa9…", digest: digest)   // the caller, for the next 2 s
/// ```
final class VerifiedTokens: Sendable {
    static let lifetime = Duration.seconds(2)
    /// Enough for every token of a platform; past it, the cache starts again rather than grow with guesses.
    private static let capacity = 1024

    private struct Entry {
        var digest: SHA256Digest
        var caller: Caller
        var verifiedAt: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let clock: @Sendable () -> ContinuousClock.Instant

    init(clock: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.clock = clock
    }

    /// The caller of token `id` when the bearer's `digest` is the one verified, less than ``lifetime`` ago.
    func caller(id: String, digest: SHA256Digest) -> Caller? {
        let now = clock()
        let entry = entries.withLock { entries -> Entry? in
            guard let entry = entries[id] else { return nil }
            guard now - entry.verifiedAt < Self.lifetime else {
                entries[id] = nil
                return nil
            }
            return entry
        }
        // In constant time, as against the stored hash: the entry's id is public, its digest is not.
        guard let entry, digest.constantTimeEquals(entry.digest) else { return nil }
        return entry.caller
    }

    func remember(id: String, digest: SHA256Digest, as caller: Caller) {
        let entry = Entry(digest: digest, caller: caller, verifiedAt: clock())
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[id] = entry
        }
    }

    /// Drops token `id`, revoked: its next request reads the store again.
    func forget(id: String) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }
}
