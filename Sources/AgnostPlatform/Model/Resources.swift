import AgnostSpec
import Foundation

/// A database, cache, broker or bucket that versions link to: how to reach it, with its secrets sealed.
///
/// Only ``ConnectionSettings`` are ever shown; the password and a URI (which may hold credentials) are kept sealed
/// under the platform key and opened only into a deployment's Secret.
public struct Resource: Codable, Sendable, Hashable {
    public var name: String
    /// The app it belongs to; nil when the platform shares it with every app.
    public var app: String?
    public var type: ResourceType
    public var settings: ConnectionSettings
    public var secrets: SealedSecrets
    public var reachability: Reachability?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        name: String,
        app: String?,
        type: ResourceType,
        settings: ConnectionSettings,
        secrets: SealedSecrets,
        reachability: Reachability? = nil,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.name = name
        self.app = app
        self.type = type
        self.settings = settings
        self.secrets = secrets
        self.reachability = reachability
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The parts of a resource's connection that are not secret.
public struct ConnectionSettings: Codable, Sendable, Hashable {
    public var host: String?
    public var port: Int?
    public var database: String?
    public var user: String?
    public var tls: Bool
    /// Driver options, such as `replicaSet` or `authSource`.
    public var options: [String: String]

    public init(
        host: String? = nil,
        port: Int? = nil,
        database: String? = nil,
        user: String? = nil,
        tls: Bool = false,
        options: [String: String] = [:]
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.tls = tls
        self.options = options
    }
}

/// A resource's secrets, each sealed by ``SecretSealer`` for the resource's record.
public struct SealedSecrets: Codable, Sendable, Hashable {
    public var password: [UInt8]?
    /// A whole connection URI, which may carry a user and password.
    public var uri: [UInt8]?

    public init(password: [UInt8]? = nil, uri: [UInt8]? = nil) {
        self.password = password
        self.uri = uri
    }
}

/// The outcome of the last reachability check of a resource.
public struct Reachability: Codable, Sendable, Hashable {
    public var reachable: Bool
    /// What was tried and what came of it, such as "TCP 127.0.0.1:5432 connected in 1 ms".
    public var detail: String
    public var checkedAt: Date

    public init(reachable: Bool, detail: String, checkedAt: Date) {
        self.reachable = reachable
        self.detail = detail
        self.checkedAt = checkedAt
    }
}
