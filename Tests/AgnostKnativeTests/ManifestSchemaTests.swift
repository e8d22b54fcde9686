import AgnostBundle
import AgnostKnative
import AgnostTestSupport
import Foundation
import Testing

/// Where `knative_validation.py` and the CRDs are: the script in this repository, the CRDs in `../shared`.
enum KnativeValidator {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardizedFileURL
    /// `AGNOST_KNATIVE_VALIDATOR` points at another copy of the script while developing.
    static let script =
        ProcessInfo.processInfo.environment["AGNOST_KNATIVE_VALIDATOR"]
        ?? repository.appendingPathComponent("Tests/AgnostTestSupport/knative_validation.py").path
    static let crds = repository.appendingPathComponent("../shared/knative-crds").standardizedFileURL.path

    static var isAvailable: Bool {
        let size = (try? FileManager.default.attributesOfItem(atPath: script)[.size] as? Int) ?? 0
        return size > 0 && FileManager.default.fileExists(atPath: crds)
    }

    static let skipComment: Comment =
        "skipped: needs a non-empty Tests/AgnostTestSupport/knative_validation.py and ../shared/knative-crds (CI never skips)"
}

/// Every rendered object, checked by `knative_validation.py` against the Knative CRD schemas (unknown fields refused
/// as `fieldValidation=Strict` does) and the webhook rules, the way a cluster would accept or refuse it.
@Suite(
    .enabled(
        if: KnativeValidator.isAvailable || ProcessInfo.processInfo.environment["CI"] != nil,
        KnativeValidator.skipComment
    )
)
struct ManifestSchemaTests {
    /// Writes each object to its own file, alternating JSON and YAML, and runs the validator over all of them.
    static func validate(_ objects: [KubernetesObject]) throws -> (status: Int32, output: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-schema-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var files: [String] = []
        for (index, object) in objects.enumerated() {
            let isJSON = index.isMultiple(of: 2)
            let file = folder.appendingPathComponent("\(index)-\(object.kind).\(isJSON ? "json" : "yaml")")
            try Data(isJSON ? object.jsonBytes() : Array(object.yaml().utf8)).write(to: file)
            files.append(file.path)
        }
        return try Tool.run(
            "/usr/bin/env",
            ["python3", KnativeValidator.script, "--crds", KnativeValidator.crds] + files,
            timeout: .seconds(60)
        )
    }

    static func rendered(_ change: (inout BundleManifest) -> Void) throws -> [KubernetesObject] {
        var bundle = ManifestFixtures.todoBundle
        change(&bundle)
        return try ManifestFixtures.render(bundle).objects
    }

    @Test func everyVariantValidates() throws {
        let variants: [(inout BundleManifest) -> Void] = [
            { _ in },
            { bundle in
                bundle.env = []
                bundle.scaling = ScalingPlan()
            },
            { bundle in
                bundle.scaling = ScalingPlan(
                    minScale: 1,
                    maxScale: 5,
                    containerConcurrency: 50,
                    timeoutMilliseconds: 10_500,
                    target: 20,
                    cpuRequest: "100m",
                    cpuLimit: "1",
                    memoryRequest: "128Mi",
                    memoryLimit: "0.5Gi"
                )
            },
            { bundle in
                bundle.env = [
                    EnvironmentEntry(name: "GREETING", value: "hello: world # not a comment"),
                    EnvironmentEntry(name: "EMPTY", value: ""),
                    EnvironmentEntry(name: "FLAG", value: "true"),
                ]
            },
            { $0.scaling.containerConcurrency = 0 },
            { $0.scaling.containerConcurrency = 1000 },
            { $0.scaling.timeoutMilliseconds = 600_000 },
            // The event objects: schedules with day-of-week 7 (normalised), a dead-letter queue, several queues.
            { $0.cronJobs[0].schedule = "30 8 * * 5-7" },
            { $0.cronJobs[0].schedule = "0 0 1 JAN,JUL 1-7/2" },
            { $0.cronJobs[0].schedule = "@weekly" },
            { $0.cronJobs[0].timezone = "UTC" },
            { bundle in
                bundle.queues = [
                    QueuePlan(name: "imports", handler: "a", retries: 0, delayMilliseconds: 0, deadLetter: "failed"),
                    QueuePlan(name: "failed", handler: "b", retries: 10, delayMilliseconds: 1000),
                ]
            },
        ]
        let objects = try variants.flatMap { try Self.rendered($0) }
        #expect(objects.contains { $0.kind == "PingSource" } && objects.contains { $0.kind == "Trigger" })
        // A render without the internal token (no cluster) leaves the cron token out, and still validates.
        var anonymous = ManifestFixtures.options
        anonymous.secret = VersionSecretData(internalToken: "", apiKeys: [])
        let unsigned = try ManifestFixtures.render(options: anonymous).events
        let (status, output) = try Self.validate(objects + unsigned)
        #expect(status == 0, "\(output)")
        #expect(output.isEmpty, "\(output)")
    }

