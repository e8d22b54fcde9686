import AgnostDigest
import AgnostPlatform
import AgnostSpec
import Foundation
import Testing

/// The control plane's operations on the embedded store: their checks, and what they keep.
@Suite struct PlatformTests {
    static let spec = """
        app: todo
        version: v1
        endpoints:
          - name: listTodos
            method: GET
            path: /todos
            handler: listTodos
        resources:
          - name: maindb
            type: postgres
          - name: cache
            type: redis

        """

    func withPlatform(_ body: (Platform) async throws -> Void) async throws {
        try await StoreUnderTest.sqlite.withStore { store in
            try await body(Platform(store: store, sealer: try SecretSealer(key: Array(repeating: 7, count: 32))))
        }
    }

    func failure(_ operation: () async throws(PlatformError) -> Void) async -> PlatformError? {
        do throws(PlatformError) {
            try await operation()
            return nil
        } catch {
            return error
        }
    }

    @Test func anAppIsCreatedOnceUpdatedFromItsRevisionAndNamedAsKubernetesAllows() async throws {
        try await withPlatform { platform in
            let created = try await platform.createApp(name: "todo", description: "Todos")
            #expect(created.revision == 1)
            let duplicate = await failure { () async throws(PlatformError) in
                _ = try await platform.createApp(name: "todo", description: "again")
            }
            #expect(duplicate?.code == .conflict)
            let updated = try await platform.updateApp("todo", description: "All todos", ifRevision: 1)
            #expect(updated.revision == 2 && updated.value.description == "All todos")
            let stale = await failure { () async throws(PlatformError) in
                _ = try await platform.updateApp("todo", description: "late", ifRevision: 1)
            }
            #expect(stale?.code == .revisionConflict)
            #expect(try await platform.app("todo").value.description == "All todos")
            for bad in ["", "Todo", "-todo", "todo-", "to do", String(repeating: "a", count: 41)] {
                let refused = await failure { () async throws(PlatformError) in
                    _ = try await platform.createApp(name: bad, description: "")
                }
                #expect(refused?.code == .invalidInput, "\(bad)")
            }
        }
    }

    @Test func aVersionIsCheckedOnUploadAndABadOneListsEveryDiagnosticByLine() async throws {
        try await withPlatform { platform in
            _ = try await platform.createApp(name: "todo", description: "")
            let version = try await platform.uploadVersion(app: "todo", spec: Self.spec)
            #expect(version.value.name == "v1" && version.value.state == .uploaded)
            #expect(version.value.spec == Self.spec)
            #expect(version.value.specDigest.hasPrefix("sha256:") && version.value.specDigest.count == 71)
            let bad = "app: todo\nversion: v2\nendpoints:\n  - name: x\n    method: FETCH\n    path: nope\n"
            let refused = await failure { () async throws(PlatformError) in
                _ = try await platform.uploadVersion(app: "todo", spec: bad)
            }
            #expect(refused?.code == .invalidSpec)
            let details = refused?.details ?? []
            #expect(details.count >= 2, "\(details)")
            #expect(details.contains { $0.hasPrefix("agnost.yaml:5:") && $0.contains("FETCH") }, "\(details)")
            #expect(details.contains { $0.hasPrefix("agnost.yaml:6:") }, "\(details)")
            let otherApp = await failure { () async throws(PlatformError) in
                _ = try await platform.uploadVersion(
                    app: "todo",
                    spec: Self.spec.replacingOccurrences(of: "app: todo", with: "app: shop")
                )
            }
            #expect(otherApp?.code == .invalidInput && otherApp?.message.contains("shop") == true)
            let again = await failure { () async throws(PlatformError) in
                _ = try await platform.uploadVersion(app: "todo", spec: Self.spec)
            }
            #expect(again?.code == .conflict)
            let noApp = await failure { () async throws(PlatformError) in
                _ = try await platform.uploadVersion(app: "shop", spec: Self.spec)
            }
            #expect(noApp?.code == .notFound)
        }
    }

