/// Where a Service's traffic should go: a split over named revisions, all of it to the latest ready revision, or
/// back to an earlier one. Turned into `spec.traffic` by ``TrafficPlan/targets(for:revisions:)``, checked against
/// the revisions the cluster has, without a cluster.
///
/// ```swift
/// let plan = try TrafficPlan(splitting: ["todo-v1-aaaaaaa=90", "todo-v1-bbbbbbb=10"])
/// let targets = try plan.targets(for: service, revisions: revisions)
/// ```
public enum TrafficPlan: Sendable, Equatable {
    /// Percentages by revision name, in the order given; they add up to 100.
    case split([Share])
    /// All traffic to whichever revision is the latest ready one, now and after later deploys.
    case latest
    /// All traffic to the named revision, or, when nil, to the one that served before the latest deploy's (which
    /// the Service remembers), else to the newest ready revision older than the newest one serving now.
    case rollback(to: String?)

    public struct Share: Sendable, Equatable {
        public var revision: String
        public var percent: Int

        public init(revision: String, percent: Int) {
            self.revision = revision
            self.percent = percent
        }
    }

    /// Reads `REVISION=PERCENT` pairs.
    public init(splitting pairs: [String]) throws(TrafficError) {
        guard !pairs.isEmpty else {
            throw TrafficError(.invalidSplit, "no revisions given: name each as REVISION=PERCENT, adding up to 100")
        }
        var shares: [Share] = []
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let percent = Int(parts[1]), (0...100).contains(percent)
            else {
                throw TrafficError(
                    .invalidSplit,
                    "'\(pair)' is not REVISION=PERCENT with a whole percentage from 0 to 100"
                )
            }
            let revision = String(parts[0])
            guard !shares.contains(where: { $0.revision == revision }) else {
                throw TrafficError(.invalidSplit, "revision \(revision) is named twice; give each revision once")
            }
            shares.append(Share(revision: revision, percent: percent))
        }
        let total = shares.reduce(0) { $0 + $1.percent }
        guard total == 100 else {
            throw TrafficError(.invalidSplit, "the percentages add up to \(total), not 100")
        }
        self = .split(shares)
    }

    /// The `spec.traffic` that carries out the plan for `service`, whose revisions are `revisions`.
    public func targets(for service: ServiceState, revisions: [RevisionState]) throws(TrafficError) -> [TrafficTarget] {
        let name = service.metadata.name
        func ready(_ revision: String) throws(TrafficError) -> RevisionState {
            guard let found = revisions.first(where: { $0.metadata.name == revision }) else {
                let known = revisions.map(\.metadata.name).sorted()
                throw TrafficError(
                    .unknownRevision,
                    "Service \(name) has no revision \(revision)"
                        + (known.isEmpty ? "" : "; its revisions are \(known.joined(separator: ", "))")
                )
            }
            guard found.isReady else {
                throw TrafficError(
                    .revisionNotReady,
                    "revision \(revision) of Service \(name) is not ready, so it cannot take traffic"
                )
            }
            return found
        }
        switch self {
        case .latest:
            return [TrafficTarget(latestRevision: true, percent: 100)]
        case .split(let shares):
            for share in shares where share.percent > 0 { _ = try ready(share.revision) }
            return shares.map { TrafficTarget(revisionName: $0.revision, latestRevision: false, percent: $0.percent) }
        case .rollback(let named?):
            _ = try ready(named)
            return [TrafficTarget(revisionName: named, latestRevision: false, percent: 100)]
        case .rollback(nil):
            let target = try Self.previousRevision(of: service, revisions: revisions)
            return [TrafficTarget(revisionName: target, latestRevision: false, percent: 100)]
        }
    }

    /// The revision that served before the latest deploy's, if it is still there and ready and does not serve all
    /// traffic now; else the newest ready revision older than the newest revision serving traffic now.
    ///
    /// Generations alone can mislead: a template that returns to an earlier one (a key revoked, a change undone)
    /// gets the earlier revision back, with its earlier generation.
    static func previousRevision(of service: ServiceState, revisions: [RevisionState]) throws(TrafficError) -> String {
        let ordered = revisions.sorted(by: RevisionState.isOlder)
        let serving = Set(
            (service.status.traffic ?? []).filter { ($0.percent ?? 0) > 0 }.compactMap(\.revisionName)
        )
        if let remembered = service.metadata.annotations[ManifestAnnotations.previousRevision],
            serving != [remembered],
            revisions.contains(where: { $0.metadata.name == remembered && $0.isReady })
        {
            return remembered
        }
        guard let newestServing = ordered.lastIndex(where: { serving.contains($0.metadata.name) }) else {
            throw TrafficError(
                .noEarlierRevision,
                "Service \(service.metadata.name) reports no revision that receives traffic, so there is nothing "
                    + "to roll back from; name the revision to send all traffic to"
            )
        }
        guard let previous = ordered[..<newestServing].last(where: \.isReady) else {
            throw TrafficError(
                .noEarlierRevision,
                "Service \(service.metadata.name) has no ready revision older than \(ordered[newestServing].metadata.name)"
            )
        }
        return previous.metadata.name
    }
}

extension RevisionState {
    /// Orders revisions of one Service by the configuration generation they were made for, then by age.
    static func isOlder(_ left: RevisionState, _ right: RevisionState) -> Bool {
        switch (left.configurationGeneration, right.configurationGeneration) {
        case (let a?, let b?) where a != b: return a < b
        default:
            return (left.metadata.creationTimestamp ?? "", left.metadata.name)
                < (right.metadata.creationTimestamp ?? "", right.metadata.name)
        }
    }
}

/// A traffic change that cannot be made as asked.
public struct TrafficError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidSplit
        case unknownRevision
        case revisionNotReady
        case noEarlierRevision
    }

    public let code: Code
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
