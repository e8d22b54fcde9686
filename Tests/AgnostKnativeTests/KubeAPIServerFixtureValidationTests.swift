import AgnostTestSupport
import Foundation
import Testing

/// `knative_validation.py` accepts what a real API server with Knative's webhooks accepts and refuses, at the right
/// field, what it refuses: the CRD schemas through `jsonschema`, unknown fields as `fieldValidation=Strict`, and the
/// webhook rules that bite.
@Suite struct KubeAPIServerFixtureValidationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        /// The field the problem is reported at.
        let path: String
        /// A part of the message.
        let message: String
        let object: @Sendable () -> [String: Any]

        var testDescription: String { name }
    }

    static let refused: [Case] = [
        Case(
            name: "port name",
            path: "spec.template.spec.containers[0].ports[0]",
            message: "Port name http is not allowed"
        ) {
            restricted { $0[path: Container.port + ["name"]] = "http" }
        },
        Case(
            name: "reserved port",
            path: "spec.template.spec.containers[0].ports[0].containerPort",
            message: "8013 is a reserved port"
        ) {
            restricted { $0[path: Container.port + ["containerPort"]] = 8013 }
        },
        Case(
            name: "two ports",
            path: "spec.template.spec.containers[0].ports",
            message: "more than one container port is set"
        ) {
            restricted {
                $0[path: Container.path + ["ports"]] = [
                    ["containerPort": 8080, "name": "http1"], ["containerPort": 8081],
                ]
            }
        },
        Case(
            name: "reserved env PORT",
            path: "spec.template.spec.containers[0].env[1].name",
            message: #""PORT" is a reserved environment variable"#
        ) {
            restricted {
                $0[path: Container.path + ["env"]] = [["name": "A", "value": "b"], ["name": "PORT", "value": "1"]]
            }
        },
        Case(
            name: "reserved env K_REVISION",
            path: "spec.template.spec.containers[0].env[0].name",
            message: #""K_REVISION" is a reserved"#
        ) {
            restricted { $0[path: Container.path + ["env"]] = [["name": "K_REVISION", "value": "x"]] }
        },
        Case(
            name: "concurrency over 1000",
            path: "spec.template.spec.containerConcurrency",
            message: "expected 0 <= 1001 <= 1000"
        ) {
            restricted { $0[path: ["spec", "template", "spec", "containerConcurrency"]] = 1001 }
        },
        Case(
            name: "negative concurrency",
            path: "spec.template.spec.containerConcurrency",
            message: "expected 0 <= -1 <= 1000"
        ) {
            restricted { $0[path: ["spec", "template", "spec", "containerConcurrency"]] = -1 }
        },
        Case(name: "timeout over 600", path: "spec.template.spec.timeoutSeconds", message: "expected 0 <= 601 <= 600") {
            restricted { $0[path: ["spec", "template", "spec", "timeoutSeconds"]] = 601 }
        },
        Case(name: "revision prefix", path: "spec.template.metadata.name", message: #"must have prefix "todo-v1-""#) {
            restricted { $0[path: ["spec", "template", "metadata", "name"]] = "other-abc" }
        },
        Case(
            name: "revision length",
            path: "spec.template.metadata.name",
            message: "must be no more than 63 characters"
        ) {
            restricted {
                $0[path: ["spec", "template", "metadata", "name"]] = "todo-v1-" + String(repeating: "a", count: 56)
            }
        },
        Case(
            name: "autoscaling on the Service",
            path: "metadata.annotations",
            message: "autoscaling annotations must be put under"
        ) {
            restricted { $0[path: ["metadata", "annotations"]] = ["autoscaling.knative.dev/min-scale": "1"] }
        },
        Case(
            name: "min over max",
            path: "spec.template.metadata.annotations.autoscaling.knative.dev/max-scale",
            message: "max-scale=2 is less than min-scale=3"
        ) {
            restricted {
                $0[path: ["spec", "template", "metadata", "annotations"]] = [
                    "autoscaling.knative.dev/min-scale": "3", "autoscaling.knative.dev/max-scale": "2",
                ]
            }
        },
        Case(
            name: "min-scale not an integer",
            path: "spec.template.metadata.annotations.autoscaling.knative.dev/min-scale",
            message: "invalid value: two"
        ) {
            restricted {
                $0[path: ["spec", "template", "metadata", "annotations"]] = ["autoscaling.knative.dev/min-scale": "two"]
            }
        },
        Case(name: "no image", path: "spec.template.spec.containers[0].image", message: "missing field(s)") {
            restricted { $0[path: Container.path + ["image"]] = nil }
        },
        Case(
            name: "probe port",
            path: "spec.template.spec.containers[0].readinessProbe.httpGet.port",
            message: "Probe port must match container port"
        ) {
            restricted { $0[path: Container.path + ["readinessProbe", "httpGet", "port"]] = "admin" }
        },
        Case(
            name: "privileged",
            path: "spec.template.spec.containers[0].securityContext.privileged",
            message: "must not set the field(s)"
        ) {
            restricted { $0[path: Container.path + ["securityContext", "privileged"]] = true }
        },
        Case(
            name: "added capability",
            path: "spec.template.spec.containers[0].securityContext.capabilities.add",
            message: "must not set the field(s)"
        ) {
            restricted { $0[path: Container.path + ["securityContext", "capabilities", "add"]] = ["NET_ADMIN"] }
        },
        Case(
            name: "pod security context",
            path: "spec.template.spec.securityContext",
            message: "must not set the field(s)"
        ) {
            restricted { $0[path: ["spec", "template", "spec", "securityContext"]] = ["runAsNonRoot": true] }
        },
        Case(name: "traffic sum", path: "spec.traffic", message: "Traffic targets sum to 90, want 100") {
            restricted { $0[path: ["spec", "traffic"]] = [["latestRevision": true, "percent": 90]] }
        },
        Case(name: "traffic tag", path: "spec.traffic[0].tag", message: "not a DNS 1035 label") {
            restricted {
                $0[path: ["spec", "traffic"]] = [["latestRevision": true, "percent": 100, "tag": "Bad_Tag"]]
            }
        },
        Case(name: "traffic pin", path: "spec.traffic[0].latestRevision", message: "may not set revisionName") {
            restricted {
                $0[path: ["spec", "traffic"]] = [["latestRevision": true, "revisionName": "todo-v1-a", "percent": 100]]
            }
        },
        Case(name: "unknown field", path: "spec.template.spec.containers[0].bogus", message: "unknown field") {
            restricted { $0[path: Container.path + ["bogus"]] = 1 }
        },
        Case(name: "wrong type", path: "spec.template.spec.containerConcurrency", message: "must be of type integer") {
            restricted { $0[path: ["spec", "template", "spec", "containerConcurrency"]] = "many" }
        },
        Case(name: "Service name", path: "metadata.name", message: "RFC 1123 subdomain") {
            restricted { $0[path: ["metadata", "name"]] = "Todo" }
        },
        Case(name: "label value", path: "metadata.labels", message: "a valid label must be") {
            restricted { $0[path: ["metadata", "labels"]] = ["app.kubernetes.io/version": "v 1"] }
        },
        Case(name: "Secret base64", path: "data[token]", message: "illegal base64") {
            ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"], "data": ["token": "not base64!"]]
        },
        Case(name: "Secret key", path: "data[a b]", message: "a valid config key") {
            ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"], "data": ["a b": "eA=="]]
        },
        Case(name: "Secret unknown field", path: "spec", message: "unknown field") {
            ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"], "spec": [:] as [String: Any]]
        },
        Case(name: "PingSource schedule", path: "spec.schedule", message: "invalid value") {
            pingSource { $0[path: ["spec", "schedule"]] = "every minute" }
        },
        Case(name: "PingSource sink", path: "spec.sink", message: "expected at least one, got none") {
            pingSource { $0[path: ["spec", "sink"]] = nil }
        },
        Case(name: "PingSource @every", path: "spec.schedule", message: "unsupported descriptor @every") {
            pingSource { $0[path: ["spec", "schedule"]] = "@every 1m" }
        },
        Case(name: "PingSource time zone", path: "spec.timezone", message: "provided bad location") {
            pingSource { $0[path: ["spec", "timezone"]] = "Mars/Olympus" }
        },
        Case(name: "relative sink URI", path: "spec.sink.uri", message: "Relative URI is not allowed") {
            pingSource { $0[path: ["spec", "sink"]] = ["uri": "/events"] }
        },
        Case(name: "Trigger attribute", path: "spec.filter.attributes[Type]", message: #"invalid key name "Type""#) {
            trigger { $0[path: ["spec", "filter", "attributes"]] = ["Type": "order.created"] }
        },
        Case(name: "Trigger broker", path: "spec.broker", message: "missing field(s)") {
            trigger { $0[path: ["spec", "broker"]] = nil }
        },
        // robfig/cron knows day-of-week 0-6 only: 7, which other crons read as Sunday, does not parse.
        Case(name: "PingSource day-of-week 7", path: "spec.schedule", message: "does not parse") {
            pingSource { $0[path: ["spec", "schedule"]] = "0 9 * * 5-7" }
        },
        Case(name: "PingSource extension name", path: "spec.ceOverrides.extensions", message: "invalid key name") {
            pingSource { $0[path: ["spec", "ceOverrides"]] = ["extensions": ["agnost_token": "x"]] }
        },
        Case(name: "Trigger negative retry", path: "spec.delivery.retry", message: "invalid value: -1") {
            trigger { $0[path: ["spec", "delivery"]] = ["retry": -1] }
        },
        Case(name: "Trigger fractional retry", path: "spec.delivery.retry", message: "must be of type integer") {
            trigger { $0[path: ["spec", "delivery"]] = ["retry": 1.5] }
        },
        Case(name: "Trigger backoff policy", path: "spec.delivery.backoffPolicy", message: "invalid value: quadratic") {
            trigger { $0[path: ["spec", "delivery"]] = ["backoffPolicy": "quadratic"] }
        },
        Case(name: "Trigger backoff delay", path: "spec.delivery.backoffDelay", message: "invalid value: 1s") {
            trigger { $0[path: ["spec", "delivery"]] = ["backoffDelay": "1s"] }
        },
        Case(name: "Trigger delivery timeout", path: "spec.delivery.timeout", message: "must not set the field(s)") {
            trigger { $0[path: ["spec", "delivery"]] = ["timeout": "PT5S"] }
        },
        Case(name: "dead-letter sink", path: "spec.delivery.deadLetterSink", message: "Relative URI is not allowed") {
            trigger { $0[path: ["spec", "delivery"]] = ["deadLetterSink": ["uri": "/agnost/queue/failed"]] }
        },
        Case(name: "Broker config", path: "spec.config.apiVersion", message: "missing field(s)") {
            [
                "apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "metadata": ["name": "default"],
                "spec": ["config": ["kind": "RabbitmqBrokerConfig", "name": "rabbit"]],
            ]
        },
        Case(name: "Broker delivery", path: "spec.delivery.backoffPolicy", message: "invalid value") {
            [
                "apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "metadata": ["name": "default"],
                "spec": ["delivery": ["backoffPolicy": "sometimes"]],
            ]
        },
    ]

    static let accepted: [Case] = [
        Case(name: "restricted Service", path: "", message: "") { restricted { _ in } },
        Case(name: "unprivileged and ALL dropped, no name", path: "", message: "") {
            restricted {
                $0[path: Container.path + ["securityContext", "privileged"]] = false
                $0[path: ["spec", "template", "metadata", "name"]] = nil
                $0[path: ["spec", "template", "spec", "timeoutSeconds"]] = 0
                $0[path: ["spec", "template", "spec", "containerConcurrency"]] = 0
            }
        },
        Case(name: "traffic split with tags", path: "", message: "") {
            restricted {
                $0[path: ["spec", "traffic"]] = [
                    ["revisionName": "todo-v1-a", "percent": 30, "tag": "old"],
                    ["latestRevision": true, "percent": 70],
                ]
            }
        },
        Case(name: "Secret", path: "", message: "") {
            [
                "apiVersion": "v1", "kind": "Secret", "metadata": ["name": "todo-v1"], "type": "Opaque",
                "data": ["token": "czNjcmV0"], "stringData": ["hash": "x"], "immutable": false,
            ]
        },
        Case(name: "PingSource", path: "", message: "") { pingSource { _ in } },
        Case(name: "PingSource with seconds", path: "", message: "") {
            pingSource { $0[path: ["spec", "schedule"]] = "30 0 3 * * MON-FRI" }
        },
        Case(name: "Trigger with brokerRef", path: "", message: "") {
            trigger {
                $0[path: ["spec", "broker"]] = nil
                $0[path: ["spec", "brokerRef"]] = ["name": "default"]
            }
        },
        Case(name: "Trigger", path: "", message: "") { trigger { _ in } },
        Case(name: "PingSource on Sundays, ceOverrides", path: "", message: "") {
            pingSource {
                $0[path: ["spec", "schedule"]] = "0 9 * * 0,6"
                $0[path: ["spec", "ceOverrides"]] = ["extensions": ["agnostservice": "todo-v1", "agnosttoken": "ab12"]]
            }
        },
        Case(name: "Trigger with delivery", path: "", message: "") {
            trigger {
                $0[path: ["spec", "delivery"]] = [
                    "retry": 0, "backoffPolicy": "linear", "backoffDelay": "PT0.5S",
                    "deadLetterSink": [
                        "ref": ["apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "todo-v1"],
                        "uri": "/agnost/queue/failed",
                    ],
                ]
            }
        },
        Case(name: "RabbitMQ Broker", path: "", message: "") {
            [
                "apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                "metadata": [
                    "name": "default", "annotations": ["eventing.knative.dev/broker.class": "RabbitMQBroker"],
                ],
                "spec": [
                    "config": [
                        "apiVersion": "eventing.knative.dev/v1alpha1", "kind": "RabbitmqBrokerConfig", "name": "rabbit",
                    ],
                    "delivery": ["retry": 5, "backoffPolicy": "exponential", "backoffDelay": "PT0.2S"],
                ],
            ]
        },
    ]

    @Test(arguments: refused) func refusesAtTheField(_ refused: Case) throws {
        let output = try validate([refused.object()], expecting: 1)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(
            lines.contains { $0.contains(": \(refused.path)") && $0.contains(refused.message) },
            "no line at \(refused.path) saying \(refused.message): \(output)"
        )
    }

    @Test func acceptsWhatARealServerAccepts() throws {
        let output = try validate(Self.accepted.map { $0.object() }, expecting: 0)
        #expect(output.isEmpty, "\(output)")
    }

    @Test func badArgumentsExitWithTwoAndSaySo() throws {
        let (status, output) = try Tool.run(
            "/usr/bin/env",
            ["python3", Self.script, "--crds", "/nonexistent", "x.yaml"],
            timeout: .seconds(60)
        )
        #expect(status == 2)
        #expect(output.contains("--crds /nonexistent: not a folder of CRD files"))
    }

    @Test func readsMultiDocumentYAMLAndJSONLines() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let yaml = folder.appendingPathComponent("all.yaml").path
        try """
        apiVersion: v1
        kind: Secret
        metadata: {name: a}
        stringData: {k: v}
        ---
        apiVersion: eventing.knative.dev/v1
        kind: Trigger
        metadata: {name: t}
        spec: {subscriber: {uri: "http://x.example/"}}

        """.write(toFile: yaml, atomically: true, encoding: .utf8)
        let lines = folder.appendingPathComponent("all.jsonl").path
        try """
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}, "stringData": {"k": "v"}}
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "b"}, "data": {"k": "%%%"}}

        """.write(toFile: lines, atomically: true, encoding: .utf8)
        let (status, output) = try Tool.run(
            "/usr/bin/env",
            ["python3", Self.script, "--crds", Self.crds, yaml, lines],
            timeout: .seconds(60)
        )
        #expect(status == 1)
        #expect(
            output == """
                \(yaml): Trigger t: spec.broker: missing field(s)
                \(lines): Secret b: data[k]: illegal base64 data in Secret.data

                """
        )
    }

    static let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../AgnostTestSupport").standardized
    static let script = support.appendingPathComponent("knative_validation.py").path
    static let crds = support.appendingPathComponent("../../../shared/knative-crds").standardized.path

    /// Runs the CLI on each object in a file of its own and returns its output, checking its exit status.
    private func validate(_ objects: [[String: Any]], expecting status: Int32) throws -> String {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var files: [String] = []
        for (index, object) in objects.enumerated() {
            let file = folder.appendingPathComponent("object-\(index).json").path
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: file))
            files.append(file)
        }
        let (exit, output) = try Tool.run(
            "/usr/bin/env",
            ["python3", Self.script, "--crds", Self.crds] + files,
            timeout: .seconds(60)
        )
        #expect(exit == status, "\(output)")
        return output
    }

    private func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "agnost-validation-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}

