import AgnostHTTP
import AgnostTestSupport
import Foundation
import Testing

/// The API-server fixture answers as a real Kubernetes API server with Knative does, through AgnostHTTP's client
/// alone (not the Kubernetes client that uses it), so that the deployer's tests stand on something checked.
@Suite struct KubeAPIServerFixtureTests {
    @Test func credentialsThatAreMissingOrWrongGetAnUnauthorizedStatus() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        for auth in [Kube.Auth.anonymous, .token(cluster.wrongToken)] {
            let response = try kube.send("GET", "/api/v1/namespaces/demo/secrets", auth: auth)
            #expect(response.status == 401)
            let body = try json(response)
            #expect(body["kind"] as? String == "Status")
            #expect(body["reason"] as? String == "Unauthorized")
            #expect(body["message"] as? String == "Unauthorized")
            #expect(body["code"] as? Int == 401)
        }
    }

    @Test func aClientCertificateAuthenticatesItsCommonName() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster, clientCertificate: true)
        let response = try kube.send("GET", "/api/v1/namespaces/demo/secrets", auth: .anonymous)
        #expect(response.status == 200, "\(response.bodyText)")
        #expect(try json(response)["kind"] as? String == "SecretList")
        #expect(try cluster.requests().last?.user == "cert-user")
    }

    @Test func aViewerMayReadButNotApply() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        let viewer = Kube.Auth.token(cluster.viewerToken)
        #expect(
            try kube.send("GET", "/apis/serving.knative.dev/v1/namespaces/demo/services", auth: viewer).status == 200
        )
        let (status, body) = try kube.apply(service("hello"), auth: viewer)
        #expect(status == 403)
        #expect(
            body["message"] as? String
                == #"services.serving.knative.dev "hello" is forbidden: User "viewer" cannot patch resource "services" in API group "serving.knative.dev" in the namespace "demo""#
        )
        let details = body["details"] as? [String: Any]
        #expect(details?["name"] as? String == "hello")
        #expect(details?["group"] as? String == "serving.knative.dev")
        #expect(details?["kind"] as? String == "services")
    }

    @Test func aRoleLimitsTheDeployerAsRBACWould() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-role-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let role = folder.appendingPathComponent("role.yaml").path
        try """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: updater}
        rules:
        - apiGroups: [serving.knative.dev]
          resources: [services]
          verbs: [get, list, watch, patch]

        """.write(toFile: role, atomically: true, encoding: .utf8)
        let cluster = try KubeAPIServerFixture(deployerRole: role)
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        #expect(try kube.send("GET", "/apis/serving.knative.dev/v1/namespaces/demo/services").status == 200)
        // Apply that creates needs `create` as well as `patch`.
        let (status, body) = try kube.apply(service("hello"))
        #expect(status == 403)
        #expect((body["message"] as? String)?.contains(#"User "deployer" cannot create resource "services""#) == true)
        let (secret, _) = try kube.apply(secret("hello"), path: "/api/v1/namespaces/demo/secrets/hello")
        #expect(secret == 403)
    }

    @Test func applyNeedsAFieldManagerAndTheApplyContentType() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        let (status, body) = try kube.apply(service("hello"), manager: nil)
        #expect(status == 400)
        #expect(body["message"] as? String == "fieldManager is required for apply requests")
        let merge = try kube.send(
            "PATCH",
            "/apis/serving.knative.dev/v1/namespaces/demo/services/hello?fieldManager=agnost-fn",
            contentType: "application/merge-patch+json",
            body: try JSONSerialization.data(withJSONObject: service("hello"))
        )
        #expect(merge.status == 415)
        #expect(try json(merge)["reason"] as? String == "UnsupportedMediaType")
        #expect(try cluster.object("services", group: "serving.knative.dev", namespace: "demo", name: "hello") == nil)
    }

    @Test func applyCreatesThenUpdatesAndBumpsGenerationForSpecChangesOnly() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        let (created, first) = try kube.apply(service("hello"))
        #expect(created == 201)
        #expect(generation(first) == 1)
        let (again, second) = try kube.apply(service("hello"))
        #expect(again == 200)
        #expect(resourceVersion(second) == resourceVersion(try kube.get("hello")))
        #expect(generation(second) == 1)
        // The controller writes status in between, so compare with what is stored before the next apply.
        try waitUntilReady(kube, "hello")
        let before = try kube.get("hello")
        let (_, unchanged) = try kube.apply(service("hello"))
        #expect(resourceVersion(unchanged) == resourceVersion(before), "a no-op apply must not write")
        #expect(generation(unchanged) == 1)

        let (_, labeled) = try kube.apply(service("hello", labels: ["tier": "web"]))
        #expect(resourceVersion(labeled) != resourceVersion(before))
        #expect(generation(labeled) == 1, "a label is metadata: generation stays")

        let (_, changed) = try kube.apply(service("hello", revision: "hello-b", labels: ["tier": "web"]))
        #expect(generation(changed) == 2)
    }

    @Test func aSecondManagerConflictsUntilItForces() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        _ = try kube.apply(service("hello", labels: ["tier": "web"]))
        let mine: [String: Any] = [
            "apiVersion": "serving.knative.dev/v1", "kind": "Service",
            "metadata": ["name": "hello", "labels": ["tier": "db"]],
        ]
        let (status, body) = try kube.apply(mine, manager: "intruder-tool")
        #expect(status == 409)
        #expect(body["reason"] as? String == "Conflict")
        #expect(
            body["message"] as? String
                == #"Apply failed with 1 conflict: conflict with "agnost-fn": .metadata.labels.tier"#
        )
        let causes = (body["details"] as? [String: Any])?["causes"] as? [[String: Any]]
        #expect(causes?.first?["reason"] as? String == "FieldManagerConflict")
        #expect(causes?.first?["field"] as? String == ".metadata.labels.tier")
        #expect(causes?.first?["message"] as? String == #"conflict with "agnost-fn""#)

        let (forced, taken) = try kube.apply(mine, manager: "intruder-tool", force: true)
        #expect(forced == 200)
        #expect((metadata(taken)["labels"] as? [String: String])?["tier"] == "db")
        let managers = (metadata(taken)["managedFields"] as? [[String: Any]])?.compactMap { $0["manager"] as? String }
        #expect(managers?.contains("intruder-tool") == true)
        // The original manager, not forcing, now conflicts in turn.
        let (back, _) = try kube.apply(service("hello", labels: ["tier": "web"]))
        #expect(back == 409)
    }

    @Test func aFieldTheManagerStopsApplyingIsRemoved() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        _ = try kube.apply(service("hello", labels: ["tier": "web", "team": "a"]))
        let (_, body) = try kube.apply(service("hello", labels: ["tier": "web"]))
        #expect(metadata(body)["labels"] as? [String: String] == ["tier": "web"])
    }

    @Test func dryRunAnswersButPersistsNothing() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        let (status, body) = try kube.apply(service("hello"), query: "&dryRun=All")
        #expect(status == 201)
        #expect(metadata(body)["name"] as? String == "hello")
        #expect(try cluster.object("services", group: "serving.knative.dev", namespace: "demo", name: "hello") == nil)
        _ = try kube.apply(service("hello"))
        let (dry, answer) = try kube.apply(
            service("hello", revision: "hello-b", labels: ["tier": "web"]),
            query: "&dryRun=All"
        )
        #expect(dry == 200)
        #expect(metadata(answer)["labels"] as? [String: String] == ["tier": "web"], "it answers as if it had applied")
        #expect(generation(answer) == 2)
        let stored = try kube.get("hello")
        #expect(metadata(stored)["labels"] == nil)
        #expect(generation(stored) == 1)
    }

    @Test func unknownFieldsAreRefusedUnderStrictAndPrunedWithAWarningOtherwise() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        var manifest = service("hello")
        manifest[path: ["spec", "template", "spec", "containers", 0, "bogus"]] = 1
        let (status, body) = try kube.apply(manifest, query: "&fieldValidation=Strict")
        #expect(status == 400)
        #expect(
            body["message"] as? String
                == #"strict decoding error: unknown field "spec.template.spec.containers[0].bogus""#
        )
        let response = try kube.send(
            "PATCH",
            "/apis/serving.knative.dev/v1/namespaces/demo/services/hello?fieldManager=agnost-fn",
            contentType: "application/apply-patch+yaml",
            body: try JSONSerialization.data(withJSONObject: manifest)
        )
        #expect(response.status == 201)
        #expect(
            response.header("Warning")?.contains(#"unknown field \"spec.template.spec.containers[0].bogus\""#) == true
        )
        let stored = try kube.get("hello")
        #expect((stored[path: ["spec", "template", "spec", "containers", 0]] as? [String: Any])?["bogus"] == nil)
    }

    @Test func aSchemaViolationIsInvalidWithTheFieldPath() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        var manifest = service("hello")
        manifest[path: ["spec", "template", "spec", "containers", 0, "resources"]] = ["limits": ["memory": "lots"]]
        let (status, body) = try kube.apply(manifest)
        #expect(status == 422)
        #expect(body["reason"] as? String == "Invalid")
        #expect((body["message"] as? String)?.hasPrefix(#"Service.serving.knative.dev "hello" is invalid: "#) == true)
        let causes = (body["details"] as? [String: Any])?["causes"] as? [[String: Any]]
        #expect(causes?.first?["field"] as? String == "spec.template.spec.containers[0].resources.limits.memory")
        #expect((causes?.first?["message"] as? String)?.hasPrefix(#"Invalid value: "lots""#) == true)
    }

    @Test func knativesWebhookDeniesWhatItRefuses() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        var manifest = service("hello")
        manifest[path: ["spec", "template", "spec", "containerConcurrency"]] = 1001
        let (status, body) = try kube.apply(manifest)
        #expect(status == 400)
        #expect(
            body["message"] as? String
                == #"admission webhook "validation.webhook.serving.knative.dev" denied the request: validation failed: expected 0 <= 1001 <= 1000: spec.template.spec.containerConcurrency"#
        )
        // A changed template under the same revision name is refused too, as Knative's VerifyNameChange does.
        _ = try kube.apply(service("hello"))
        var changed = service("hello")
        changed[path: ["spec", "template", "spec", "timeoutSeconds"]] = 30
        let (sameName, denial) = try kube.apply(changed)
        #expect(sameName == 400)
        #expect((denial["message"] as? String)?.contains("Saw the following changes without a name change") == true)
    }

    @Test func aWatchSeesReadyUnknownThenTrue() async throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        let (_, created) = try kube.apply(service("hello"))
        let events = try await kube.watch(
            "/apis/serving.knative.dev/v1/namespaces/demo/services?watch=true&fieldSelector=metadata.name%3Dhello"
                + "&resourceVersion=\(resourceVersion(created))&timeoutSeconds=4"
        )
        let readiness = events.compactMap { event -> String? in
            let conditions = (event.object["status"] as? [String: Any])?["conditions"] as? [[String: Any]]
            return conditions?.first { $0["type"] as? String == "Ready" }?["status"] as? String
        }
        #expect(readiness == ["Unknown", "True"], "\(events.map(\.type))")
        #expect(events.allSatisfy { $0.type == "MODIFIED" })
        let status = events.last?.object["status"] as? [String: Any]
        #expect(status?["url"] as? String == "http://hello.demo.example.com")
        #expect(status?["latestReadyRevisionName"] as? String == "hello-a")
        #expect(status?["observedGeneration"] as? Int == 1)
        let traffic = status?["traffic"] as? [[String: Any]]
        #expect(traffic?.first?["revisionName"] as? String == "hello-a")
        #expect(traffic?.first?["percent"] as? Int == 100)
    }

    @Test func aDroppedWatchEndsTheStreamAtOnce() async throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        let watch = Task { try await kube.watch("/api/v1/namespaces/demo/secrets?watch=true&timeoutSeconds=180").count }
        // The server logs a watch as it opens the stream.
        let deadline = ContinuousClock.now + .seconds(15)
        while try !cluster.requests().contains(where: { $0.path.contains("watch=true") }),
            ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        let dropped = ContinuousClock.now
        try cluster.dropWatches()
        await #expect(throws: HTTPClientError.self) { try await watch.value }
        // A loaded CI machine took 9.6 s here once; the margin to the 180 s timeout keeps the test about dropping.
        #expect(ContinuousClock.now - dropped < .seconds(60), "the stream must end when dropped, not at its timeout")
    }

    @Test func aResourceVersionPastTheHistoryIsGone() async throws {
        let cluster = try KubeAPIServerFixture(watchHistory: 2)
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        var first = ""
        for index in 0..<4 {
            let (_, body) = try kube.apply(secret("s\(index)"), path: "/api/v1/namespaces/demo/secrets/s\(index)")
            if index == 0 { first = resourceVersion(body) }
        }
        let events = try await kube.watch("/api/v1/namespaces/demo/secrets?watch=true&resourceVersion=\(first)")
        #expect(events.map(\.type) == ["ERROR"])
        #expect(events.first?.object["code"] as? Int == 410)
        #expect(events.first?.object["reason"] as? String == "Expired")
    }

    @Test func withoutKnativeTheServiceResourceIsNotFound() throws {
        let cluster = try KubeAPIServerFixture(knative: false)
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        let response = try kube.send("GET", "/apis/serving.knative.dev/v1/namespaces/demo/services/hello")
        #expect(response.status == 404)
        let body = try json(response)
        #expect(body["message"] as? String == "the server could not find the requested resource")
        #expect((body["details"] as? [String: Any])?["name"] == nil)
        let groups = try json(try kube.send("GET", "/apis"))["groups"] as? [[String: Any]]
        #expect(groups?.isEmpty == true)
        #expect(try kube.send("GET", "/api/v1/namespaces/demo/secrets").status == 200)
    }

    @Test func theControllerReportsAFailedRevisionWhenAsked() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        try cluster.failNextRevision(reason: "RevisionFailed", message: "Back-off pulling image: ImagePullBackOff")
        _ = try kube.apply(service("hello"))
        let status = try waitForReady(kube, "hello", until: "False")
        let conditions = status["conditions"] as? [[String: Any]] ?? []
        let ready = conditions.first { $0["type"] as? String == "Ready" }
        #expect(ready?["reason"] as? String == "RevisionFailed")
        #expect(ready?["message"] as? String == "Back-off pulling image: ImagePullBackOff")
        #expect(conditions.first { $0["type"] as? String == "ConfigurationsReady" }?["status"] as? String == "False")
        #expect(status["latestReadyRevisionName"] == nil)
    }

    @Test func aMissingSecretFailsTheRevisionAsTheKubeletWould() throws {
        let scripts = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-echo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scripts) }
        let cluster = try KubeAPIServerFixture(bundleCommand: try echoServer(in: scripts))
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        _ = try kube.apply(service("hello", secretEnv: true))
        let status = try waitForReady(kube, "hello", until: "False")
        let ready = (status["conditions"] as? [[String: Any]])?.first { $0["type"] as? String == "Ready" }
        #expect(ready?["reason"] as? String == "RevisionFailed")
        #expect(ready?["message"] as? String == #"Revision "hello-a" failed with message: secret "hello" not found."#)
        let revision = try json(try kube.send("GET", "/apis/serving.knative.dev/v1/namespaces/demo/revisions/hello-a"))
        let conditions = (revision["status"] as? [String: Any])?["conditions"] as? [[String: Any]]
        let healthy = conditions?.first { $0["type"] as? String == "ContainerHealthy" }
        #expect(healthy?["reason"] as? String == "CreateContainerConfigError")
    }

    @Test(.timeLimit(.minutes(2))) func statusURLReachesTheRevisionsThroughTheTrafficSplit() throws {
        let scripts = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-echo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scripts) }
        let echo = try echoServer(in: scripts)
        let cluster = try KubeAPIServerFixture(bundleCommand: echo)
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        _ = try kube.apply(secret("hello"), path: "/api/v1/namespaces/demo/secrets/hello")
        _ = try kube.apply(service("hello", revision: "hello-a", secretEnv: true))
        let first = try waitForReady(kube, "hello", until: "True")
        let url = try #require(first["url"] as? String)
        #expect(url.hasPrefix("http://127.0.0.1:"))
        let client = try HTTPClient()
        let answer = try json(
            try client.send(HTTPClientRequest(url: url + "/env", headers: [("Host", "hello.demo.example.com")]))
        )
        let environment = answer["env"] as? [String: String]
        #expect(environment?["K_SERVICE"] == "hello")
        #expect(environment?["K_REVISION"] == "hello-a")
        #expect(environment?["K_CONFIGURATION"] == "hello")
        #expect(environment?["AGNOST_HOST"] == "127.0.0.1")
        #expect(environment?["GREETING"] == "hi")
        #expect(environment?["TOKEN"] == "s3cret", "valueFrom.secretKeyRef resolves from the stored Secret")
        #expect(try cluster.proxy(namespace: "demo", service: "hello")?.lastHost == "hello.demo.example.com")

        var split = service("hello", revision: "hello-b", secretEnv: true)
        split[path: ["spec", "traffic"]] = [
            ["revisionName": "hello-a", "percent": 50], ["revisionName": "hello-b", "percent": 50],
        ]
        _ = try kube.apply(split)
        let second = try waitForReady(kube, "hello", until: "True", generation: 2)
        #expect((second["traffic"] as? [[String: Any]])?.compactMap { $0["percent"] as? Int } == [50, 50])
        var seen = Set<String>()
        for _ in 0..<40 where seen.count < 2 {
            let env = try json(try client.send(HTTPClientRequest(url: url + "/env")))["env"] as? [String: String]
            if let revision = env?["K_REVISION"] { seen.insert(revision) }
        }
        #expect(seen == ["hello-a", "hello-b"])

        // Deleting the Service collects its revisions and stops their processes.
        let ports = try #require(try cluster.proxy(namespace: "demo", service: "hello")?.ports)
        #expect(ports.count == 2)
        let deleted = try kube.send("DELETE", "/apis/serving.knative.dev/v1/namespaces/demo/services/hello")
        #expect(deleted.status == 200)
        #expect(try json(deleted)["kind"] as? String == "Service")
        let revisions = try json(try kube.send("GET", "/apis/serving.knative.dev/v1/namespaces/demo/revisions"))
        #expect((revisions["items"] as? [Any])?.isEmpty == true)
        for port in ports {
            #expect(throws: HTTPClientError.self) {
                try HTTPClient().send(
                    HTTPClientRequest(url: "http://127.0.0.1:\(port)/agnost/ready", timeout: .seconds(2))
                )
            }
        }
        let again = try kube.send("DELETE", "/apis/serving.knative.dev/v1/namespaces/demo/services/hello")
        #expect(again.status == 404)
        let details = try json(again)["details"] as? [String: Any]
        #expect(details?["name"] as? String == "hello")
        #expect(details?["kind"] as? String == "services")
    }

    @Test func theRequestLogRecordsWhatClientsSent() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        _ = try kube.apply(service("hello"), query: "&force=true")
        let apply = try #require(try cluster.requests().last)
        #expect(apply.method == "PATCH")
        #expect(
            apply.path
                == "/apis/serving.knative.dev/v1/namespaces/demo/services/hello?fieldManager=agnost-fn&force=true"
        )
        #expect(apply.contentType == "application/apply-patch+yaml")
        #expect(apply.user == "deployer")
        #expect(apply.status == 201)
    }
}

