import AgnostDigest
import AgnostTestSupport
import Foundation
import Testing

/// The suite's folder, removed after it (a file-level constant, so that the suite's own attribute can name it).
private let deployWorkspace = FileManager.default.temporaryDirectory.appendingPathComponent(
    "agnost-deploy-e2e-\(UUID().uuidString)"
)

/// `agnost-fn deploy` and the commands around it, as a user runs them, against the real `docker-registry` and the
/// Kubernetes API-server fixture (the one stand-in: no API server installs here), whose simulated Knative
/// controller runs each revision's real server behind the Service's URL.
///
/// The tests share one copy of `samples/todo`, built (release) by whichever deploys first; each test has its own
/// registry and cluster. They run one at a time because they build the same project.
@Suite(.serialized, .removedAfterwards(deployWorkspace))
struct DeployEndToEndTests {
    static let project = deployWorkspace.appendingPathComponent("todo")

    /// What the fixture's controller starts for each revision: the server the last build put in the project, which
    /// does not exist until the first deploy builds it.
    static let revisionCommand = deployWorkspace.appendingPathComponent("run-revision")

    static let copied: Result<Void, E2EFailure> = {
        do {
            try SampleProject.copy("todo", to: project)
            let server = project.appendingPathComponent(".agnost/bundle/server").path
            try "#!/bin/sh\nexec '\(server)' \"$@\"\n".write(to: revisionCommand, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: revisionCommand.path)
            return .success(())
        } catch {
            return .failure(E2EFailure("cannot copy samples/todo: \(error)"))
        }
    }()

    /// A cluster whose revisions run the project's own server, and a registry to push to.
    struct Environment {
        let registry: RegistryFixture
        let cluster: KubeAPIServerFixture

        /// - Parameters:
        ///   - revisionCommand: what runs a revision; by default the project's server.
        ///   - broker: give namespace `demo` a ready Broker `default`, which the todo sample's queue needs.
        init(
            knative: Bool = true,
            deployerRole: String? = nil,
            revisionCommand: String? = nil,
            broker: Bool = true
        ) throws {
            try DeployEndToEndTests.copied.get()
            registry = try RegistryFixture()
            cluster = try KubeAPIServerFixture(
                knative: knative,
                bundleCommand: revisionCommand ?? DeployEndToEndTests.revisionCommand.path,
                deployerRole: deployerRole
            )
            if knative && broker { try cluster.addBroker() }
        }

        /// The PingSource or Trigger as the fixture stores it, nil when there is none.
        func eventObject(_ plural: String, _ name: String) throws -> [String: Any]? {
            let group = plural == "pingsources" ? "sources.knative.dev" : "eventing.knative.dev"
            return try cluster.object(plural, group: group, namespace: "demo", name: name)
        }

        /// `agnost-fn ARGUMENTS… --path PROJECT --kubeconfig … --context CONTEXT`
        func agnost(_ arguments: String..., context: String = "fixture") throws -> Commands.Outcome {
            try Commands.run(
                Commands.agnostFn,
                arguments + [
                    "--path", DeployEndToEndTests.project.path, "--kubeconfig", cluster.kubeconfigPath, "--context",
                    context,
                ],
                environment: Commands.environment
            )
        }

        func deploy(_ arguments: String..., context: String = "fixture") throws -> Commands.Outcome {
            try Commands.run(
                Commands.agnostFn,
                [
                    "deploy", "--path", DeployEndToEndTests.project.path, "--kubeconfig", cluster.kubeconfigPath,
                    "--context", context, "--image", "\(registry.host)/todo",
                ] + arguments,
                environment: Commands.environment
            )
        }

        /// The Service as the fixture stores it.
        func service(_ name: String = "todo-v1") throws -> [String: Any] {
            try #require(try cluster.object("services", group: "serving.knative.dev", namespace: "demo", name: name))
        }

