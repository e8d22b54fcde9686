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
