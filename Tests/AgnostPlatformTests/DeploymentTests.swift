import AgnostDigest
import AgnostKnative
import AgnostPlatform
import AgnostTestSupport
import Foundation
import Testing

/// Deployments through the platform against the Kubernetes API-server fixture: what they refuse, what the
/// version's Secret and Service get, and how the record follows the deploy.
@Suite struct DeploymentTests {
    static let spec = """
        app: shop
        version: v1
        endpoints:
          - name: listOrders
            method: GET
            path: /orders
            handler: listOrders
        resources:
          - name: maindb
            type: postgres

        """
    static let image = "127.0.0.1:5000/shop@sha256:" + String(repeating: "ab", count: 32)
    static let admin = Caller(name: "ci", role: .admin, apps: nil)
    static let password = "pw-\(UUID().uuidString)"

    /// A platform deploying to the fixture's namespace `demo`, its deployments running for the length of `body`.
    func withDeployingPlatform(
        _ cluster: KubeAPIServerFixture?,
        _ body: @Sendable (Platform) async throws -> Void
    ) async throws {
        let deployer = try cluster.map { cluster in
            let access = try KubeconfigLoader.resolve(
                explicitPath: cluster.kubeconfigPath,
                context: nil,
                namespace: nil,
                environment: [:],
                homeDirectory: "/nonexistent"
            )
            return Deployer(client: KubernetesClient(access: access), namespace: access.namespace)
        }
        try await StoreUnderTest.sqlite.withStore { store in
            let platform = Platform(
                store: store,
                sealer: try SecretSealer(key: Array(repeating: 9, count: 32)),
                cluster: deployer,
                readinessTimeout: .seconds(30)
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await platform.runDeployments() }
                defer { group.cancelAll() }
                try await body(platform)
            }
        }
    }

    /// An app `shop` whose version v1 declares `maindb`, and a PostgreSQL resource with a password, linked to it
    /// when `linked`.
    func seed(_ platform: Platform, linked: Bool = false) async throws {
        _ = try await platform.createApp(name: "shop", description: "")
        _ = try await platform.uploadVersion(app: "shop", spec: Self.spec)
        _ = try await platform.addResource(
            Platform.NewResource(
                name: "orders-db",
                app: "shop",
                type: .postgres,
                settings: ConnectionSettings(host: "db.internal", port: 5432, database: "orders", user: "shop"),
                password: Self.password
            )
        )
        if linked { try await link(platform) }
    }

    func link(_ platform: Platform) async throws {
        let version = try await platform.version(app: "shop", name: "v1")
        _ = try await platform.link(
            app: "shop",
            version: "v1",
            declared: "maindb",
            to: "orders-db",
            ifRevision: version.revision
        )
    }

    func failure(_ operation: () async throws(PlatformError) -> Void) async -> PlatformError? {
        do throws(PlatformError) {
            try await operation()
            return nil
        } catch {
            return error
        }
    }

    /// The deployment once it is final, read every 50 ms for at most 30 s.
    func finished(_ platform: Platform, _ id: String) async throws -> Deployment {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let deployment = try await platform.deployment(app: "shop", version: "v1", id: id).value
            if deployment.outcome.isFinal { return deployment }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("deployment \(id) did not finish in 30 s")
        return try await platform.deployment(app: "shop", version: "v1", id: id).value
    }

    static func secretData(_ cluster: KubeAPIServerFixture) throws -> [String: String] {
        let secret = try #require(try cluster.object("secrets", group: nil, namespace: "demo", name: "shop-v1"))
        let data = try #require(secret["data"] as? [String: String])
        return data.compactMapValues { Data(base64Encoded: $0).flatMap { String(data: $0, encoding: .utf8) } }
    }

    @Test func aDeploymentPutsTheLinkedSettingsAndValidKeyHashesInTheSecretAndTheRevisionServes() async throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        try await withDeployingPlatform(cluster) { platform in
            try await seed(platform)
            let unlinked = await failure { () async throws(PlatformError) in
                _ = try await platform.requestDeployment(app: "shop", version: "v1", image: Self.image, by: Self.admin)
            }
            #expect(unlinked?.code == .conflict)
            #expect(unlinked?.message.contains("'maindb'") == true, "\(String(describing: unlinked))")

            try await link(platform)
            let (key, _) = try await platform.createKey(app: "shop", version: "v1", name: "web", expiresAt: nil)
            let (revoked, _) = try await platform.createKey(app: "shop", version: "v1", name: "old", expiresAt: nil)
            try await platform.revokeKey(app: "shop", version: "v1", name: "old")

            for unpinned in ["127.0.0.1:5000/shop:latest", "127.0.0.1:5000/shop", "not an image"] {
                let refused = await failure { () async throws(PlatformError) in
                    _ = try await platform.requestDeployment(
                        app: "shop",
                        version: "v1",
                        image: unpinned,
                        by: Self.admin
                    )
                }
                #expect(refused?.code == .invalidInput, "\(unpinned)")
            }

            let requested = try await platform.requestDeployment(
                app: "shop",
                version: "v1",
                image: Self.image,
                by: Self.admin
            )
            #expect(requested.value.outcome == .pending && requested.value.requestedBy == "ci")
            let deployment = try await finished(platform, requested.value.id)
            #expect(deployment.outcome == .ready, "\(deployment.message ?? "") \(deployment.progress)")
            #expect(deployment.revision?.hasPrefix("shop-v1-") == true)
            #expect(deployment.url == "http://shop-v1.demo.example.com")
            #expect(deployment.finishedAt != nil)
            #expect(deployment.progress.first == "deploying \(Self.image)")
            #expect(deployment.progress.contains("service/shop-v1 created"), "\(deployment.progress)")
            #expect(try await platform.version(app: "shop", name: "v1").value.state == .deployed)

            let data = try Self.secretData(cluster)
            #expect(data["AGNOST_RESOURCE_MAINDB_PASSWORD"] == Self.password)
            #expect(data["AGNOST_RESOURCE_MAINDB_HOST"] == "db.internal")
            #expect(data["AGNOST_RESOURCE_MAINDB_PORT"] == "5432")
            #expect(data["AGNOST_RESOURCE_MAINDB_DATABASE"] == "orders")
            #expect(data["AGNOST_RESOURCE_MAINDB_URI"] == "postgresql://shop:\(Self.password)@db.internal:5432/orders")
            #expect(data["AGNOST_API_KEYS"] == SHA256.hash(key.utf8).hexString, "only the valid key")
            #expect(data["AGNOST_API_KEYS"]?.contains(SHA256.hash(revoked.utf8).hexString) == false)
            let token = try #require(data["AGNOST_INTERNAL_TOKEN"])
            #expect(token.count == 64)

            // The Service reads the settings from the Secret, and shows neither them nor a plain hash of them.
            let service = try #require(
                try cluster.object("services", group: "serving.knative.dev", namespace: "demo", name: "shop-v1")
            )
            let serviceText = String(decoding: try JSONSerialization.data(withJSONObject: service), as: UTF8.self)
            #expect(serviceText.contains("AGNOST_RESOURCE_MAINDB_URI"))
            #expect(!serviceText.contains(Self.password))
            #expect(!serviceText.contains(SHA256.hash(Self.password.utf8).hexString))

            // A second deployment keeps the internal token the first made.
            let again = try await platform.requestDeployment(
                app: "shop",
                version: "v1",
                image: Self.image,
                by: Self.admin
            )
            #expect(try await finished(platform, again.value.id).outcome == .ready)
            #expect(try Self.secretData(cluster)["AGNOST_INTERNAL_TOKEN"] == token)
        }
    }

    @Test func aRevisionThatFailsFailsTheDeploymentWithKnativesReason() async throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        try await withDeployingPlatform(cluster) { platform in
            try await seed(platform, linked: true)
            try cluster.failNextRevision(reason: "RevisionFailed", message: "container exited with code 3")
            let requested = try await platform.requestDeployment(
                app: "shop",
                version: "v1",
                image: Self.image,
                by: Self.admin
            )
            let deployment = try await finished(platform, requested.value.id)
            #expect(deployment.outcome == .failed)
            #expect(deployment.reason == "RevisionFailed")
            #expect(deployment.message?.contains("container exited with code 3") == true, "\(deployment)")
            #expect(deployment.progress.last?.hasPrefix("failed: ") == true)
            #expect(try await platform.version(app: "shop", name: "v1").value.state == .failed)
        }
    }

    @Test func requestsThatComeWhileOneRunsEndWithTheNewestDeployed() async throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        try await withDeployingPlatform(cluster) { platform in
            try await seed(platform, linked: true)
            var ids: [String] = []
            for _ in 0..<5 {
                ids.append(
                    try await platform.requestDeployment(app: "shop", version: "v1", image: Self.image, by: Self.admin)
                        .value.id
                )
            }
            #expect(ids == ids.sorted(), "ids sort in the order of the requests")
            var outcomes: [Deployment.Outcome] = []
            for id in ids { outcomes.append(try await finished(platform, id).outcome) }
            #expect(outcomes.first == .ready)
            #expect(outcomes.last == .ready)
            #expect(outcomes.allSatisfy { $0 == .ready || $0 == .superseded }, "\(outcomes)")
            let listed = try await platform.store.list(Deployment.self, scope: "shop/v1", limit: 50)
            #expect(listed.items.map(\.value.id) == ids)
        }
    }

    @Test func withoutAClusterARequestIsRefusedAndNothingIsRecorded() async throws {
        try await withDeployingPlatform(nil) { platform in
            try await seed(platform, linked: true)
            let refused = await failure { () async throws(PlatformError) in
                _ = try await platform.requestDeployment(app: "shop", version: "v1", image: Self.image, by: Self.admin)
            }
            #expect(refused?.code == .unavailable)
            #expect(refused?.message.contains("without a cluster") == true)
            #expect(try await platform.store.list(Deployment.self, scope: "shop/v1", limit: 5).items.isEmpty)
        }
    }
}
