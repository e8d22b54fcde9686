import AgnostBundle
import AgnostKnative
import AgnostTestSupport
import Foundation
import Testing

/// The deployer's Eventing side against the API-server fixture: the Broker a version with queues needs, the
/// PingSources and Triggers it applies after the Service, and the pruning of those a new render no longer has.
@Suite struct DeployerEventsTests {
    static func deployer(_ cluster: KubeAPIServerFixture) throws -> Deployer {
        let access = try KubeconfigLoader.resolve(
            explicitPath: cluster.kubeconfigPath,
            context: nil,
            namespace: nil,
            environment: [:],
            homeDirectory: "/nonexistent"
        )
        return Deployer(client: KubernetesClient(access: access), namespace: access.namespace)
    }

    static let noWait = Deployer.Options(wait: nil)

    static func deployError(
        _ deployer: Deployer,
        _ bundle: BundleManifest = ManifestFixtures.todoBundle,
        options: Deployer.Options = noWait
    ) async -> DeployError? {
        do {
            _ = try await deployer.deploy(bundle, image: ManifestFixtures.pinnedImage, options: options)
            return nil
        } catch {
            return error
        }
    }

    static func field(_ object: [String: Any]?, _ path: String...) -> Any? {
        var current: Any? = object
        for key in path {
            if let index = Int(key), let array = current as? [Any] {
                current = index < array.count ? array[index] : nil
            } else {
                current = (current as? [String: Any])?[key]
            }
        }
        return current
    }

