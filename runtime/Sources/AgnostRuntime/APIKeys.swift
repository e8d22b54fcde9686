import AgnostDigest
import HTTPTypes

/// Checks the API key of a request against the SHA-256 hashes in `AGNOST_API_KEYS`.
///
/// Only hashes are configured, so the process never holds the keys themselves. The presented key is hashed and
/// compared against every stored hash in constant time, so neither the timing nor the number of comparisons
/// tells an attacker how close a guess was.
struct APIKeyVerifier: Sendable {
    let hashes: [SHA256Digest]

    /// `Authorization: Bearer KEY`, then `x-api-key: KEY`, then `?apikey=KEY`.
    func accepts(headers: HTTPFields, query: Query) -> Bool {
        guard let key = Self.presentedKey(headers: headers, query: query), !key.isEmpty else { return false }
        let digest = SHA256.hash(key.utf8)
        var matched = false
        for hash in hashes {
            matched = hash.constantTimeEquals(digest) || matched
        }
        return matched
    }

    /// The credential of `Authorization: Bearer T`, the scheme name in any case.
    static func bearerToken(in headers: HTTPFields) -> String? {
        guard let authorization = headers[.authorization] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        return parts.count == 2 && parts[0].lowercased() == "bearer" ? String(parts[1]) : nil
    }

    private static func presentedKey(headers: HTTPFields, query: Query) -> String? {
        if let bearer = bearerToken(in: headers) {
            return bearer
        }
        if let key = headers[.apiKey] {
            return key
        }
        return query["apikey"]
    }
}
