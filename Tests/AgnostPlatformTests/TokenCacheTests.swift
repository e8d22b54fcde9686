import Foundation
import Testing

@testable import AgnostPlatform

/// Token records are kept for a few seconds at most, and the cache never grows past its capacity.
@Suite struct TokenCacheTests {
    func token(_ id: String) -> AccessToken {
        AccessToken(
            id: id,
            name: id,
            role: .viewer,
            apps: nil,
            hash: String(repeating: "0", count: 64),
            createdAt: Date()
        )
    }

    @Test func aRecordIsKeptForItsLifetimeOnly() {
        let cache = TokenCache()
        let start = ContinuousClock.now
        cache.keep(token("a"), at: start)
        #expect(cache.record("a", at: start + .seconds(4))?.id == "a")
        #expect(cache.record("a", at: start + TokenCache.lifetime) == nil)
        #expect(cache.record("b", at: start) == nil)
    }

    @Test func pastItsCapacityTheCacheStartsOver() {
        let cache = TokenCache()
        let now = ContinuousClock.now
        for index in 0..<TokenCache.capacity { cache.keep(token("t\(index)"), at: now) }
        #expect(cache.record("t0", at: now) != nil)
        cache.keep(token("last"), at: now)
        #expect(cache.record("t0", at: now) == nil)
        #expect(cache.record("last", at: now) != nil)
    }
}
