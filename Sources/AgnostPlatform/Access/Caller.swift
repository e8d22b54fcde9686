import Foundation

/// Who is calling the API: the token's name, its role and the apps it is limited to.
///
/// ```swift
/// let caller = try await platform.authenticate(bearer: token)
/// try caller.require(.deployer, for: "todo", to: "create keys")   // 403 for a viewer, or a token for other apps
/// ```
public struct Caller: Sendable, Hashable {
    public var name: String
    public var role: Role
    /// The apps the caller may reach; nil for every app.
    public var apps: [String]?

    public init(name: String, role: Role, apps: [String]?) {
        self.name = name
        self.role = role
        self.apps = apps
    }

    /// Whether the caller may reach `app` at all.
    public func mayReach(_ app: String) -> Bool {
        apps.map { $0.contains(app) } ?? true
    }

    /// Checks that the caller holds at least `role` and, when the request is about an app, may reach it.
    ///
    /// - Throws: ``PlatformError`` with `forbidden`, saying which role or app the token lacks.
    public func require(_ role: Role, for app: String? = nil, to action: String) throws(PlatformError) {
        guard self.role >= role else {
            let allowed = Role.allCases.filter { $0 >= role }.map(\.rawValue).joined(separator: " or ")
            throw PlatformError(
                .forbidden,
                "token '\(name)' is a \(self.role.rawValue) token; to \(action) takes a \(allowed) token",
                context: name
            )
        }
        if let app, !mayReach(app) {
            let limited = (apps ?? []).map { "'\($0)'" }.joined(separator: ", ")
            throw PlatformError(
                .forbidden,
                "token '\(name)' is limited to \(limited.isEmpty ? "no apps" : "app \(limited)"); it cannot \(action) "
                    + "of app '\(app)'",
                context: name
            )
        }
    }

    /// Checks that the caller holds at least `role` for every app, as platform-wide records (shared resources,
    /// tokens) need.
    public func requireEveryApp(_ role: Role, to action: String) throws(PlatformError) {
        try require(role, to: action)
        guard apps == nil else {
            throw PlatformError(
                .forbidden,
                "token '\(name)' is limited to some apps; to \(action) takes a token for every app",
                context: name
            )
        }
    }
}
