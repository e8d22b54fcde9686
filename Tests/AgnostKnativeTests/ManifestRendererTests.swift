import AgnostBundle
import AgnostKnative
import Foundation
import Testing

/// The Service and Secret of `samples/todo`, byte for byte against `Golden/`, and the properties deploy relies on.
///
/// After an intended change of the manifests, run the tests once with `AGNOST_UPDATE_GOLDEN=1` and review the diff
/// of `Golden/` like any other change.
struct ManifestRendererTests {
    static func matchesGolden(_ text: String, file: String) throws -> Bool {
        let golden = ManifestFixtures.testsFolder.appendingPathComponent("Golden/\(file)")
        if ProcessInfo.processInfo.environment["AGNOST_UPDATE_GOLDEN"] == "1" {
            try text.write(to: golden, atomically: true, encoding: .utf8)
        }
        return text == (try String(contentsOf: golden, encoding: .utf8))
    }

    @Test func todoRendersToTheGoldenYAML() throws {
        #expect(try Self.matchesGolden(try ManifestFixtures.render().yaml(), file: "todo.yaml.golden"))
    }

    @Test func todoRendersToTheGoldenJSON() throws {
        let rendered = try ManifestFixtures.render()
        let json = rendered.objects.map { String(decoding: $0.jsonBytes(), as: UTF8.self) }.joined(separator: "\n")
        #expect(try Self.matchesGolden(json + "\n", file: "todo.json.golden"))
    }

    @Test func sameInputsGiveTheSameRevisionName() throws {
        let first = try ManifestFixtures.render()
        let second = try ManifestFixtures.render()
        #expect(first == second)
        #expect(first.revisionName.hasPrefix("todo-v1-"))
        #expect(first.revisionName.count == "todo-v1-".count + 7)
        let hash = first.revisionName.dropFirst("todo-v1-".count)
        #expect(hash.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(first.service.body["spec"]?["template"]?["metadata"]?["name"]?.stringValue == first.revisionName)
    }

    /// Each of these changes what the pods run, so each must be a new revision.
    @Test(arguments: TemplateChange.allCases)
    func everyTemplateChangeGivesANewRevisionName(change: TemplateChange) throws {
        var bundle = ManifestFixtures.todoBundle
        var options = ManifestFixtures.options
        change.apply(to: &bundle, &options)
        let changed = try ManifestFixtures.render(bundle, options: options)
        #expect(changed.revisionName != (try ManifestFixtures.render().revisionName))
    }

    enum TemplateChange: CaseIterable, Sendable {
        case image, env, minScale, maxScale, target, concurrency, timeout, memory

        func apply(to bundle: inout BundleManifest, _ options: inout RenderOptions) {
            switch self {
            case .image: options.image = "localhost:5000/todo@sha256:" + String(repeating: "f", count: 64)
            case .env: bundle.env[0].value = "4"
            case .minScale: bundle.scaling.minScale = 1
            case .maxScale: bundle.scaling.maxScale = nil
            case .target: bundle.scaling.target = 50
            case .concurrency: bundle.scaling.containerConcurrency = 0
            case .timeout: bundle.scaling.timeoutMilliseconds = 31_000
            case .memory: bundle.scaling.memoryLimit = "256Mi"
            }
        }
    }

