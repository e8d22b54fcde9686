import AgnostKnative
import AgnostPipeline
import ArgumentParser
import Foundation

/// `--output text|json`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json

    /// Prints `value` as indented JSON with sorted keys, for scripts and jq.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the deployed version: its URL, conditions, revisions with their traffic, and event objects.",
        discussion: """
            Each revision shows its traffic percent, readiness, image digest and age; each PingSource (cron job) \
            and Trigger (queue) its readiness.
            """
    )

    @OptionGroup var project: ProjectOptions
    @OptionGroup var cluster: ClusterOptionGroup

    @Option(help: "text, or json for scripts.")
    var output: OutputFormat = .text

    func run() async throws {
        let spec = try project.checkedSpec()
        let service = spec.serviceName
        let deployer = try cluster.deployer()
        let state = try await Console.cluster(checkWith: "kubectl get ksvc \(service)") {
            () async throws(DeployError) in
            try await deployer.state(of: service)
        }
        let (app, version) = (spec.app, spec.version)
        let events = try await Console.cluster(checkWith: "kubectl get pingsources,triggers") {
            () async throws(DeployError) in
            try await deployer.eventObjects(app: app, version: version)
        }
        let report = StatusReport(
            state.service,
            revisions: state.revisions,
            events: events,
            namespace: deployer.namespace
        )
        switch output {
        case .json:
            try OutputFormat.printJSON(report)
        case .text:
            print(report.text())
        }
    }
}

/// What `status` shows, as text or JSON.
struct StatusReport: Encodable {
    struct Revision: Encodable {
        var name: String
        var trafficPercent: Int
        var ready: Bool
        var image: String?
        var created: String?
        var age: String?
    }

    var service: String
    var namespace: String
    var url: String?
    var generation: Int64?
    var observedGeneration: Int64?
    var conditions: [Condition]
    var revisions: [Revision]
    /// The PingSources and Triggers of the version.
    var events: [EventObjectState]

    init(
        _ service: ServiceState,
        revisions: [RevisionState],
        events: [EventObjectState] = [],
        namespace: String,
        now: Date = Date()
    ) {
        self.events = events
        self.service = service.metadata.name
        self.namespace = namespace
        url = service.status.url
        generation = service.metadata.generation
        observedGeneration = service.status.observedGeneration
        conditions = service.status.conditions ?? []
        var percents: [String: Int] = [:]
        for target in service.status.traffic ?? [] {
            guard let name = target.revisionName else { continue }
            percents[name, default: 0] += target.percent ?? 0
        }
        self.revisions = revisions.reversed().map { revision in
            Revision(
                name: revision.metadata.name,
                trafficPercent: percents[revision.metadata.name] ?? 0,
                ready: revision.isReady,
                image: revision.image,
                created: revision.metadata.creationTimestamp,
                age: revision.metadata.created.map { DisplayAge.format(now.timeIntervalSince($0)) }
            )
        }
    }

    func text() -> String {
        var lines = [
            "Service:    \(service) (namespace \(namespace))",
            "URL:        \(url ?? "none yet")",
            "Generation: \(generation.map(String.init) ?? "?"), observed \(observedGeneration.map(String.init) ?? "not yet")",
            "Conditions:",
        ]
        for condition in conditions {
            var line = "  \(condition.type) \(condition.status)"
            if let reason = condition.reason, !reason.isEmpty { line += " (\(reason))" }
            if let message = condition.message, !message.isEmpty { line += " \(message)" }
            lines.append(line)
        }
        if conditions.isEmpty { lines.append("  none reported yet") }
        lines.append("Revisions:")
        let width = max(4, revisions.map(\.name.count).max() ?? 0)
        lines.append("  " + "NAME".padding(width) + "  TRAFFIC  READY  AGE    IMAGE")
        for revision in revisions {
            lines.append(
                "  " + revision.name.padding(width) + "  " + "\(revision.trafficPercent)%".padding(7) + "  "
                    + (revision.ready ? "True" : "False").padding(5) + "  " + (revision.age ?? "?").padding(5)
                    + "  " + DisplayAge.shortImage(revision.image)
            )
        }
        if !events.isEmpty {
            lines.append("Events:")
            let nameWidth = max(4, events.map(\.name.count).max() ?? 0)
            lines.append("  " + "NAME".padding(nameWidth) + "  KIND        READY")
            for event in events {
                var line =
                    "  " + event.name.padding(nameWidth) + "  " + event.kind.padding(10) + "  "
                    + (event.ready ?? "Unknown")
                if let reason = event.reason, !reason.isEmpty { line += " (\(reason))" }
                if let message = event.message, !message.isEmpty, event.ready != "True" { line += " \(message)" }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }
}

enum DisplayAge {
    /// Ages as kubectl shows them: 45s, 12m, 5h, 3d.
    static func format(_ seconds: TimeInterval) -> String {
        let whole = max(0, Int(seconds))
        switch whole {
        case ..<120: return "\(whole)s"
        case ..<(120 * 60): return "\(whole / 60)m"
        case ..<(48 * 3600): return "\(whole / 3600)h"
        default: return "\(whole / 86400)d"
        }
    }

    /// `repo@sha256:0123456789ab`, the digest cut to 12 hex digits.
    static func shortImage(_ image: String?) -> String {
        guard let image else { return "?" }
        guard let at = image.range(of: "@sha256:") else { return image }
        return String(image[..<at.upperBound]) + image[at.upperBound...].prefix(12)
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
