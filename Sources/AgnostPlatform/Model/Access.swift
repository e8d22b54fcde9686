import Foundation

/// An API key of one version, for the callers of its endpoints: only its SHA-256 is kept, and it reaches the
/// version's Secret.
public struct APIKey: Codable, Sendable, Hashable {
    public var app: String
    public var version: String
    public var name: String
    /// Lowercase hex SHA-256 of the key.
    public var hash: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?

    public init(
        app: String,
        version: String,
        name: String,
        hash: String,
        createdAt: Date,
        expiresAt: Date? = nil,
        revokedAt: Date? = nil
    ) {
        self.app = app
        self.version = version
        self.name = name
        self.hash = hash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Whether the key opens the version's endpoints at `date`.
    public func isValid(at date: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { date < $0 } ?? true)
    }
}

/// What a bearer of a platform token may do.
public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    /// Reads apps, versions, resources (never their secrets), keys' names and deployments.
    case viewer
    /// Also uploads versions, links resources, creates keys and deploys.
    case deployer
    /// Also manages resources and tokens.
    case admin

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A bearer token for the platform's API: kept as the SHA-256 of its secret part, with its role and, optionally,
/// the apps it is limited to.
public struct AccessToken: Codable, Sendable, Hashable {
    /// The public part of the token, by which it is found: `agp_<id>_<secret>`.
    public var id: String
    public var name: String
    public var role: Role
    /// The apps the token may see and change; nil for every app.
    public var apps: [String]?
    /// Lowercase hex SHA-256 of the whole token.
    public var hash: String
    public var createdAt: Date
    /// When the token stopped opening the API; its record stays, so that the list keeps who had access.
    public var revokedAt: Date?

    public init(
        id: String,
        name: String,
        role: Role,
        apps: [String]?,
        hash: String,
        createdAt: Date,
        revokedAt: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.role = role
        self.apps = apps
        self.hash = hash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    /// Whether it is an admin token for every app that still opens the API: the kind the platform never runs out
    /// of, as only such a token can make another.
    public var isUnrevokedAdminForEveryApp: Bool {
        revokedAt == nil && role == .admin && apps == nil
    }
}