        /// Blob uploads the registry has seen.
        var uploads: [String] { registry.requests.filter { $0.hasPrefix("POST") || $0.hasPrefix("PATCH") } }
    }

    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last.map(String.init) ?? ""
    }

    static func field(_ object: [String: Any], _ path: String...) -> Any? {
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

    @Test func deployRedeployChangeRollbackKeysAndDelete() throws {
        let environment = try Environment()

        // First deploy: a Ready Service pinned to the digest the push printed, its URL printed last.
        let first = try environment.deploy()
        #expect(first.status == 0, "\(first.standardError)")
        let url = Self.lastLine(first.standardOutput)
        #expect(url.hasPrefix("http://127.0.0.1:"), "\(first.standardOutput)")
        let pushed = try #require(
            first.standardError.firstMatch(of: /pushed .* to ([^ ]+@(sha256:[0-9a-f]{64}))/),
            "\(first.standardError)"
        )
        var service = try environment.service()
        let image = Self.field(service, "spec", "template", "spec", "containers", "0", "image") as? String
        #expect(image == "\(environment.registry.host)/todo@\(pushed.2)")
        let generation = Self.field(service, "metadata", "generation") as? Int
        let firstRevision = try #require(Self.field(service, "spec", "template", "metadata", "name") as? String)
        #expect(Self.field(service, "status", "latestReadyRevisionName") as? String == firstRevision)

        let served = try environment.agnost("invoke", "getTodo", "--param", "id=1", "--deployed")
        #expect(served.status == 0, "\(served.standardError)")
        #expect(served.standardOutput.contains(#""title":"todo 1""#), "\(served.standardOutput)")

        // A queue message and a cron firing reach the Service's event paths with the token from its Secret.
        let queued = try environment.agnost(
            "invoke",
            "--queue",
            "imports",
            "--data",
            #"{"title":"from the cluster"}"#,
            "--deployed"
        )
        #expect(queued.status == 0, "\(queued.standardError)")
        let imported = try environment.agnost("invoke", "listTodos", "--deployed")
        #expect(imported.standardOutput.contains(#""title":"from the cluster""#), "\(imported.standardOutput)")
        let fired = try environment.agnost("invoke", "--cron", "archive-done", "--deployed")
        #expect(fired.status == 0, "\(fired.standardError)")

        // The cron job and the queue: a PingSource and a Trigger delivering to the Service on their paths, and the
        // Broker's address in the container's environment.
        let ping = try #require(try environment.eventObject("pingsources", "todo-v1-cron-archive-done"))
        #expect(Self.field(ping, "spec", "schedule") as? String == "*/5 * * * *")
        #expect(Self.field(ping, "spec", "sink", "ref", "name") as? String == "todo-v1")
        #expect(Self.field(ping, "spec", "sink", "uri") as? String == "/agnost/cron/archive-done")
        let cronToken = Self.field(ping, "spec", "ceOverrides", "extensions", "agnosttoken") as? String
        #expect(cronToken?.count == 64, "deploy derives the cron token from the Secret's internal token")
        let trigger = try #require(try environment.eventObject("triggers", "todo-v1-queue-imports"))
        #expect(Self.field(trigger, "spec", "broker") as? String == "default")
        #expect(Self.field(trigger, "spec", "subscriber", "ref", "name") as? String == "todo-v1")
        #expect(Self.field(trigger, "spec", "subscriber", "uri") as? String == "/agnost/queue/imports")
        #expect(Self.field(trigger, "spec", "filter", "attributes", "type") as? String == "dev.agnost.queue.message")
        #expect(Self.field(trigger, "spec", "filter", "attributes", "agnostservice") as? String == "todo-v1")
        #expect(Self.field(trigger, "spec", "filter", "attributes", "agnostqueue") as? String == "imports")
        #expect(Self.field(trigger, "spec", "delivery", "retry") as? Int == 3)
        let env = Self.field(service, "spec", "template", "spec", "containers", "0", "env") as? [[String: Any]] ?? []
        #expect(
            env.first { $0["name"] as? String == "AGNOST_BROKER_URL" }?["value"] as? String
                == "http://broker-ingress.knative-eventing.svc.cluster.local/demo/default"
        )

        // Unchanged: no blob uploaded, the generation as it was, and it says so.
        let uploadsBefore = environment.uploads.count
        let again = try environment.deploy()
        #expect(again.status == 0, "\(again.standardError)")
        #expect(again.standardError.contains("unchanged"), "\(again.standardError)")
        #expect(Self.lastLine(again.standardOutput) == url)
        #expect(environment.uploads.count == uploadsBefore, "\(environment.uploads)")
        service = try environment.service()
        #expect(Self.field(service, "metadata", "generation") as? Int == generation)

        // API keys: a key works on an apiKey: required endpoint, and stops working once revoked.
        let withoutKey = try environment.agnost("invoke", "deleteTodo", "--param", "id=3", "--deployed")
        #expect(withoutKey.status == 1)
        #expect(withoutKey.standardError.contains("401"), "\(withoutKey.standardError)")
        let created = try environment.agnost("keys", "create", "--name", "ci")
        #expect(created.status == 0, "\(created.standardError)")
        let key = Self.lastLine(created.standardOutput)
        #expect(key.hasPrefix("ak_") && key.count == 67, "\(created.standardOutput)")
        let secret = try #require(
            try environment.cluster.object("secrets", group: nil, namespace: "demo", name: "todo-v1")
        )
        let secretText = String(decoding: try JSONSerialization.data(withJSONObject: secret), as: UTF8.self)
        #expect(!secretText.contains(key), "the Secret must keep the key's hash, never the key")
        let withKey = try environment.agnost("invoke", "deleteTodo", "--param", "id=3", "--deployed", "--api-key", key)
        #expect(withKey.status == 0, "\(withKey.standardError)")
        let listed = try environment.agnost("keys", "list")
        #expect(listed.standardOutput.contains("ci"), "\(listed.standardOutput)")
        #expect(!listed.standardOutput.contains(key))
        let revoked = try environment.agnost("keys", "revoke", "ci")
        #expect(revoked.status == 0, "\(revoked.standardError)")
        let afterRevoke = try environment.agnost(
            "invoke",
            "deleteTodo",
            "--param",
            "id=2",
            "--deployed",
            "--api-key",
            key
        )
        #expect(afterRevoke.status == 1)
        #expect(afterRevoke.standardError.contains("401"), "\(afterRevoke.standardError)")
        let keyedRevision = try #require(
            Self.field(try environment.service(), "spec", "template", "metadata", "name") as? String
        )

        // A handler change: a new build, a new revision, serving the new code.
        let store = Self.project.appendingPathComponent("Sources/TodoHandlers/TodoStore.swift")
        try String(contentsOf: store, encoding: .utf8)
            .replacingOccurrences(of: #"title: "todo \(index + 1)""#, with: #"title: "item \(index + 1)""#)
            .write(to: store, atomically: true, encoding: .utf8)
        let changed = try environment.deploy()
        #expect(changed.status == 0, "\(changed.standardError)")
        service = try environment.service()
        let changedRevision = try #require(Self.field(service, "spec", "template", "metadata", "name") as? String)
        #expect(changedRevision != keyedRevision)
        let newCode = try environment.agnost("invoke", "getTodo", "--param", "id=1", "--deployed")
        #expect(newCode.standardOutput.contains(#""title":"item 1""#), "\(newCode.standardOutput)")

        let status = try environment.agnost("status", "--output", "json")
        #expect(status.status == 0, "\(status.standardError)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(status.standardOutput.utf8)) as? [String: Any]
        )
        let revisions = try #require(report["revisions"] as? [[String: Any]])
        #expect(revisions.first?["name"] as? String == changedRevision)
        #expect(revisions.first?["trafficPercent"] as? Int == 100)
        let events = try #require(report["events"] as? [[String: Any]])
        #expect(
            events.compactMap { $0["name"] as? String } == ["todo-v1-cron-archive-done", "todo-v1-queue-imports"],
            "\(events)"
        )
        #expect(events.compactMap { $0["kind"] as? String } == ["PingSource", "Trigger"])
        let textStatus = try environment.agnost("status")
        #expect(textStatus.standardOutput.contains("todo-v1-queue-imports"), "\(textStatus.standardOutput)")

        // Rollback: all traffic to the revision before, which serves the old code.
        let rolledBack = try environment.agnost("rollback")
        #expect(rolledBack.status == 0, "\(rolledBack.standardError)")
        service = try environment.service()
        let traffic = Self.field(service, "status", "traffic") as? [[String: Any]]
        #expect(traffic?.count == 1)
        #expect(traffic?.first?["revisionName"] as? String == keyedRevision)
        #expect(traffic?.first?["percent"] as? Int == 100)
        let oldCode = try environment.agnost("invoke", "getTodo", "--param", "id=1", "--deployed")
        #expect(oldCode.standardOutput.contains(#""title":"todo 1""#), "\(oldCode.standardOutput)")

        // A split, then all traffic back to the latest revision.
        let split = try environment.agnost("traffic", "\(keyedRevision)=50", "\(changedRevision)=50")
        #expect(split.status == 0, "\(split.standardError)")
        let halves = Self.field(try environment.service(), "status", "traffic") as? [[String: Any]]
        #expect(halves?.compactMap { $0["percent"] as? Int } == [50, 50], "\(String(describing: halves))")
        let unknown = try environment.agnost("traffic", "todo-v1-0000000=100")
        #expect(unknown.status == 1)
        #expect(unknown.standardError.contains("has no revision todo-v1-0000000"), "\(unknown.standardError)")
        let latest = try environment.agnost("traffic", "--latest")
        #expect(latest.status == 0, "\(latest.standardError)")
        let all = Self.field(try environment.service(), "status", "traffic") as? [[String: Any]]
        #expect(all?.first?["revisionName"] as? String == changedRevision)
        #expect(all?.first?["percent"] as? Int == 100)

        // Through an ingress address, with the Service's host name, or another, in the Host header.
        let host = try #require(URLComponents(string: url)?.host)
        let port = try #require(URLComponents(string: url)?.port)
        let ingress = "http://\(host):\(port)"
        let viaIngress = try environment.agnost(
            "invoke",
            "getTodo",
            "--param",
            "id=1",
            "--deployed",
            "--target",
            ingress,
            "--host-header",
            "todo-v1.demo.example.com"
        )
        #expect(viaIngress.status == 0, "\(viaIngress.standardError)")
        #expect(
            try environment.cluster.proxy(namespace: "demo", service: "todo-v1")?.lastHost == "todo-v1.demo.example.com"
        )

        let versions = try environment.agnost("versions")
        #expect(versions.standardOutput.contains("v1"), "\(versions.standardOutput)")

        // Delete: the Service, its Secret, and nothing labeled for the version is left.
        let deleted = try environment.agnost("delete")
        #expect(deleted.status == 0, "\(deleted.standardError)")
        #expect(
            try environment.cluster.object("services", group: "serving.knative.dev", namespace: "demo", name: "todo-v1")
                == nil
        )
        #expect(try environment.cluster.object("secrets", group: nil, namespace: "demo", name: "todo-v1") == nil)
        #expect(try environment.eventObject("pingsources", "todo-v1-cron-archive-done") == nil)
        #expect(try environment.eventObject("triggers", "todo-v1-queue-imports") == nil)
        let gone = try environment.agnost("status")
        #expect(gone.status == 1)
        #expect(gone.standardError.contains("not deployed"), "\(gone.standardError)")
    }

    /// `platform serve` with the cluster, `platform login`, `deploy --platform` (which registers the version and
    /// follows the platform's deployment), a key made on the platform reaching the Secret at the next deployment,
    /// and the platform's whole output free of the token and the key.
    @Test func deployThroughThePlatformRegistersTheVersionAndPutsItsKeysInTheSecret() throws {
        let environment = try Environment()
        let home = deployWorkspace.appendingPathComponent("platform-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        var variables = Commands.environment
        variables["AGNOST_PLATFORM_KEY"] = PlatformEndToEndTests.key
        variables["AGNOST_CONFIG"] = home.appendingPathComponent("config").path
        variables["AGNOST_PLATFORM_TOKEN"] = nil
        let server = try BackgroundProcess(
            Commands.agnostFn,
            [
                "platform", "serve", "--listen", "127.0.0.1:0", "--data", home.appendingPathComponent("data").path,
                "--kubeconfig", environment.cluster.kubeconfigPath,
            ],
            environment: variables
        )
        let line = try server.waitForLine(containing: "platform on ")
        let url = try #require(line.firstMatch(of: /http:\/\/127\.0\.0\.1:\d+/).map { String($0.0) })
        let token = try #require(server.output.first { $0.hasPrefix("agp_") })
        func platform(_ arguments: String...) throws -> Commands.Outcome {
            try Commands.run(Commands.agnostFn, ["platform"] + arguments + ["--platform", url], environment: variables)
        }

        let anonymous = try platform("apps", "list")
        #expect(
            anonymous.status == 1 && anonymous.standardError.contains("platform login"),
            "\(anonymous.standardError)"
        )
        let login = try Commands.run(
            Commands.agnostFn,
            ["platform", "login", url, "--token-stdin"],
            environment: variables,
            input: token + "\n"
        )
        #expect(login.status == 0, "\(login.standardError)")
        let stored = home.appendingPathComponent("config/platforms.json").path
        let mode = try FileManager.default.attributesOfItem(atPath: stored)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try platform("apps", "create", "todo", "--description", "Todos").status == 0)

        func deployThroughPlatform() throws -> Commands.Outcome {
            try Commands.run(
                Commands.agnostFn,
                [
                    "deploy", "--path", DeployEndToEndTests.project.path, "--image",
                    "\(environment.registry.host)/todo", "--platform", url,
                ],
                environment: variables
            )
        }
        let first = try deployThroughPlatform()
        #expect(first.status == 0, "\(first.standardError)")
        #expect(Self.lastLine(first.standardOutput).hasPrefix("http://127.0.0.1:"), "\(first.standardOutput)")
        #expect(first.standardError.contains("requested"), "\(first.standardError)")
        #expect(first.standardError.contains("service/todo-v1 created"), "progress lines are shown as they come")

        let versions = try platform("versions", "list", "--app", "todo")
        #expect(versions.standardOutput.contains("v1") && versions.standardOutput.contains("deployed"), "\(versions)")
        let created = try platform("keys", "create", "--app", "todo", "--version", "v1", "web")
        #expect(created.status == 0, "\(created.standardError)")
        let key = created.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("ak_"))

        // The key reaches the Secret with the next deployment, which keeps the internal token.
        let tokenBefore = try Self.secret(environment)["AGNOST_INTERNAL_TOKEN"]
        let second = try deployThroughPlatform()
        #expect(second.status == 0, "\(second.standardError)")
        let secret = try Self.secret(environment)
        #expect(secret["AGNOST_API_KEYS"] == SHA256.hash(key.utf8).hexString)
        #expect(secret["AGNOST_INTERNAL_TOKEN"] == tokenBefore)
        let opened = try environment.agnost(
            "invoke",
            "deleteTodo",
            "--param",
            "id=1",
            "--deployed",
            "-H",
            "x-api-key: \(key)"
        )
        #expect(opened.status == 0, "\(opened.standardError)")

        let listed = try platform("deployments", "--app", "todo", "--version", "v1", "--output", "json")
        let page = try JSONSerialization.jsonObject(with: Data(listed.standardOutput.utf8)) as? [String: Any]
        let outcomes = (page?["items"] as? [[String: Any]])?.compactMap { $0["outcome"] as? String }
        #expect(outcomes == ["ready", "ready"], "\(listed.standardOutput)")

        #expect(try server.stop() == 0)
        let output = server.output.joined(separator: "\n")
        #expect(!output.contains(key), "the platform never prints a key")
        #expect(server.output.filter { $0.contains(token) } == [token], "the token is printed once, on the first start")
    }

    static func secret(_ environment: Environment) throws -> [String: String] {
        let secret = try #require(
            try environment.cluster.object("secrets", group: nil, namespace: "demo", name: "todo-v1")
        )
        let data = try #require(secret["data"] as? [String: String])
        return data.compactMapValues { Data(base64Encoded: $0).flatMap { String(data: $0, encoding: .utf8) } }
    }

    @Test func aRevisionThatFailsExitsNonZeroWithKnativesReason() throws {
        let environment = try Environment()
        try environment.cluster.failNextRevision(
            reason: "RevisionFailed",
            message: "Revision \"todo-v1-x\" failed with message: Back-off pulling image: ImagePullBackOff"
        )
        let failed = try environment.deploy("--timeout", "60s")
        #expect(failed.status == 1)
        #expect(failed.standardError.contains("RevisionFailed"), "\(failed.standardError)")
        #expect(failed.standardError.contains("ImagePullBackOff"), "\(failed.standardError)")
        #expect(failed.standardOutput.isEmpty, "no URL for a failed deploy")
    }

    /// The todo sample has a queue, which needs a Broker: without one, deploy says what the namespace lacks and
    /// writes nothing.
    @Test func aDeployWithoutABrokerSaysWhatTheNamespaceNeeds() throws {
        let environment = try Environment(broker: false)
        let refused = try environment.deploy()
        #expect(refused.status == 1)
        #expect(
            refused.standardError.contains(
                "the namespace demo has no Broker 'default'; queues need one, see knative/README.md"
            ),
            "\(refused.standardError)"
        )
        #expect(try environment.cluster.requests().allSatisfy { $0.method == "GET" })
        let elsewhere = try environment.deploy("--broker", "rabbit")
        #expect(elsewhere.status == 1)
        #expect(elsewhere.standardError.contains("no Broker 'rabbit'"), "\(elsewhere.standardError)")
    }

    /// `enabled: false` on the cron job, deployed again, prunes its PingSource; the queue's Trigger stays.
    @Test func disablingTheCronJobPrunesItsPingSource() throws {
        let environment = try Environment()
        let deployed = try environment.deploy("--no-wait")
        #expect(deployed.status == 0, "\(deployed.standardError)")
        #expect(try environment.eventObject("pingsources", "todo-v1-cron-archive-done") != nil)

        let spec = Self.project.appendingPathComponent("agnost.yaml")
        let original = try String(contentsOf: spec, encoding: .utf8)
        defer { try? original.write(to: spec, atomically: true, encoding: .utf8) }
        let disabled = original.replacingOccurrences(
            of: "    handler: archiveDone\n",
            with: "    handler: archiveDone\n    enabled: false\n"
        )
        #expect(disabled != original, "the sample's cron job is no longer where this test looks for it")
        try disabled.write(to: spec, atomically: true, encoding: .utf8)
        let redeployed = try environment.deploy("--no-wait")
        #expect(redeployed.status == 0, "\(redeployed.standardError)")
        #expect(redeployed.standardError.contains("todo-v1-cron-archive-done"), "\(redeployed.standardError)")
        #expect(try environment.eventObject("pingsources", "todo-v1-cron-archive-done") == nil)
        #expect(try environment.eventObject("triggers", "todo-v1-queue-imports") != nil)
    }

    @Test func aWrongTokenNamesTheUserAndTheContext() throws {
        let environment = try Environment()
        let refused = try environment.agnost("status", context: "fixture-wrong-token")
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("intruder"), "\(refused.standardError)")
        #expect(refused.standardError.contains("fixture-wrong-token"), "\(refused.standardError)")
        #expect(!refused.standardError.contains(environment.cluster.wrongToken))
    }

    @Test func aClusterWithoutKnativeServingSaysSo() throws {
        let environment = try Environment(knative: false)
        let refused = try environment.deploy()
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("Knative Serving"), "\(refused.standardError)")
        #expect(refused.standardError.contains("knative/README.md"), "\(refused.standardError)")
    }

    @Test func theDeployerNeedsNoMoreThanKnativeRBAC() throws {
        let role = SampleProject.repository.appendingPathComponent("knative/rbac.yaml").path
        let environment = try Environment(deployerRole: role)
        let deployed = try environment.deploy()
        #expect(deployed.status == 0, "\(deployed.standardError)")
        let viewer = try environment.deploy(context: "fixture-viewer")
        #expect(viewer.status == 1)
        #expect(viewer.standardError.contains("knative/rbac.yaml"), "\(viewer.standardError)")
        let deleted = try environment.agnost("delete")
        #expect(deleted.status == 0, "\(deleted.standardError)")
    }

    @Test func aDryRunChangesNothing() throws {
        let environment = try Environment()
        let dryRun = try environment.deploy("--dry-run")
        #expect(dryRun.status == 0, "\(dryRun.standardError)")
        #expect(dryRun.standardError.contains("would"), "\(dryRun.standardError)")
        #expect(
            try environment.cluster.object("services", group: "serving.knative.dev", namespace: "demo", name: "todo-v1")
                == nil
        )
        let applies = try environment.cluster.requests().filter { $0.method == "PATCH" }
        #expect(!applies.isEmpty && applies.allSatisfy { $0.path.contains("dryRun=All") }, "\(applies)")
    }

    /// `knative/todo.yaml`, the reference manifest the README points at, is what render prints today, and a real
    /// JSON-schema validator with Knative's webhook rules accepts it.
    @Test func knativeTodoYAMLIsAFreshRenderAndValid() throws {
        let reference = SampleProject.repository.appendingPathComponent("knative/todo.yaml")
        let image = try #require(
            try String(contentsOf: reference, encoding: .utf8).firstMatch(of: /agnost.dev\/image: ([^\s]+)/)
        )
        let rendered = try Commands.agnost(
            "render",
            "--path",
            SampleProject.repository.appendingPathComponent("samples/todo").path,
            "--image",
            String(image.1),
            "--namespace",
            "demo"
        )
        #expect(rendered.status == 0, "\(rendered.standardError)")
        #expect(
            rendered.standardOutput == (try String(contentsOf: reference, encoding: .utf8)),
            "knative/todo.yaml is stale: render samples/todo again (see knative/README.md)"
        )
        let validated = try Commands.run(
            "/usr/bin/env",
            [
                "python3",
                SampleProject.repository.appendingPathComponent("Tests/AgnostTestSupport/knative_validation.py").path,
                "--crds",
                SampleProject.repository.deletingLastPathComponent().appendingPathComponent("shared/knative-crds").path,
                reference.path,
            ],
            timeout: .seconds(120)
        )
        #expect(validated.status == 0, "\(validated.standardOutput)\(validated.standardError)")
    }

    /// Ctrl-C while the deploy waits leaves the cluster as it is, exits 130 and says how to check on it.
    @Test func anInterruptedWaitLeavesTheClusterAndSaysHowToCheck() throws {
        // A revision whose server never answers its readiness probe.
        let neverReady = deployWorkspace.appendingPathComponent("never-ready")
        try "#!/bin/sh\nexec sleep 600\n".write(to: neverReady, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: neverReady.path)
        let environment = try Environment(revisionCommand: neverReady.path)
        let deploy = try BackgroundProcess(
            Commands.agnostFn,
            [
                "deploy", "--path", Self.project.path, "--kubeconfig", environment.cluster.kubeconfigPath, "--context",
                "fixture", "--image", "\(environment.registry.host)/todo",
            ],
            environment: Commands.environment
        )
        _ = try deploy.waitForLine(containing: "Ready: Unknown", timeout: .seconds(900))
        kill(deploy.process.processIdentifier, SIGINT)
        let deadline = ContinuousClock.now + .seconds(10)
        while deploy.process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        #expect(!deploy.process.isRunning, "Ctrl-C must stop the wait at once")
        #expect(deploy.process.terminationStatus == 130)
        let output = deploy.output.joined(separator: "\n")
        #expect(output.contains("interrupted"), "\(output)")
        #expect(output.contains("agnost-fn status"), "\(output)")
        // The Service stays as applied.
        #expect(
            try environment.cluster.object("services", group: "serving.knative.dev", namespace: "demo", name: "todo-v1")
                != nil
        )
    }

    @Test func withoutAnImageDeployAndRenderSayHowToNameOne() throws {
        let sample = SampleProject.repository.appendingPathComponent("samples/todo").path
        for command in ["deploy", "render"] {
            let refused = try Commands.agnost(command, "--path", sample)
            #expect(refused.status == 64, "\(command): \(refused.standardError)")
            #expect(refused.standardError.contains("--image HOST/NAME"), "\(command): \(refused.standardError)")
            #expect(refused.standardError.contains("image: HOST/NAME"), "\(command): \(refused.standardError)")
        }
    }
}
