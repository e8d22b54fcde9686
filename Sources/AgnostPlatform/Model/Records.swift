import Foundation

/// An app: the name its versions' Services start with, and what it is for.
public struct App: Codable, Sendable, Hashable {
    public var name: String
    public var description: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(name: String, description: String, createdAt: Date, updatedAt: Date) {
        self.name = name
        self.description = description
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One version of an app: its `agnost.yaml` as uploaded, the digest the compiler gives it, and the resources its
/// declared names link to.
public struct AppVersion: Codable, Sendable, Hashable {
    public enum State: String, Codable, Sendable {
        /// Checked and stored; never deployed.
        case uploaded
        case deploying
        case deployed
        /// The last deployment did not become ready.
        case failed
    }

    public var app: String
    public var name: String
    /// The `agnost.yaml` text, exactly as uploaded.
    public var spec: String
    public var specDigest: String
    public var state: State
    /// For each resource name the spec declares, the resource linked to it.
    public var links: [String: ResourceLink]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        app: String,
        name: String,
        spec: String,
        specDigest: String,
        state: State = .uploaded,
        links: [String: ResourceLink] = [:],
        createdAt: Date,
        updatedAt: Date
    ) {
        self.app = app
        self.name = name
        self.spec = spec
        self.specDigest = specDigest
        self.state = state
        self.links = links
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Which resource a declared name stands for: one of the app's own, or one shared by the platform (`app` nil).
public struct ResourceLink: Codable, Sendable, Hashable {
    public var resource: String
    public var app: String?

    public init(resource: String, app: String?) {
        self.resource = resource
        self.app = app
    }
}
