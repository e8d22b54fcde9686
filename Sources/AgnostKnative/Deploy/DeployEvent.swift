/// What the deployer reports while it works, in order, for a front end to show.
public enum DeployEvent: Sendable {
    /// An object was applied: `outcome` says whether the cluster created it, changed it or found it as it was.
    case applied(kind: String, name: String, outcome: ApplyOutcome)
    /// A dry run: what applying `kind` `name` would change, one line per field (`+`, `-` or `~`).
    case wouldChange(kind: String, name: String, changes: [String])
    /// An object labeled for this version that the render no longer contains was deleted (or, in a dry run,
    /// would be).
    case pruned(kind: String, name: String, dryRun: Bool)
    /// The wait for readiness saw a condition change.
    case condition(ReadinessTracker.ConditionProgress)
    /// The revision serves at `url`.
    case ready(service: String, revision: String, url: String, elapsed: Duration)
}

/// What an apply did to an object, in kubectl's words.
public enum ApplyOutcome: String, Sendable {
    case created
    case configured
    case unchanged
}

/// One line of what happened, as a log or a deployment record keeps it.
extension DeployEvent: CustomStringConvertible {
    public var description: String {
        switch self {
        case .applied(let kind, let name, let outcome):
            "\(kind.lowercased())/\(name) \(outcome.rawValue)"
        case .wouldChange(let kind, let name, let changes):
            "\(kind.lowercased())/\(name) would change \(changes.count) field\(changes.count == 1 ? "" : "s")"
        case .pruned(let kind, let name, let dryRun):
            "\(kind.lowercased())/\(name) \(dryRun ? "would be deleted" : "deleted") (no longer in agnost.yaml)"
        case .condition(let progress):
            progress.description
        case .ready(let service, let revision, let url, let elapsed):
            "\(service): revision \(revision) is ready at \(url) after \(elapsed.components.seconds) s"
        }
    }
}
