/// HMAC-SHA256 (RFC 2104).
///
/// The version's internal token derives the narrower tokens each event sender carries, so that a token seen by
/// one sender cannot act as another.
///
/// ```swift
/// let tag = HMACSHA256.authenticate(Array("message".utf8), key: Array("key".utf8))
/// tag.hexString  // "6e9ef29b…"
/// ```
public enum HMACSHA256 {
    public static func authenticate(_ message: some Sequence<UInt8>, key: [UInt8]) -> SHA256Digest {
        var block = key.count > 64 ? SHA256.hash(key).bytes : key
        block += repeatElement(0, count: 64 - block.count)
        var inner = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        inner.update(message)
        var outer = SHA256()
        outer.update(block.map { $0 ^ 0x5c })
        outer.update(inner.finalize().bytes)
        return outer.finalize()
    }
}
