internal import AgnostDigest
import Foundation

extension Platform {
    /// The prefix of platform tokens, so that a leaked one is recognisable (by secret scanners too).
    static let tokenPrefix = "agp_"

    /// A fresh platform token, `agp_<id>_<secret>`: 16 letters and digits by which its record is found, and 32
    /// random bytes in base64url. Nothing is stored; ``bootstrapAdminToken(_:)`` takes one made here ahead of the
    /// first start, so that the operator keeps it and no log ever shows it.
    ///
    /// ```swift
    /// let token = try Platform.newToken()          // agp_3kQ9…_Xr2…
    /// #expect(Platform.isWellFormedToken(token))
    /// ```
    public static func newToken() throws(PlatformError) -> String {
        // The id finds the record; the secret, compared as a digest, proves the bearer has the token.
        var id = ""
        while id.count < idLength {
            id += try randomToken(for: "token").filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
        }
        return tokenPrefix + String(id.prefix(idLength)) + "_" + (try randomToken(for: "token"))
    }

    /// Whether `token` has the form ``newToken()`` gives: `agp_`, 16 ASCII letters and digits, `_`, and 43
    /// base64url characters (32 bytes), so that a token an operator brings is as hard to guess as one made here.
    ///
    /// ```swift
    /// Platform.isWellFormedToken("agp_0123456789abcdef_" + String(repeating: "x", count: 43))   // true
    /// Platform.isWellFormedToken("agp_admin_hunter2")                                            // false
    /// ```
    public static func isWellFormedToken(_ token: String) -> Bool {
        let bytes = Array(token.utf8)
        let prefix = Array(tokenPrefix.utf8)
        let secretStart = prefix.count + idLength + 1
        guard bytes.count == secretStart + 43, bytes.starts(with: prefix), bytes[secretStart - 1] == UInt8(ascii: "_")
        else { return false }
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        return bytes[prefix.count..<secretStart - 1].allSatisfy(isAlphanumeric)
            && bytes[secretStart...].allSatisfy {
                isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
            }
    }

    /// The length of a token's id, the part between `agp_` and the secret.
    static let idLength = 16

    /// Creates the first admin token when the platform has none, and returns it: the only time it is shown. Nil when
    /// tokens exist already.
    ///
    /// ```swift
    /// if let token = try await platform.bootstrapAdminToken() { print(token) }   // first start only
    /// ```
    public func bootstrapAdminToken() async throws(PlatformError) -> String? {
        guard try await !hasTokens() else { return nil }
        return try await createToken(name: "admin", role: .admin, apps: nil).token
    }

    /// Keeps `token`, one made ahead with ``newToken()``, as the first admin token when the platform has none, so that
    /// the platform need not show one. Only its SHA-256 is stored.
    ///
    /// ```swift
    /// let stored = try await platform.bootstrapAdminToken(token)   // false: tokens existed, `token` is not kept
    /// ```
    ///
    /// - Returns: false when tokens exist already (kept by another replica starting with the same token too); `token`
    ///   is then not kept.
    /// - Throws: ``PlatformError`` with `invalidInput` when `token` is not of the form ``isWellFormedToken(_:)``
    ///   checks; the message never repeats it.
    public func bootstrapAdminToken(_ token: String) async throws(PlatformError) -> Bool {
        guard Self.isWellFormedToken(token) else {
            throw PlatformError(
                .invalidInput,
                "the admin token given is not a platform token: agp_, 16 letters and digits, _, and 43 base64url "
                    + "characters; make one with Platform.newToken()",
                context: "token"
            )
        }
        guard try await !hasTokens() else { return false }
        do throws(PlatformError) {
            _ = try await storeToken(token, name: "admin", role: .admin, apps: nil)
        } catch  where error.code == .conflict {
            // Another replica on the same store, started with the same token, kept it first.
            return false
        }
        return true
    }

    private func hasTokens() async throws(PlatformError) -> Bool {
        let existing = try await stored { () async throws(StoreError) in
            try await store.list(.accessToken, scope: "", after: nil, limit: 1)
        }
        return !existing.records.isEmpty
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
        let token = try Self.newToken()
        return (token, try await storeToken(token, name: name, role: role, apps: apps))
    }

    /// Stores the record of `token`, a well-formed one: its id, and the digest of the whole.
    private func storeToken(
        _ token: String,
        name: String,
        role: Role,
        apps: [String]?
    ) async throws(PlatformError) -> Revisioned<AccessToken> {
        let record = AccessToken(
            id: String(token.dropFirst(Self.tokenPrefix.count).prefix(Self.idLength)),
            name: name,
            role: role,
            apps: apps.map { Array(Set($0)).sorted() },
            hash: SHA256.hash(token.utf8).hexString,
            createdAt: now()
        )
        return try await stored { () async throws(StoreError) in try await store.create(record) }
    }

    /// Revokes the token whose id is `id`: from the next request on it opens nothing (on other replicas of the same
    /// store, within the 2 s that they remember a verified token, ``VerifiedTokens``). Its record stays, with the
    /// time, so that the list keeps who had access; revoking a revoked token changes nothing.
    ///
    /// ```swift
    /// try await platform.revokeToken(id: created.record.value.id)
    /// ```
    ///
    /// - Throws: ``PlatformError`` with `notFound` when no token has that id, and `conflict` when it is the last
    ///   unrevoked admin token for every app, without which nobody could make tokens again.
    public func revokeToken(id: String) async throws(PlatformError) {
        let bytes = Array(id.utf8)
        // An id of another form names no token, and may be a whole token pasted by mistake: not repeated.
        guard (1...Self.idLength).contains(bytes.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else {
            throw PlatformError(
                .notFound,
                "no token has that id; a token's id is the 16 letters and digits after agp_",
                context: "token"
            )
        }
        let what = "token '\(id)'"
        let current = try await existing(AccessToken.self, name: id, what: what)
        guard current.value.revokedAt == nil else { return }
        if current.value.isUnrevokedAdminForEveryApp {
            var others = 0
            try await eachPage(AccessToken.self, scope: "") { page in
                others += page.filter { $0.id != id && $0.isUnrevokedAdminForEveryApp }.count
            }
            guard others > 0 else {
                throw PlatformError(
                    .conflict,
                    "token '\(id)' (\(current.value.name)) is the last admin token for every app, and without one "
                        + "nobody could make tokens again; create another admin token for every app first",
                    context: id
                )
            }
        }
        let time = now()
        _ = try await modify(AccessToken.self, name: id, what: what, from: current) { token throws(PlatformError) in
            guard token.revokedAt == nil else { return false }
            token.revokedAt = time
            return true
        }
        verifiedTokens.forget(id: id)
    }

    /// The caller that `bearer`, the token of an `Authorization: Bearer` header, stands for.
    ///
    /// - Throws: ``PlatformError`` with `unauthorized` when it is missing, not a token of this platform, or revoked;
    ///   the message never repeats it.
    public func authenticate(bearer: String?) async throws(PlatformError) -> Caller {
        guard let bearer, !bearer.isEmpty else {
            throw PlatformError(
                .unauthorized,
                "this request needs a platform token as 'Authorization: Bearer agp_…'",
                context: "authorization"
            )
        }
        // One answer for unknown and revoked tokens: whether a token ever existed is no business of its bearer.
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
        guard let record, let stored = SHA256Digest(hex: record.value.hash), digest.constantTimeEquals(stored),
            record.value.revokedAt == nil
        else { throw refused }
        let caller = Caller(name: record.value.name, role: record.value.role, apps: record.value.apps)
        verifiedTokens.remember(id: id, digest: digest, as: caller)
        return caller
    }
}
