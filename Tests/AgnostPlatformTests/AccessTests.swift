import AgnostPlatform
import Foundation
import Testing

@Suite struct AccessTests {
    func withPlatform(_ body: (Platform, any PlatformStore) async throws -> Void) async throws {
        try await StoreUnderTest.sqlite.withStore { store in
            try await body(Platform(store: store, sealer: try SecretSealer(key: Array(repeating: 3, count: 32))), store)
        }
    }

    func refusal(_ operation: () async throws(PlatformError) -> Void) async -> PlatformError? {
        do throws(PlatformError) {
            try await operation()
            return nil
        } catch {
            return error
        }
    }

    @Test func theFirstStartMakesOneAdminTokenAndLaterStartsNone() async throws {
        try await withPlatform { platform, store in
            let token = try #require(try await platform.bootstrapAdminToken())
            #expect(token.hasPrefix("agp_"))
            #expect(try await platform.bootstrapAdminToken() == nil)
            #expect(try await platform.authenticate(bearer: token) == Caller(name: "admin", role: .admin, apps: nil))
            let stored = try await store.list(.accessToken, scope: "", after: nil, limit: 10)
            #expect(stored.records.count == 1)
            let secret = String(token.split(separator: "_", maxSplits: 2)[2])
            #expect(!stored.records.contains { String(decoding: $0.body, as: UTF8.self).contains(secret) })
        }
    }

    @Test func aTokenIsKnownOnlyWhole() async throws {
        try await withPlatform { platform, _ in
            _ = try await platform.createApp(name: "todo", description: "")
            let (token, _) = try await platform.createToken(name: "ci", role: .deployer, apps: ["todo"])
            #expect(
                try await platform.authenticate(bearer: token) == Caller(name: "ci", role: .deployer, apps: ["todo"])
            )
            var altered = Array(token)
            altered[altered.count - 1] = altered.last == "A" ? "B" : "A"
            let wrong = [nil, "", "agp_", "Bearer \(token)", String(token.dropLast()), String(altered), token + "x"]
            for bearer in wrong {
                let refused = await refusal { () async throws(PlatformError) in
                    _ = try await platform.authenticate(bearer: bearer)
                }
                #expect(refused?.code == .unauthorized, "\(bearer ?? "nil")")
                #expect(refused?.message.contains(token) == false)
            }
            let noSuchApp = await refusal { () async throws(PlatformError) in
                _ = try await platform.createToken(name: "x", role: .viewer, apps: ["shop"])
            }
            #expect(noSuchApp?.code == .notFound)
        }
    }

    @Test(arguments: [
        (Role.viewer, Role.viewer, true), (.viewer, .deployer, false), (.viewer, .admin, false),
        (.deployer, .viewer, true), (.deployer, .deployer, true), (.deployer, .admin, false),
        (.admin, .viewer, true), (.admin, .deployer, true), (.admin, .admin, true),
    ])
    func aRoleAllowsWhatItAndTheRolesBelowItMay(_ held: Role, _ needed: Role, _ allowed: Bool) {
        let caller = Caller(name: "t", role: held, apps: nil)
        #expect(((try? caller.require(needed, for: "todo", to: "deploy")) != nil) == allowed)
        if !allowed {
            #expect(throws: PlatformError.self) { try caller.require(needed, for: "todo", to: "deploy") }
        }
    }

    @Test func aTokenLimitedToAnAppReachesNoOtherAndSaysSo() throws {
        let caller = Caller(name: "ci", role: .admin, apps: ["todo"])
        try caller.require(.admin, for: "todo", to: "deploy")
        #expect(caller.mayReach("todo") && !caller.mayReach("shop"))
        do {
            try caller.require(.viewer, for: "shop", to: "list versions")
            Issue.record("a token for todo reached shop")
        } catch {
            #expect(error.code == .forbidden)
            #expect(error.message.contains("'todo'") && error.message.contains("'shop'"), "\(error.message)")
        }
        do {
            try caller.requireEveryApp(.viewer, to: "list shared resources")
            Issue.record("a token for todo reached platform-wide records")
        } catch {
            #expect(error.code == .forbidden)
        }
        let viewer = Caller(name: "ro", role: .viewer, apps: nil)
        do {
            try viewer.require(.deployer, for: "todo", to: "create keys")
            Issue.record("a viewer created keys")
        } catch {
            #expect(error.message.contains("viewer") && error.message.contains("deployer or admin"), "\(error.message)")
        }
    }
}