// MARK: - Eventing

@Suite struct KubeAPIServerFixtureEventingTests {
    static let brokerPath = "/apis/eventing.knative.dev/v1/namespaces/demo/brokers/default"

    /// Brokers are applied like any object; their status comes from the hook alone, as from Eventing's controller.
    @Test func aBrokerIsAppliedAndItsStatusWrittenByTheHook() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        let missing = try kube.send("GET", Self.brokerPath)
        #expect(missing.status == 404)
        #expect((try json(missing)["details"] as? [String: Any])?["name"] as? String == "default")
        try cluster.addBroker()
        let ready = try json(try kube.send("GET", Self.brokerPath))
        let status = try #require(ready["status"] as? [String: Any])
        #expect(
            (status["address"] as? [String: Any])?["url"] as? String
                == "http://broker-ingress.knative-eventing.svc.cluster.local/demo/default"
        )
        #expect((status["conditions"] as? [[String: Any]])?.first?["status"] as? String == "True")
        try cluster.setBrokerStatus(ready: "False", reason: "Unhealthy", message: "no channel")
        let failed = try json(try kube.send("GET", Self.brokerPath))
        let condition = ((failed["status"] as? [String: Any])?["conditions"] as? [[String: Any]])?.first
        #expect(condition?["reason"] as? String == "Unhealthy")
        #expect((failed["status"] as? [String: Any])?["address"] == nil)
        #expect(
            (failed["metadata"] as? [String: Any])?["resourceVersion"] as? String
                != (ready["metadata"] as? [String: Any])?["resourceVersion"] as? String
        )
        // An apply never writes status, as the status subresource keeps it apart.
        let (code, applied) = try kube.apply(
            [
                "apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                "metadata": ["name": "default", "namespace": "demo"],
                "status": ["address": ["url": "http://elsewhere"]],
            ],
            path: Self.brokerPath
        )
        #expect(code == 200, "\(applied)")
        #expect(((applied["status"] as? [String: Any])?["address"]) == nil)
    }

    @Test func aClusterWithServingAloneHasNoEventingResources() throws {
        let cluster = try KubeAPIServerFixture(eventing: false)
        defer { cluster.stop() }
        let kube = try Kube(cluster)
        let broker = try kube.send("GET", Self.brokerPath)
        #expect(broker.status == 404)
        #expect((try json(broker)["details"] as? [String: Any])?["name"] == nil, "the type is missing, not the object")
        #expect(try kube.send("GET", "/apis/sources.knative.dev/v1/namespaces/demo/pingsources").status == 404)
        #expect(try kube.send("GET", "/apis/eventing.knative.dev/v1").status == 404)
        #expect(try kube.send("GET", "/apis/serving.knative.dev/v1/namespaces/demo/services").status == 200)
    }
}