    @Test func resourceSecretsAreStoredSealedAndOpenOnlyUnderTheKey() async throws {
        try await StoreUnderTest.sqlite.withStore { store in
            let platform = Platform(store: store, sealer: try SecretSealer(key: Array(repeating: 7, count: 32)))
            _ = try await platform.createApp(name: "todo", description: "")
            let added = try await platform.addResource(
                .init(
                    name: "maindb",
                    app: "todo",
                    type: .postgres,
                    settings: ConnectionSettings(host: "127.0.0.1", port: 5432, database: "todo", user: "app"),
                    password: "pg-S3cret!",
                    uri: "postgres://app:pg-S3cret!@127.0.0.1/todo"
                )
            )
            let raw = try #require(try await store.record(added.value.key))
            let text = String(decoding: raw.body, as: UTF8.self)
            #expect(!text.contains("pg-S3cret"), "the stored record holds the password: \(text)")
            #expect(text.contains("127.0.0.1") && text.contains("5432"))
            let noTarget = await failure { () async throws(PlatformError) in
                _ = try await platform.addResource(
                    .init(name: "x", app: nil, type: .redis, settings: ConnectionSettings())
                )
            }
            #expect(noTarget?.code == .invalidInput)
            let badPort = await failure { () async throws(PlatformError) in
                _ = try await platform.addResource(
                    .init(name: "x", app: nil, type: .redis, settings: ConnectionSettings(host: "h", port: 70_000))
                )
            }
            #expect(badPort?.code == .invalidInput && badPort?.message.contains("70000") == true)
        }
    }

    @Test func aDeclaredNameLinksToAResourceOfItsTypeOwnOrShared() async throws {
        try await withPlatform { platform in
            _ = try await platform.createApp(name: "todo", description: "")
            _ = try await platform.createApp(name: "shop", description: "")
            _ = try await platform.uploadVersion(app: "todo", spec: Self.spec)
            let settings = ConnectionSettings(host: "127.0.0.1", port: 6379)
            _ = try await platform.addResource(.init(name: "pg", app: "todo", type: .postgres, settings: settings))
            _ = try await platform.addResource(.init(name: "shared-redis", app: nil, type: .redis, settings: settings))
            _ = try await platform.addResource(.init(name: "shop-pg", app: "shop", type: .postgres, settings: settings))
            var version = try await platform.link(
                app: "todo",
                version: "v1",
                declared: "maindb",
                to: "pg",
                ifRevision: 1
            )
            #expect(version.value.links["maindb"] == ResourceLink(resource: "pg", app: "todo"))
            version = try await platform.link(
                app: "todo",
                version: "v1",
                declared: "cache",
                to: "shared-redis",
                ifRevision: version.revision
            )
            #expect(version.value.links["cache"] == ResourceLink(resource: "shared-redis", app: nil))
            let mismatch = await failure { () async throws(PlatformError) in
                _ = try await platform.link(app: "todo", version: "v1", declared: "cache", to: "pg", ifRevision: 3)
            }
            #expect(mismatch?.code == .invalidInput)
            #expect(mismatch?.message.contains("redis") == true && mismatch?.message.contains("postgres") == true)
            let undeclared = await failure { () async throws(PlatformError) in
                _ = try await platform.link(app: "todo", version: "v1", declared: "queue", to: "pg", ifRevision: 3)
            }
            #expect(undeclared?.code == .invalidInput && undeclared?.message.contains("maindb, cache") == true)
            let otherApps = await failure { () async throws(PlatformError) in
                _ = try await platform.link(
                    app: "todo",
                    version: "v1",
                    declared: "maindb",
                    to: "shop-pg",
                    ifRevision: 3
                )
            }
            #expect(otherApps?.code == .notFound)
            let stale = await failure { () async throws(PlatformError) in
                _ = try await platform.link(app: "todo", version: "v1", declared: "maindb", to: "pg", ifRevision: 1)
            }
            #expect(stale?.code == .revisionConflict)
        }
    }

    @Test func aKeyIsShownOnceAndKeptAsItsHash() async throws {
        try await StoreUnderTest.sqlite.withStore { store in
            let platform = Platform(store: store, sealer: try SecretSealer(key: Array(repeating: 7, count: 32)))
            _ = try await platform.createApp(name: "todo", description: "")
            _ = try await platform.uploadVersion(app: "todo", spec: Self.spec)
            let (key, record) = try await platform.createKey(app: "todo", version: "v1", name: "mobile", expiresAt: nil)
            #expect(key.hasPrefix("ak_") && key.count == 46)
            let raw = try #require(try await store.record(record.value.key))
            #expect(!String(decoding: raw.body, as: UTF8.self).contains(String(key.dropFirst(3))))
            #expect(record.value.hash == SHA256.hash(key.utf8).hexString)
            let (second, _) = try await platform.createKey(app: "todo", version: "v1", name: "web", expiresAt: nil)
            #expect(second != key)
            let noVersion = await failure { () async throws(PlatformError) in
                _ = try await platform.createKey(app: "todo", version: "v9", name: "x", expiresAt: nil)
            }
            #expect(noVersion?.code == .notFound)
        }
    }
}
