import AgnostDigest
import Synchronization
import Testing

@testable import AgnostPlatform

@Suite struct VerifiedTokensTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        private let instant = Mutex(ContinuousClock.now)
        var now: ContinuousClock.Instant { instant.withLock { $0 } }
        func advance(by duration: Duration) { instant.withLock { $0 += duration } }
    }

    let caller = Caller(name: "ci", role: .deployer, apps: ["todo"])
    let digest = SHA256.hash("agp_id_secret".utf8)

    @Test func aVerifiedTokenIsKnownUntilItsLifetimeEnds() {
        let clock = ManualClock()
        let verified = VerifiedTokens(clock: { clock.now })
        #expect(verified.caller(id: "id", digest: digest) == nil, "nothing verified yet")
        verified.remember(id: "id", digest: digest, as: caller)
        clock.advance(by: VerifiedTokens.lifetime - .milliseconds(1))
        #expect(verified.caller(id: "id", digest: digest) == caller)
        clock.advance(by: .milliseconds(1))
        #expect(verified.caller(id: "id", digest: digest) == nil, "read from the store again after the lifetime")
    }

    @Test func anotherSecretWithTheSameIDIsNotTheVerifiedToken() {
        let verified = VerifiedTokens()
        verified.remember(id: "id", digest: digest, as: caller)
        #expect(verified.caller(id: "id", digest: SHA256.hash("agp_id_guess".utf8)) == nil)
        #expect(verified.caller(id: "other", digest: digest) == nil)
    }

    @Test func aForgottenTokenIsReadAgain() {
        let verified = VerifiedTokens()
        verified.remember(id: "id", digest: digest, as: caller)
        verified.forget(id: "id")
        #expect(verified.caller(id: "id", digest: digest) == nil)
    }
}