// MARK: - Helpers

/// Requests to the fixture as user `deployer` (or with the client certificate), over AgnostHTTP.
private struct Kube: Sendable {
    let cluster: KubeAPIServerFixture
    let configuration: HTTPClient.Configuration
    let useToken: Bool

    init(_ cluster: KubeAPIServerFixture, clientCertificate: Bool = false) throws {
        self.cluster = cluster
        var tls = HTTPClient.TLS(trustedCertificates: .file(cluster.caPath))
        if clientCertificate {
            tls.clientCertificate = .file(cluster.clientCertificatePath)
            tls.clientKey = .file(cluster.clientKeyPath)
        }
        configuration = HTTPClient.Configuration(tls: tls)
        useToken = !clientCertificate
    }

    /// Which bearer token a request carries.
    enum Auth {
        /// The deployer's, unless this client authenticates with its certificate.
        case deployer
        case token(String)
        /// None.
        case anonymous
    }

    func send(
        _ method: String,
        _ path: String,
        auth: Auth = .deployer,
        contentType: String? = nil,
        body: Data? = nil
    ) throws -> HTTPClientResponse {
        var headers: [(name: String, value: String)] = []
        switch auth {
        case .deployer where useToken: headers.append(("Authorization", "Bearer \(cluster.deployerToken)"))
        case .token(let token): headers.append(("Authorization", "Bearer \(token)"))
        case .deployer, .anonymous: break
        }
        if let contentType { headers.append(("Content-Type", contentType)) }
        let client = try HTTPClient(configuration: configuration)
        return try client.send(
            HTTPClientRequest(method: method, url: cluster.server + path, headers: headers, body: body.map(Array.init))
        )
    }