private enum Container {
    static var path: [Any] { ["spec", "template", "spec", "containers", 0] }
    static var port: [Any] { path + ["ports", 0] }
}

/// The Service the deployer renders, with the restricted security context, changed by `change`.
private func restricted(_ change: (inout [String: Any]) -> Void) -> [String: Any] {
    var service: [String: Any] = [
        "apiVersion": "serving.knative.dev/v1", "kind": "Service",
        "metadata": [
            "name": "todo-v1",
            "labels": ["app.kubernetes.io/name": "todo", "app.kubernetes.io/managed-by": "agnost-fn"],
        ],
        "spec": [
            "template": [
                "metadata": [
                    "name": "todo-v1-0123abcd",
                    "annotations": [
                        "autoscaling.knative.dev/min-scale": "0", "autoscaling.knative.dev/max-scale": "5",
                        "autoscaling.knative.dev/target": "50",
                    ],
                ],
                "spec": [
                    "containerConcurrency": 100, "timeoutSeconds": 300,
                    "containers": [
                        [
                            "image": "127.0.0.1:5000/todo@sha256:" + String(repeating: "0f", count: 32),
                            "ports": [["containerPort": 8080, "name": "http1"]],
                            "env": [
                                ["name": "MODE", "value": "prod"],
                                ["name": "TOKEN", "valueFrom": ["secretKeyRef": ["name": "todo-v1", "key": "token"]]],
                            ],
                            "readinessProbe": ["httpGet": ["path": "/agnost/ready", "port": 8080]],
                            "livenessProbe": ["httpGet": ["path": "/agnost/health"]],
                            "resources": [
                                "requests": ["cpu": "100m", "memory": "64Mi"], "limits": ["memory": "128Mi"],
                            ],
                            "securityContext": [
                                "runAsNonRoot": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false,
                                "capabilities": ["drop": ["ALL"]], "seccompProfile": ["type": "RuntimeDefault"],
                            ],
                        ]
                    ],
                ],
            ]
        ],
    ]
    change(&service)
    return service
}

private func pingSource(_ change: (inout [String: Any]) -> Void) -> [String: Any] {
    var source: [String: Any] = [
        "apiVersion": "sources.knative.dev/v1", "kind": "PingSource", "metadata": ["name": "nightly"],
        "spec": [
            "schedule": "0 3 * * *", "timezone": "Europe/Paris", "data": "{}",
            "sink": ["ref": ["apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "todo-v1"]],
        ],
    ]
    change(&source)
    return source
}

private func trigger(_ change: (inout [String: Any]) -> Void) -> [String: Any] {
    var trigger: [String: Any] = [
        "apiVersion": "eventing.knative.dev/v1", "kind": "Trigger", "metadata": ["name": "orders"],
        "spec": [
            "broker": "default", "filter": ["attributes": ["type": "order.created"]],
            "subscriber": ["ref": ["apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "todo-v1"]],
        ],
    ]
    change(&trigger)
    return trigger
}
