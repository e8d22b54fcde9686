/// Follows a Knative Service from an apply to the moment its new revision serves, or fails: a value-type state
/// machine fed with each version of the Service a watch delivers, tested without a cluster.
///
/// A Service is ready for us when the controller has seen our generation (`status.observedGeneration` ≥ the
/// generation the apply returned), its `Ready` condition is `True` and `latestReadyRevisionName` is the revision
/// the template names. `Ready=False` at our generation is final: Knative reports failed revisions that way
/// (`RevisionFailed`, `ContainerMissing`, …) and does not recover without a new template.
///
/// ```swift
/// var tracker = ReadinessTracker(revision: "todo-v1-3f2a9c1", generation: 4)
/// switch tracker.observe(state) {
/// case .ready(let url): print(url)
/// case .failed(let reason, let message): print("\(reason): \(message)")
/// case .progressing(let changes): changes.forEach { print($0) }
/// }
/// ```
public struct ReadinessTracker: Sendable {
    /// What one version of the Service means for the deploy.
    public enum Step: Sendable, Equatable {
        /// Still going; `changes` are the conditions that changed since the last version seen, to show.
        case progressing(changes: [ConditionProgress])
        /// The revision serves at `url`.
        case ready(url: String)
        /// The revision failed, or the Service went away.
        case failed(reason: String, message: String)
    }

    /// A condition as the controller reported it, with what the deploy waits for.
    public struct ConditionProgress: Sendable, Equatable, CustomStringConvertible {
        public var type: String
        public var status: String
        public var reason: String?
        public var message: String?

        public init(type: String, status: String, reason: String? = nil, message: String? = nil) {
            self.type = type
            self.status = status
            self.reason = reason
            self.message = message
        }

        public var description: String {
            var text = "\(type): \(status)"
            if let reason, !reason.isEmpty { text += " (\(reason))" }
            if let message, !message.isEmpty { text += " \(message)" }
            return text
        }
    }

    public let revision: String
    public let generation: Int64
    private var shown: [String: ConditionProgress] = [:]

    public init(revision: String, generation: Int64) {
        self.revision = revision
        self.generation = generation
    }

    /// The next version of the Service, from a watch event or a GET.
    public mutating func observe(_ state: ServiceState) -> Step {
        guard let observed = state.status.observedGeneration, observed >= generation else {
            return .progressing(
                changes: note([
                    ConditionProgress(
                        type: "Generation",
                        status: "Unknown",
                        reason: "NotObserved",
                        message: "the controller has not yet seen generation \(generation)"
                    )
                ])
            )
        }
        let conditions = (state.status.conditions ?? []).map {
            ConditionProgress(type: $0.type, status: $0.status, reason: $0.reason, message: $0.message)
        }
        let ready = state.condition("Ready")
        if let ready, ready.isFalse {
            return .failed(
                reason: ready.reason ?? "NotReady",
                message: ready.message ?? "the Service is not ready and Knative gave no reason"
            )
        }
        if let ready, ready.isTrue, state.status.latestReadyRevisionName == revision {
            guard let url = state.status.url, !url.isEmpty else {
                return .progressing(
                    changes: note(
                        conditions + [
                            ConditionProgress(
                                type: "URL",
                                status: "Unknown",
                                reason: "NoURL",
                                message: "the Service is ready but has no URL yet"
                            )
                        ]
                    )
                )
            }
            return .ready(url: url)
        }
        if let created = state.status.latestCreatedRevisionName, created != revision, ready?.isTrue == true {
            // Knative names revisions from the template we sent; another name at our generation means the
            // template no longer is ours, as when someone else applied after us.
            return .failed(
                reason: "RevisionReplaced",
                message: "the Service's latest revision is \(created), not \(revision): another change to it "
                    + "was applied while waiting"
            )
        }
        return .progressing(changes: note(conditions))
    }

    /// The Service was deleted while waiting.
    public mutating func observeDeletion() -> Step {
        .failed(reason: "Deleted", message: "the Service was deleted while waiting for it to become ready")
    }

    /// Keeps the conditions whose status, reason or message changed since they were last shown.
    private mutating func note(_ conditions: [ConditionProgress]) -> [ConditionProgress] {
        var changed: [ConditionProgress] = []
        for condition in conditions where shown[condition.type] != condition {
            shown[condition.type] = condition
            changed.append(condition)
        }
        return changed
    }
}