    func apply(
        _ object: [String: Any],
        path: String? = nil,
        manager: String? = "agnost-fn",
        force: Bool = false,
        query: String = "",
        auth: Auth = .deployer
    ) throws -> (Int, [String: Any]) {
        let name = (object["metadata"] as? [String: Any])?["name"] as? String ?? ""
        var url = path ?? "/apis/serving.knative.dev/v1/namespaces/demo/services/\(name)"
        url += "?" + (manager.map { "fieldManager=\($0)" } ?? "") + (force ? "&force=true" : "") + query
        let response = try send(
            "PATCH",
            url,
            auth: auth,
            contentType: "application/apply-patch+yaml",
            body: try JSONSerialization.data(withJSONObject: object)
        )
        return (response.status, try json(response))
    }

    func get(_ service: String) throws -> [String: Any] {
        try json(try send("GET", "/apis/serving.knative.dev/v1/namespaces/demo/services/\(service)"))
    }

    struct Event {
        let type: String
        let object: [String: Any]
    }

    /// The events of a watch, read until the server ends it.
    func watch(_ path: String) async throws -> [Event] {
        let client = try HTTPClient(configuration: configuration)
        let buffer = LockedData()
        let response = try await client.execute(
            HTTPClientRequest(
                url: cluster.server + path,
                headers: [("Authorization", "Bearer \(cluster.deployerToken)")],
                timeout: .seconds(30)
            ),
            successfulBody: { bytes in
                buffer.append(Data(bytes))
                return true
            }
        )
        #expect(response.status == 200, "\(response.bodyText)")
        return try String(decoding: buffer.contents, as: UTF8.self).split(separator: "\n").map { line in
            let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return Event(type: event["type"] as? String ?? "", object: event["object"] as? [String: Any] ?? [:])
        }
    }
}

