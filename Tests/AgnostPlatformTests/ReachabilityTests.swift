import AgnostPlatform
import AgnostSpec
import AgnostTestSupport
import Foundation
import Testing

/// A Redis server from Debian on a free loopback port, stopped after `body`.
func withRedisServer<T>(_ body: (Int) async throws -> T) async throws -> T {
    let redis = try RedisFixture()
    defer { redis.stop() }
    return try await body(redis.port)
}

@Suite struct ReachabilityTests {
    @Test(arguments: [
        ("postgres://app:p%40ss@db.internal:6543/todo?sslmode=require", ResourceType.postgres, "db.internal", 6543),
        ("mongodb://u:p@m1.example:27018,m2.example:27019/app?replicaSet=rs0", .mongodb, "m1.example", 27018),
        ("mongodb+srv://u:p@cluster.example/app", .mongodb, "cluster.example", 27017),
        ("redis://:s3cret@[::1]:6380/0", .redis, "::1", 6380),
        ("amqp://guest:gu@st@rabbit", .rabbitmq, "rabbit", 5672),
    ])
    func aURIsFirstHostAndPortAreFoundAndItsCredentialsSkipped(
        _ uri: String,
        _ type: ResourceType,
        _ host: String,
        _ port: Int
    ) {
        #expect(ResourceEndpoint(uri: uri, type: type) == ResourceEndpoint(host: host, port: port))
    }

    @Test(arguments: ["no scheme", "redis://", "redis://host:port", "redis://host:70000"])
    func aURIWithoutAUsableHostHasNoEndpoint(_ uri: String) {
        #expect(ResourceEndpoint(uri: uri, type: .redis) == nil)
    }

    @Test func aRunningRedisIsReachableAndAClosedPortIsNot() async throws {
        try await withRedisServer { port in
            let open = await ReachabilityCheck().check(ResourceEndpoint(host: "127.0.0.1", port: port))
            #expect(open.reachable, "\(open.detail)")
            #expect(open.detail.hasPrefix("TCP 127.0.0.1:\(port) connected in "))
        }
        let closedPort = try ClosedPort()
        let closed = await ReachabilityCheck().check(ResourceEndpoint(host: "127.0.0.1", port: closedPort.port))
        #expect(!closed.reachable)
        #expect(closed.detail.contains("127.0.0.1:\(closedPort.port)"))
        #expect(closed.detail.lowercased().contains("refused"), "\(closed.detail)")
    }

    /// Checked on creation and on demand, the result is kept with the resource; the URI's password never shows.
    @Test func aResourceKeepsTheResultOfItsLastCheck() async throws {
        try await StoreUnderTest.sqlite.withStore { store in
            let platform = Platform(store: store, sealer: try SecretSealer(key: Array(repeating: 1, count: 32)))
            let first = try await withRedisServer { port in
                let added = try await platform.addResource(
                    .init(
                        name: "cache",
                        app: nil,
                        type: .redis,
                        settings: ConnectionSettings(),
                        uri: "redis://:Rd-s3cret@127.0.0.1:\(port)/0"
                    )
                )
                let first = try #require(added.value.reachability)
                #expect(first.reachable, "\(first.detail)")
                #expect(!first.detail.contains("Rd-s3cret"))
                #expect(added.revision == 2)
                let stored = try await store.fetch(Resource.self, name: "cache")
                #expect(stored?.value.reachability == first, "\(String(describing: stored))")
                return first
            }
            let again = try await platform.checkResource("cache", app: nil)
            #expect(again.value.reachability?.reachable == false)
            #expect(again.revision == 3)
            #expect(try #require(again.value.reachability?.checkedAt) >= first.checkedAt)
        }
    }

    @Test func aMongoDBIsReachableByItsPingAndAClosedPortOrAnotherProtocolIsNot() async throws {
        let mongo = try MockMongo()
        defer { mongo.stop() }
        let check = ReachabilityCheck(timeout: .milliseconds(500))
        let open = await check.check(ResourceEndpoint(host: "127.0.0.1", port: mongo.port), of: .mongodb)
        #expect(open.reachable, "\(open.detail)")
        #expect(open.detail.hasPrefix("MongoDB ping to 127.0.0.1:\(mongo.port) answered in "), "\(open.detail)")
        #expect(try mongo.commands().map(\.name) == ["ping"])

        let closedPort = try ClosedPort()
        let closed = await check.check(ResourceEndpoint(host: "127.0.0.1", port: closedPort.port), of: .mongodb)
        #expect(!closed.reachable)
        #expect(closed.detail.hasPrefix("MongoDB ping to 127.0.0.1:\(closedPort.port): "), "\(closed.detail)")
        #expect(closed.detail.contains("refused"), "\(closed.detail)")

        // A port that accepts connections but never answers MongoDB's handshake: TCP alone would call it reachable.
        let silent = try LoopbackListener()
        defer { close(silent.descriptor) }
        let started = ContinuousClock.now
        let mute = await check.check(ResourceEndpoint(host: "127.0.0.1", port: silent.port), of: .mongodb)
        #expect(!mute.reachable, "\(mute.detail)")
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func aMongoDBResourceIsCheckedByItsPing() async throws {
        let mongo = try MockMongo()
        defer { mongo.stop() }
        try await StoreUnderTest.sqlite.withStore { store in
            let platform = Platform(store: store, sealer: try SecretSealer(key: Array(repeating: 1, count: 32)))
            let added = try await platform.addResource(
                .init(
                    name: "maindb",
                    app: nil,
                    type: .mongodb,
                    settings: ConnectionSettings(),
                    uri: "mongodb://app:Mg-s3cret@127.0.0.1:\(mongo.port)/todo"
                )
            )
            let reachability = try #require(added.value.reachability)
            #expect(reachability.reachable, "\(reachability.detail)")
            #expect(reachability.detail.hasPrefix("MongoDB ping to 127.0.0.1:\(mongo.port) answered"))
            #expect(!reachability.detail.contains("Mg-s3cret"))
        }
    }
}