    @Test func withoutABrokerAVersionWithQueuesIsRefusedBeforeAnythingIsWritten() async throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let error = try #require(await Self.deployError(try Self.deployer(cluster)))
        #expect(error.code == .broker)
        #expect(
            error.message == "the namespace demo has no Broker 'default'; queues need one, see knative/README.md",
            "\(error)"
        )
        #expect(try cluster.requests().allSatisfy { $0.method == "GET" }, "nothing may be applied")
        #expect(try cluster.object("secrets", group: nil, namespace: "demo", name: "todo-v1") == nil)
    }

    @Test func aBrokerThatIsNotReadyOrHasNoAddressIsRefusedWithWhatItSays() async throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let deployer = try Self.deployer(cluster)
        try cluster.addBroker()
        try cluster.setBrokerStatus(
            ready: "False",
            reason: "ExchangeFailure",
            message: "failed to declare the exchange on RabbitMQ"
        )
        let notReady = try #require(await Self.deployError(deployer))
        #expect(notReady.code == .broker)
        #expect(notReady.reason == "ExchangeFailure")
        #expect(
            notReady.message.contains("is not ready (ExchangeFailure: failed to declare the exchange"),
            "\(notReady)"
        )
        #expect(notReady.message.contains("knative/README.md"), "\(notReady)")

        try cluster.setBrokerStatus(ready: "True", url: nil)
        let noAddress = try #require(await Self.deployError(deployer))
        #expect(noAddress.code == .broker)
        #expect(noAddress.message.contains("status.address.url"), "\(noAddress)")
        #expect(noAddress.message.contains("knative/README.md"), "\(noAddress)")

        // Another Broker, named for this deploy, is looked for instead.
        var options = Self.noWait
        options.broker = "rabbit"
        let other = try #require(await Self.deployError(deployer, options: options))
        #expect(other.message.contains("no Broker 'rabbit'"), "\(other)")
    }

    @Test func aClusterWithoutEventingSaysSo() async throws {
        let cluster = try KubeAPIServerFixture(eventing: false)
        defer { cluster.stop() }
        let error = try #require(await Self.deployError(try Self.deployer(cluster)))
        #expect(error.code == .broker)
        #expect(error.message.contains("Knative Eventing"), "\(error)")
        #expect(error.message.contains("knative/README.md"), "\(error)")
        // A version without queues or cron jobs needs no Eventing at all.
        var bundle = ManifestFixtures.todoBundle
        bundle.queues = []
        bundle.cronJobs = []
        #expect(await Self.deployError(try Self.deployer(cluster), bundle) == nil)
    }

    @Test func deployAppliesPingSourcesAndTriggersAndPrunesADisabledJob() async throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        try cluster.addBroker()
        let deployer = try Self.deployer(cluster)
        let result = try await deployer.deploy(
            ManifestFixtures.todoBundle,
            image: ManifestFixtures.pinnedImage,
            options: Self.noWait
        )
        let ping = try #require(
            try cluster.object(
                "pingsources",
                group: "sources.knative.dev",
                namespace: "demo",
                name: "todo-v1-cron-archive-done"
            )
        )
        #expect(Self.field(ping, "spec", "sink", "uri") as? String == "/agnost/cron/archive-done")
        #expect(Self.field(ping, "spec", "sink", "ref", "name") as? String == "todo-v1")
        #expect(
            Self.field(ping, "spec", "ceOverrides", "extensions", "agnosttoken") as? String
                == SenderToken.derive(from: result.secretData.internalToken, for: .cron)
        )
        let trigger = try #require(
            try cluster.object(
                "triggers",
                group: "eventing.knative.dev",
                namespace: "demo",
                name: "todo-v1-queue-imports"
            )
        )
        #expect(Self.field(trigger, "spec", "subscriber", "uri") as? String == "/agnost/queue/imports")
        #expect(Self.field(trigger, "spec", "filter", "attributes", "agnostqueue") as? String == "imports")
        #expect(Self.field(trigger, "spec", "delivery", "retry") as? Int == 3)
        let service = try #require(
            try cluster.object("services", group: "serving.knative.dev", namespace: "demo", name: "todo-v1")
        )
        let env = Self.field(service, "spec", "template", "spec", "containers", "0", "env") as? [[String: Any]] ?? []
        #expect(
            env.first { $0["name"] as? String == "AGNOST_BROKER_URL" }?["value"] as? String
                == "http://broker-ingress.knative-eventing.svc.cluster.local/demo/default"
        )
        let listed = try await deployer.eventObjects(app: "todo", version: "v1")
        #expect(listed.map(\.name) == ["todo-v1-cron-archive-done", "todo-v1-queue-imports"])
        #expect(listed.map(\.kind) == ["PingSource", "Trigger"])

        // The same deploy again changes nothing.
        let again = try await deployer.deploy(
            ManifestFixtures.todoBundle,
            image: ManifestFixtures.pinnedImage,
            options: Self.noWait
        )
        #expect(!again.changed)

        var disabled = ManifestFixtures.todoBundle
        disabled.cronJobs[0].enabled = false
        _ = try await deployer.deploy(disabled, image: ManifestFixtures.pinnedImage, options: Self.noWait)
        #expect(
            try cluster.object(
                "pingsources",
                group: "sources.knative.dev",
                namespace: "demo",
                name: "todo-v1-cron-archive-done"
            )
                == nil
        )
        #expect(
            try cluster.object(
                "triggers",
                group: "eventing.knative.dev",
                namespace: "demo",
                name: "todo-v1-queue-imports"
            )
                != nil
        )
        #expect(try await deployer.eventObjects(app: "todo", version: "v1").map(\.kind) == ["Trigger"])
    }

    /// A key change renders the version again without being told the Broker: the Service remembers it, so the
    /// Triggers stay where they are (their broker cannot change) and the address stays the one deploy read.
    @Test func aKeyChangeKeepsTheBrokerTheVersionWasDeployedWith() async throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        try cluster.addBroker(name: "rabbit", brokerClass: "RabbitMQBroker")
        let deployer = try Self.deployer(cluster)
        var options = Self.noWait
        options.broker = "rabbit"
        _ = try await deployer.deploy(
            ManifestFixtures.todoBundle,
            image: ManifestFixtures.pinnedImage,
            options: options
        )
        let service = try #require(
            try cluster.object("services", group: "serving.knative.dev", namespace: "demo", name: "todo-v1")
        )
        #expect(Self.field(service, "metadata", "annotations", "agnost.dev/broker") as? String == "rabbit")
        let (key, record) = try APIKeyMaker.make(named: "ci", existing: [], at: Date())
        #expect(key.hasPrefix("ak_"))
        let changed = try await deployer.changeSecret(of: ManifestFixtures.todoBundle, wait: nil) { data in
            var data = data
            data.apiKeys.append(record)
            return data
        }
        #expect(changed.changed)
        let trigger = try #require(
            try cluster.object(
                "triggers",
                group: "eventing.knative.dev",
                namespace: "demo",
                name: "todo-v1-queue-imports"
            )
        )
        #expect(Self.field(trigger, "spec", "broker") as? String == "rabbit")
        let after = try #require(
            try cluster.object("services", group: "serving.knative.dev", namespace: "demo", name: "todo-v1")
        )
        let env = Self.field(after, "spec", "template", "spec", "containers", "0", "env") as? [[String: Any]] ?? []
        #expect(
            env.first { $0["name"] as? String == "AGNOST_BROKER_URL" }?["value"] as? String
                == "http://broker-ingress.knative-eventing.svc.cluster.local/demo/rabbit"
        )
    }

    /// A dry run prints what would change, and the cron token (a credential) never appears in it.
    @Test func aDryRunHidesTheCronToken() async throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        try cluster.addBroker()
        let deployer = try Self.deployer(cluster)
        let first = try await deployer.deploy(
            ManifestFixtures.todoBundle,
            image: ManifestFixtures.pinnedImage,
            options: Self.noWait
        )
        let reported = Reported()
        let watching = Deployer(client: deployer.client, namespace: deployer.namespace) { reported.append($0) }
        var options = Deployer.Options(dryRun: true, wait: nil)
        // A new internal token: the PingSource's cron token would change with it.
        options.secret = { existing in
            VersionSecretData(internalToken: Deployer.newToken(), apiKeys: existing?.apiKeys ?? [])
        }
        _ = try await watching.deploy(
            ManifestFixtures.todoBundle,
            image: ManifestFixtures.pinnedImage,
            options: options
        )
        let lines = reported.pingSourceChanges
        #expect(lines.contains { $0.contains("agnosttoken") && $0.contains("(hidden)") }, "\(lines)")
        let token = SenderToken.derive(from: first.secretData.internalToken, for: .cron)
        #expect(!lines.joined().contains(token), "\(lines)")
    }
}

/// The deploy events a test collects.
final class Reported: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [DeployEvent] = []

    func append(_ event: DeployEvent) {
        lock.lock()
        events.append(event)
        lock.unlock()
    }

    var pingSourceChanges: [String] {
        lock.lock()
        defer { lock.unlock() }
        return events.flatMap { event -> [String] in
            guard case .wouldChange(let kind, _, let changes) = event, kind == "PingSource" else { return [] }
            return changes
        }
    }
}