/// A Service as the deployer renders one, small.
private func service(
    _ name: String,
    revision: String? = nil,
    labels: [String: String]? = nil,
    secretEnv: Bool = false
) -> [String: Any] {
    var env: [[String: Any]] = [["name": "GREETING", "value": "hi"]]
    if secretEnv { env.append(["name": "TOKEN", "valueFrom": ["secretKeyRef": ["name": name, "key": "token"]]]) }
    var metadata: [String: Any] = ["name": name]
    if let labels { metadata["labels"] = labels }
    return [
        "apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": metadata,
        "spec": [
            "template": [
                "metadata": [
                    "name": revision ?? "\(name)-a", "annotations": ["autoscaling.knative.dev/max-scale": "3"],
                ],
                "spec": [
                    "containers": [
                        [
                            "image": "127.0.0.1:5000/hello@sha256:" + String(repeating: "ab", count: 32),
                            "ports": [["containerPort": 8080, "name": "http1"]], "env": env,
                            "readinessProbe": ["httpGet": ["path": "/agnost/ready"]],
                        ]
                    ]
                ],
            ]
        ],
    ]
}

private func secret(_ name: String) -> [String: Any] {
    ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": name], "stringData": ["token": "s3cret"]]
}

/// A bundle stand-in for the controller to start: it answers `/agnost/ready` and echoes its environment.
private func echoServer(in folder: URL) throws -> String {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let path = folder.appendingPathComponent("echo.py").path
    try """
    #!/usr/bin/env python3
    import json, os
    from http.server import BaseHTTPRequestHandler, HTTPServer
    class Echo(BaseHTTPRequestHandler):
        def log_message(self, *arguments):
            pass
        def do_GET(self):
            body = json.dumps({"path": self.path, "env": dict(os.environ)}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    HTTPServer((os.environ["AGNOST_HOST"], int(os.environ["PORT"])), Echo).serve_forever()

    """.write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    return path
}

