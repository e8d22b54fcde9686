import Foundation

/// A request to deploy a version's image, and what came of it.
///
/// Requests for one version run one at a time; while one runs, only the newest of those waiting runs next, and
/// the others are ``Outcome/superseded``.
public struct Deployment: Codable, Sendable, Hashable {
    public enum Outcome: String, Codable, Sendable {
        /// Waiting for its turn.
        case pending
        /// Being applied, or waited for.
        case running
        /// Its revision serves.
        case ready
        case failed
        /// A newer request for the version came before this one's turn.
        case superseded

        /// Whether nothing more will happen to it.
        public var isFinal: Bool { self == .ready || self == .failed || self == .superseded }
    }

    /// Sorts in the order the requests came: `20261203-151212-123-3fa9`, the time in UTC and four random hex
    /// digits.
    public var id: String
    public var app: String
    public var version: String
    /// The image, pinned: `REF@sha256:…`.
    public var image: String
    /// The name of the token that asked.
    public var requestedBy: String
    public var requestedAt: Date
    /// The Knative revision that serves it, once known.
    public var revision: String?
    /// The Service's URL once its revision is ready.
    public var url: String?
    public var outcome: Outcome
    /// Why it failed: Knative's reason (`RevisionFailed`, …) when the cluster said one, else what failed.
    public var reason: String?
    /// What went wrong, for a person.
    public var message: String?
    /// The workflow's progress lines, in order.
    public var progress: [String]
    public var finishedAt: Date?

    public init(
        id: String,
        app: String,
        version: String,
        image: String,
        requestedBy: String,
        requestedAt: Date,
        revision: String? = nil,
        url: String? = nil,
        outcome: Outcome = .pending,
        reason: String? = nil,
        message: String? = nil,
        progress: [String] = [],
        finishedAt: Date? = nil
    ) {
        self.id = id
        self.app = app
        self.version = version
        self.image = image
        self.requestedBy = requestedBy
        self.requestedAt = requestedAt
        self.revision = revision
        self.url = url
        self.outcome = outcome
        self.reason = reason
        self.message = message
        self.progress = progress
        self.finishedAt = finishedAt
    }
}
