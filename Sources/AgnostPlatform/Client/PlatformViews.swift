import Foundation

/// The API's objects as a client reads them (`openapi.yaml`'s schemas), for showing and for the workflow that
/// deploys through the platform.
public enum PlatformViews {
    public struct Page<Item: Decodable & Sendable>: Decodable, Sendable {
        public var items: [Item]
        public var next: String?
    }

    public struct App: Decodable, Sendable {
        public var name: String
        public var description: String
        public var createdAt: Date
    }

    public struct Link: Decodable, Sendable {
        public var resource: String
        public var app: String?
    }

    public struct Version: Decodable, Sendable {
        public var app: String
        public var name: String
        public var specDigest: String
        public var state: String
        public var links: [String: Link]
        public var createdAt: Date
    }

    public struct Reachability: Decodable, Sendable {
        public var reachable: Bool
        public var detail: String
        public var checkedAt: Date
    }

    public struct Resource: Decodable, Sendable {
        public var name: String
        public var app: String?
        public var type: String
        public var host: String?
        public var port: Int?
        public var database: String?
        public var user: String?
        public var tls: Bool
        public var hasPassword: Bool
        public var hasUri: Bool
        public var reachability: Reachability?
    }

    public struct Key: Decodable, Sendable {
        public var name: String
        public var createdAt: Date
        public var expiresAt: Date?
        public var revokedAt: Date?
        public var valid: Bool
    }

    public struct CreatedKey: Decodable, Sendable {
        public var key: String
        public var record: Key
    }

    public struct Token: Decodable, Sendable {
        public var id: String
        public var name: String
        public var role: String
        /// The apps it is limited to; nil for every app.
        public var apps: [String]?
        public var createdAt: Date
        public var revokedAt: Date?
    }

    public struct CreatedToken: Decodable, Sendable {
        public var token: String
        public var record: Token
    }

    public struct Deployment: Decodable, Sendable {
        public var id: String
        public var app: String
        public var version: String
        public var image: String
        public var requestedBy: String
        public var requestedAt: Date
        public var outcome: String
        public var revision: String?
        public var url: String?
        public var reason: String?
        public var message: String?
        public var progress: [String]
        public var finishedAt: Date?

        /// Whether nothing more will happen to it.
        public var isFinal: Bool { ["ready", "failed", "superseded"].contains(outcome) }
    }
}