private func waitUntilReady(_ kube: Kube, _ name: String) throws {
    _ = try waitForReady(kube, name, until: "True")
}

/// The Service's status once Ready is `until` for the current generation, within 20 s.
private func waitForReady(
    _ kube: Kube,
    _ name: String,
    until wanted: String,
    generation: Int = 1
) throws -> [String: Any] {
    let deadline = ContinuousClock.now + .seconds(20)
    while ContinuousClock.now < deadline {
        let object = try kube.get(name)
        let status = object["status"] as? [String: Any] ?? [:]
        let conditions = status["conditions"] as? [[String: Any]] ?? []
        let ready = conditions.first { $0["type"] as? String == "Ready" }?["status"] as? String
        if status["observedGeneration"] as? Int == generation, ready == wanted { return status }
        usleep(50_000)
    }
    throw FixtureFailure("Service \(name) did not become Ready=\(wanted) at generation \(generation) within 20 s")
}

private func json(_ response: HTTPClientResponse) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
        throw FixtureFailure("not a JSON object: \(response.bodyText)")
    }
    return object
}

private func metadata(_ object: [String: Any]) -> [String: Any] { object["metadata"] as? [String: Any] ?? [:] }

private func generation(_ object: [String: Any]) -> Int? { metadata(object)["generation"] as? Int }

