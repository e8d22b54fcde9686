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