    /// What the event objects must get right is refused when wrong: a day-of-week robfig/cron does not parse, a
    /// negative retry count, an unknown backoff policy, a duration that is not ISO-8601, a sink without a name.
    @Test func refusedEventObjectsAreReportedWithTheirPath() throws {
        let rendered = try ManifestFixtures.render()
        let ping = try #require(rendered.events.first { $0.kind == "PingSource" })
        let trigger = try #require(rendered.events.first { $0.kind == "Trigger" })
        var sunday = ping.body
        sunday["spec"]?["schedule"] = "0 9 * * 7"
        var namelessSink = ping.body
        namelessSink["spec"]?["sink"]?["ref"]?["name"] = nil
        var badDelivery = trigger.body
        badDelivery["spec"]?["delivery"]?["retry"] = .integer(-1)
        badDelivery["spec"]?["delivery"]?["backoffPolicy"] = "quadratic"
        badDelivery["spec"]?["delivery"]?["backoffDelay"] = "1s"
        let objects = try [sunday, namelessSink, badDelivery].map { try KubernetesObject(body: $0) }
        let (status, output) = try Self.validate(objects)
        #expect(status == 1)
        for line in [
            "PingSource todo-v1-cron-archive-done: spec.schedule",
            "PingSource todo-v1-cron-archive-done: spec.sink.ref.name",
            "Trigger todo-v1-queue-imports: spec.delivery.retry",
            "Trigger todo-v1-queue-imports: spec.delivery.backoffPolicy",
            "Trigger todo-v1-queue-imports: spec.delivery.backoffDelay",
        ] {
            #expect(output.contains(line), "\(line) not in: \(output)")
        }
    }

    /// The validator is strict enough to catch what a cluster refuses, so a pass above means something.
    @Test func refusedObjectsAreReportedWithTheirPath() throws {
        let service = try ManifestFixtures.render().service
        var scaledService = service.body
        scaledService["metadata"]?["annotations"]?["autoscaling.knative.dev/min-scale"] = "1"
        var unknownField = service.body
        unknownField["spec"]?["template"]?["spec"]?["nodeName"] = "worker-1"
        let overLimits = try Self.rendered {
            $0.scaling.containerConcurrency = 1001
            $0.scaling.timeoutMilliseconds = 601_000
        }
        let objects = try [KubernetesObject(body: scaledService), KubernetesObject(body: unknownField)] + overLimits
        let (status, output) = try Self.validate(objects)
        #expect(status == 1)
        for path in [
            "metadata.annotations", "spec.template.spec.nodeName", "spec.template.spec.containerConcurrency",
            "spec.template.spec.timeoutSeconds",
        ] {
            #expect(output.contains("Service todo-v1: \(path)"), "\(path) not in: \(output)")
        }
    }
}