private func resourceVersion(_ object: [String: Any]) -> String { metadata(object)["resourceVersion"] as? String ?? "" }

extension Dictionary where Key == String, Value == Any {
    /// The value at a path of keys and list indices, which setting creates along the way.
    subscript(path path: [Any]) -> Any? {
        get { Self.value(self, path[...]) }
        set {
            var root: Any = self
            Self.set(&root, path[...], newValue)
            self = root as? [String: Any] ?? self
        }
    }

    private static func value(_ node: Any, _ path: ArraySlice<Any>) -> Any? {
        guard let first = path.first else { return node }
        if let key = first as? String, let map = node as? [String: Any], let next = map[key] {
            return value(next, path.dropFirst())
        }
        if let index = first as? Int, let list = node as? [Any], list.indices.contains(index) {
            return value(list[index], path.dropFirst())
        }
        return nil
    }

    private static func set(_ node: inout Any, _ path: ArraySlice<Any>, _ newValue: Any?) {
        guard let first = path.first else {
            node = newValue as Any
            return
        }
        if let key = first as? String {
            var map = node as? [String: Any] ?? [:]
            var child: Any = map[key] ?? [String: Any]()
            if path.count == 1 {
                map[key] = newValue
            } else {
                set(&child, path.dropFirst(), newValue)
                map[key] = child
            }
            node = map
        } else if let index = first as? Int, var list = node as? [Any], list.indices.contains(index) {
            var child = list[index]
            set(&child, path.dropFirst(), newValue)
            list[index] = child
            node = list
        }
    }
}