/// Tokens made ahead of the first start, and revoked ones.
extension AccessTests {
    @Test func aNewTokenHasThePlatformsFormAndNoTwoAreAlike() throws {
        let tokens = try (0..<50).map { _ in try Platform.newToken() }
        #expect(Set(tokens).count == tokens.count)
        for token in tokens {
            #expect(token.wholeMatch(of: /agp_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}/) != nil, "\(token)")
            #expect(Platform.isWellFormedToken(token))
        }
        let token = tokens[0]
        let id = String(token.dropFirst(4).prefix(16))
        let secret = String(token.dropFirst(21))
        let malformed = [
            "", "agp_", token + "x", String(token.dropLast()), " " + token, "agq_" + token.dropFirst(4),
            "agp_\(id.dropLast())_\(secret)x", "agp_\(id)-\(secret)", "agp_\(id.dropLast())é_\(secret)",
            "agp_\(id)_\(secret.dropLast())=", "agp_\(id)_\(secret.dropLast()) ", "agp_admin_hunter2",
        ]
        for candidate in malformed {
            #expect(!Platform.isWellFormedToken(candidate), "\(candidate)")
        }
    }

    @Test func aTokenMadeAheadBecomesTheFirstAdminTokenAndOnlyTheFirst() async throws {
        try await withPlatform { platform, store in
            let token = try Platform.newToken()
            #expect(try await platform.bootstrapAdminToken(token))
            #expect(try await platform.authenticate(bearer: token) == Caller(name: "admin", role: .admin, apps: nil))
            let stored = try await store.list(.accessToken, scope: "", after: nil, limit: 10)
            #expect(stored.records.count == 1)
            let secret = String(token.split(separator: "_", maxSplits: 2)[2])
            #expect(!stored.records.contains { String(decoding: $0.body, as: UTF8.self).contains(secret) })

            // Tokens exist now: another one given is not kept, and no token is made.
            let later = try Platform.newToken()
            #expect(try await platform.bootstrapAdminToken(later) == false)
            #expect(try await platform.bootstrapAdminToken() == nil)
            let refused = await refusal { () async throws(PlatformError) in
                _ = try await platform.authenticate(bearer: later)
            }
            #expect(refused?.code == .unauthorized)
            #expect(try await store.list(.accessToken, scope: "", after: nil, limit: 10).records.count == 1)
        }
    }

    /// Replicas on one store start with the same token: one keeps it, the others find it kept, and none fails.
    @Test func replicasStartingWithTheSameTokenKeepItOnce() async throws {
        try await withPlatform { platform, store in
            let token = try Platform.newToken()
            async let first = platform.bootstrapAdminToken(token)
            async let second = platform.bootstrapAdminToken(token)
            async let third = platform.bootstrapAdminToken(token)
            let kept = try await [first, second, third]
            #expect(kept.filter { $0 }.count == 1, "\(kept)")
            #expect(try await store.list(.accessToken, scope: "", after: nil, limit: 10).records.count == 1)
            #expect(try await platform.authenticate(bearer: token).role == .admin)
        }
    }

    @Test func aMalformedTokenGivenAheadIsRefusedWithoutBeingRepeated() async throws {
        try await withPlatform { platform, store in
            for given in ["agp_admin_hunter2-hunter2", "", "hunter2-hunter2-hunter2"] {
                let refused = await refusal { () async throws(PlatformError) in
                    _ = try await platform.bootstrapAdminToken(given)
                }
                #expect(refused?.code == .invalidInput, "\(given)")
                #expect(refused?.message.contains("hunter2") == false)
            }
            let kept = try await store.list(.accessToken, scope: "", after: nil, limit: 10)
            #expect(kept.records.isEmpty)
        }
    }

