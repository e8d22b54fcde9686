internal import AgnostDigest
import Foundation

extension Platform {
    /// The prefix of platform tokens, so that a leaked one is recognisable (by secret scanners too).
    static let tokenPrefix = "agp_"

    /// Creates the first admin token when the platform has none, and returns it: the only time it is shown. Nil when
    /// tokens exist already.
    public func bootstrapAdminToken() async throws(PlatformError) -> String? {
        let existing = try await stored { () async throws(StoreError) in
            try await store.list(.accessToken, scope: "", after: nil, limit: 1)
        }
        guard existing.records.isEmpty else { return nil }
        return try await createToken(name: "admin", role: .admin, apps: nil).token
    }

    /// Creates a token with `role`, limited to `apps` when given, and returns it: the only time it is shown, as
    /// only its SHA-256 is kept.
    public func createToken(
        name: String,
        role: Role,
        apps: [String]?
    ) async throws(PlatformError) -> (token: String, record: Revisioned<AccessToken>) {
        try Self.checkName(name, of: "token")
        for app in apps ?? [] { _ = try await self.app(app) }
        // The id finds the record; the secret, compared as a digest, proves the bearer has the token.
        let id = String(try Self.randomToken(for: name).filter { $0.isLetter || $0.isNumber }.prefix(16))
        let token = Self.tokenPrefix + id + "_" + (try Self.randomToken(for: name))
        let record = AccessToken(
            id: id,
            name: name,
            role: role,
            apps: apps.map { Array(Set($0)).sorted() },
            hash: SHA256.hash(token.utf8).hexString,
            createdAt: now()
        )
        return (token, try await stored { () async throws(StoreError) in try await store.create(record) })
    }

    /// The caller that `bearer`, the token of an `Authorization: Bearer` header, stands for.
    ///
    /// - Throws: ``PlatformError`` with `unauthorized` when it is missing or not a token of this platform; the
    ///   message never repeats it.
    public func authenticate(bearer: String?) async throws(PlatformError) -> Caller {
        guard let bearer, !bearer.isEmpty else {
            throw PlatformError(
                .unauthorized,
                "this request needs a platform token as 'Authorization: Bearer agp_…'",
                context: "authorization"
            )
        }
        let refused = PlatformError(
            .unauthorized,
            "the bearer token is not a token of this platform (revoked, or from another one)",
            context: "authorization"
        )
        let parts = bearer.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard bearer.hasPrefix(Self.tokenPrefix), parts.count == 3, !parts[1].isEmpty else { throw refused }
        let id = String(parts[1])
        let digest = SHA256.hash(bearer.utf8)
        if let caller = verifiedTokens.caller(id: id, digest: digest) { return caller }
        let record = try await stored { () async throws(StoreError) in
            try await store.fetch(AccessToken.self, name: id)
        }
        // Compared as digests, in constant time, so neither the length nor the first difference shows in the timing.
        guard let record, let stored = SHA256Digest(hex: record.value.hash), digest.constantTimeEquals(stored) else {
            throw refused
        }
        let caller = Caller(name: record.value.name, role: record.value.role, apps: record.value.apps)
        verifiedTokens.remember(id: id, digest: digest, as: caller)
        return caller
    }
}