    /// What the pods do not see (the spec digest, the tag the image was pushed under, the endpoints that live in the
    /// image's bundle.json) leaves the revision as it is, so such a redeploy creates none.
    @Test func serviceMetadataChangesKeepTheRevisionName() throws {
        var bundle = ManifestFixtures.todoBundle
        bundle.specDigest = "sha256:" + String(repeating: "9", count: 64)
        bundle.endpoints.removeLast()
        var options = ManifestFixtures.options
        options.image = "localhost:5000/todo:v2@\(ManifestFixtures.digest)"
        let changed = try ManifestFixtures.render(bundle, options: options)
        #expect(changed.revisionName == (try ManifestFixtures.render().revisionName))
        #expect(changed.service.annotations["agnost.dev/image"] == "localhost:5000/todo:v2@\(ManifestFixtures.digest)")
        #expect(
            changed.service.body["spec"]?["template"]?["spec"]?["containers"]?[0]?["image"]?.stringValue
                == ManifestFixtures.pinnedImage
        )
    }

    @Test func aNewAPIKeyChangesTheSecretDigestAndTheRevision() throws {
        let before = try ManifestFixtures.render()
        var options = ManifestFixtures.options
        options.secret.apiKeys.append(
            APIKeyRecord(name: "web", sha256Hex: String(repeating: "cd", count: 32), created: "2026-12-02T00:00:00Z")
        )
        let after = try ManifestFixtures.render(options: options)
        let digest = { (rendered: RenderedVersion) in
            rendered.service.body["spec"]?["template"]?["metadata"]?["annotations"]?["agnost.dev/secret-digest"]?
                .stringValue
        }
        #expect(digest(before) != nil)
        #expect(digest(before) != digest(after))
        #expect(before.revisionName != after.revisionName)
        #expect(before.secret != after.secret)
    }

    @Test func secretValuesNeverAppearInTheService() throws {
        let rendered = try ManifestFixtures.render()
        let service = String(decoding: rendered.service.jsonBytes(), as: UTF8.self)
        #expect(!service.contains(ManifestFixtures.internalToken))
        #expect(!service.contains(String(repeating: "ab", count: 32)))
        let env = try #require(
            rendered.service.body["spec"]?["template"]?["spec"]?["containers"]?[0]?["env"]?.arrayValue
        )
        #expect(
            env.compactMap { $0["name"]?.stringValue }
                == ["SEED_TODOS", "AGNOST_BROKER_URL", "AGNOST_INTERNAL_TOKEN", "AGNOST_API_KEYS"]
        )
        for variable in env.dropFirst(2) {
            #expect(variable["value"] == nil)
            #expect(variable["valueFrom"]?["secretKeyRef"]?["name"]?.stringValue == "todo-v1")
            #expect(variable["valueFrom"]?["secretKeyRef"]?["key"] == variable["name"])
        }
    }

    @Test func printingNeverShowsTheToken() throws {
        let rendered = try ManifestFixtures.render()
        let printed = ["\(rendered)", "\(ManifestFixtures.options)", String(reflecting: rendered.secret)]
        let token = ManifestFixtures.internalToken
        let encoded = try #require(rendered.secret.body["data"]?["AGNOST_INTERNAL_TOKEN"]?.stringValue)
        for text in printed {
            #expect(!text.contains(token) && !text.contains(encoded), "\(text)")
        }
        #expect("\(rendered.secret)" == "Secret default/todo-v1")
    }

    /// The kubelet would expand `$(HOME)` and turn `$$` into `$`; the rendered value undoes both.
    @Test func envValuesStayLiteral() throws {
        var bundle = ManifestFixtures.todoBundle
        bundle.env = [EnvironmentEntry(name: "PRICE", value: "$(HOME) costs $$5 or $x")]
        let env = try ManifestFixtures.render(bundle).service.body["spec"]?["template"]?["spec"]?["containers"]?[0]?[
            "env"
        ]
        #expect(env?[0]?["value"] == "$$(HOME) costs $$$$5 or $$x")
    }

    @Test func theSecretDataRoundTrips() throws {
        let rendered = try ManifestFixtures.render()
        let data = try #require(rendered.secret.body["data"]?.objectValue)
        #expect(data.map(\.key) == ["AGNOST_API_KEYS", "AGNOST_INTERNAL_TOKEN", "api-keys.json"])
        let decoded = try Dictionary(
            uniqueKeysWithValues: data.map { member in
                let text = try #require(member.value.stringValue)
                return (member.key, [UInt8](try #require(Data(base64Encoded: text))))
            }
        )
        #expect(
            String(decoding: try #require(decoded["AGNOST_API_KEYS"]), as: UTF8.self)
                == String(repeating: "ab", count: 32)
        )
        #expect(VersionSecretData(secretData: decoded) == ManifestFixtures.secret)
        #expect(VersionSecretData(secret: rendered.secret) == ManifestFixtures.secret)
    }

    @Test func damagedSecretDataReadsTolerantly() {
        #expect(VersionSecretData(secretData: [:]) == VersionSecretData(internalToken: ""))
        let hashes = [String(repeating: "1", count: 64), String(repeating: "2", count: 64)]
        let handEdited = VersionSecretData(secretData: [
            "AGNOST_API_KEYS": Array(hashes.joined(separator: ",").utf8), "api-keys.json": Array("{not json".utf8),
        ])
        #expect(handEdited.apiKeys.map(\.sha256Hex) == hashes)
        #expect(handEdited.internalToken == "")
    }

    @Test func autoscalingAnnotationsAreOnlyOnTheTemplate() throws {
        var bundle = ManifestFixtures.todoBundle
        bundle.scaling.target = 70
        let rendered = try ManifestFixtures.render(bundle)
        #expect(!rendered.service.annotations.keys.contains { $0.hasPrefix("autoscaling.knative.dev/") })
        let template = try #require(rendered.service.body["spec"]?["template"]?["metadata"]?["annotations"])
        #expect(template["autoscaling.knative.dev/min-scale"] == "0")
        #expect(template["autoscaling.knative.dev/max-scale"] == "10")
        #expect(template["autoscaling.knative.dev/target"] == "70")
    }

    @Test func resourcesAppearOnlyWhenGivenAndTimeoutRoundsUp() throws {
        let container = { (rendered: RenderedVersion) in
            rendered.service.body["spec"]?["template"]?["spec"]?["containers"]?[0]
        }
        #expect(container(try ManifestFixtures.render())?["resources"] == nil)
        var bundle = ManifestFixtures.todoBundle
        bundle.scaling.cpuRequest = "100m"
        bundle.scaling.memoryRequest = "128Mi"
        bundle.scaling.memoryLimit = "256Mi"
        bundle.scaling.timeoutMilliseconds = 1500
        let rendered = try ManifestFixtures.render(bundle)
        #expect(
            container(rendered)?["resources"]
                == ["requests": ["cpu": "100m", "memory": "128Mi"], "limits": ["memory": "256Mi"]]
        )
        #expect(rendered.service.body["spec"]?["template"]?["spec"]?["timeoutSeconds"] == 2)
    }

    @Test func everyObjectCarriesTheVersionLabels() throws {
        let rendered = try ManifestFixtures.render()
        let labels = ManifestRenderer.labels(app: "todo", version: "v1")
        #expect(rendered.service.labels == labels)
        #expect(rendered.secret.labels == labels)
        #expect(rendered.objects.map(\.kind) == ["Secret", "Service", "PingSource", "Trigger"])
        #expect(rendered.objects.allSatisfy { $0.namespace == "default" && $0.labels == labels })
        #expect([rendered.secret, rendered.service].allSatisfy { $0.name == "todo-v1" })
        let template = rendered.service.body["spec"]?["template"]?["metadata"]?["labels"]
        #expect(template == .object(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        #expect(
            ManifestRenderer.labelSelector(app: "todo", version: "v1")
                == "app.kubernetes.io/managed-by=agnost-fn,app.kubernetes.io/name=todo,app.kubernetes.io/version=v1"
        )
        #expect(
            ManifestRenderer.labelSelector(app: "todo")
                == "app.kubernetes.io/managed-by=agnost-fn,app.kubernetes.io/name=todo"
        )
    }

    @Test func theLongestAllowedServiceNameGivesA63CharacterRevision() throws {
        var bundle = ManifestFixtures.todoBundle
        // `<service>-cron-archive-done` would be too long for a PingSource; EventManifestsTests checks that.
        bundle.cronJobs = []
        bundle.queues = []
        bundle.app = "a-rather-long-application-name-for-todo"
        bundle.version = "release-2024-11"
        #expect(bundle.serviceName.count == 55)
        #expect(try ManifestFixtures.render(bundle).revisionName.count == 63)
        bundle.version += "x"
        #expect {
            try ManifestFixtures.render(bundle)
        } throws: { error in
            (error as? ManifestError)?.code == .invalidName && "\(error)".contains("at most 55 characters")
        }
    }

    @Test(arguments: ["localhost:5000/todo:v1", "localhost:5000/todo", "Not A Reference"])
    func anImageWithoutADigestIsRefused(image: String) {
        var options = ManifestFixtures.options
        options.image = image
        #expect {
            try ManifestFixtures.render(options: options)
        } throws: { error in
            (error as? ManifestError)?.code == .invalidImage && (error as? ManifestError)?.context == "image"
        }
    }

    @Test func aBadNamespaceIsRefused() {
        var options = ManifestFixtures.options
        options.namespace = "Team_A"
        #expect {
            try ManifestFixtures.render(options: options)
        } throws: { error in
            (error as? ManifestError)?.code == .invalidName && "\(error)".hasPrefix("namespace: 'Team_A'")
        }
    }

    @Test func objectsReadBackKeepTheirIdentity() throws {
        let service = try ManifestFixtures.render().service
        let read = try KubernetesObject(body: ManifestValue(json: service.jsonBytes()))
        #expect(read == service)
        #expect(read.kind == "Service" && read.apiVersion == "serving.knative.dev/v1" && read.name == "todo-v1")
        #expect(throws: ManifestError.self) { try KubernetesObject(body: ["kind": "Status"]) }
    }

    /// Older bundle.json files, written before the resource fields existed, still decode.
    @Test func aBundleWithoutTheNewScalingFieldsDecodes() throws {
        let json = #"{"minScale":1,"maxScale":3,"containerConcurrency":10,"timeoutMilliseconds":5000}"#
        let plan = try JSONDecoder().decode(ScalingPlan.self, from: Data(json.utf8))
        #expect(plan == ScalingPlan(minScale: 1, maxScale: 3, containerConcurrency: 10, timeoutMilliseconds: 5000))
    }
}