    @Test func aRevokedTokenIsRefusedAsAnUnknownOneAndItsRecordStays() async throws {
        try await withPlatform { platform, store in
            let admin = try #require(try await platform.bootstrapAdminToken())
            let (ci, created) = try await platform.createToken(name: "ci", role: .deployer, apps: nil)
            try await platform.revokeToken(id: created.value.id)
            let revoked = await refusal { () async throws(PlatformError) in
                _ = try await platform.authenticate(bearer: ci)
            }
            let unknown = await refusal { () async throws(PlatformError) in
                _ = try await platform.authenticate(bearer: try Platform.newToken())
            }
            #expect(revoked?.code == .unauthorized)
            #expect(revoked?.message == unknown?.message)
            #expect(revoked?.message.contains(ci) == false)

            let record = try #require(try await store.fetch(AccessToken.self, name: created.value.id))
            let revokedAt = try #require(record.value.revokedAt)
            #expect(record.value.name == "ci" && record.value.hash == created.value.hash)
            // Again: nothing changes, not even the time.
            try await platform.revokeToken(id: created.value.id)
            let again = try #require(try await store.fetch(AccessToken.self, name: created.value.id))
            #expect(again.value.revokedAt == revokedAt && again.revision == record.revision)
            #expect(try await platform.authenticate(bearer: admin).role == .admin)
        }
    }

    @Test func theLastAdminTokenForEveryAppCannotBeRevoked() async throws {
        try await withPlatform { platform, _ in
            let first = try #require(try await platform.bootstrapAdminToken())
            let firstID = String(first.split(separator: "_")[1])
            _ = try await platform.createApp(name: "todo", description: "")
            // Neither a token for some apps nor a lesser role can make tokens for everyone: they do not count.
            _ = try await platform.createToken(name: "todo-admin", role: .admin, apps: ["todo"])
            _ = try await platform.createToken(name: "ci", role: .deployer, apps: nil)
            let last = await refusal { () async throws(PlatformError) in
                try await platform.revokeToken(id: firstID)
            }
            #expect(last?.code == .conflict)
            #expect(last?.message.contains("create another admin token") == true, "\(last?.message ?? "")")
            #expect(try await platform.authenticate(bearer: first).role == .admin)

            let (second, record) = try await platform.createToken(name: "backup", role: .admin, apps: nil)
            try await platform.revokeToken(id: firstID)
            let refusedFirst = await refusal { () async throws(PlatformError) in
                _ = try await platform.authenticate(bearer: first)
            }
            #expect(refusedFirst?.code == .unauthorized)
            // A revoked admin token is no longer one to fall back on: the backup is now the last.
            let backup = await refusal { () async throws(PlatformError) in
                try await platform.revokeToken(id: record.value.id)
            }
            #expect(backup?.code == .conflict)
            #expect(try await platform.authenticate(bearer: second).role == .admin)
        }
    }

    @Test func revokingATokenThatIsNotThereSaysSoWithoutRepeatingAWholeToken() async throws {
        try await withPlatform { platform, _ in
            _ = try #require(try await platform.bootstrapAdminToken())
            let missing = await refusal { () async throws(PlatformError) in
                try await platform.revokeToken(id: "0123456789abcdef")
            }
            #expect(missing?.code == .notFound)
            #expect(missing?.message.contains("0123456789abcdef") == true)
            let pasted = try Platform.newToken()
            for id in [pasted, "", "../admin", "ab_cd"] {
                let refused = await refusal { () async throws(PlatformError) in
                    try await platform.revokeToken(id: id)
                }
                #expect(refused?.code == .notFound, "\(id)")
                #expect(refused?.message.contains(pasted) == false)
            }
        }
    }
}
