import AgnostSpec
import Foundation
import OpenAPIRuntime

extension PlatformAPI {
    // MARK: Resources

    func listResources(_ input: Operations.ListResources.Input) async throws -> Operations.ListResources.Output {
        do throws(PlatformError) {
            try authorize(.viewer, resourcesOf: input.query.app, to: "list resources")
            let limit = try Self.limit(input.query.limit)
            let page = try await platform.stored { () async throws(StoreError) in
                try await platform.store.list(
                    Resource.self,
                    scope: input.query.app ?? "",
                    after: input.query.after,
                    limit: limit
                )
            }
            return .ok(.init(body: .json(.init(items: page.items.map { Self.resource($0.value) }, next: page.next))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func addResource(_ input: Operations.AddResource.Input) async throws -> Operations.AddResource.Output {
        do throws(PlatformError) {
            guard case .json(let body) = input.body else { throw Self.unsupportedBody }
            try authorize(.admin, resourcesOf: body.app, to: "add resources")
            let type = ResourceType(rawValue: body._type.rawValue) ?? .postgres
            let added = try await platform.addResource(
                .init(
                    name: body.name,
                    app: body.app,
                    type: type,
                    settings: ConnectionSettings(
                        host: body.host,
                        port: body.port,
                        database: body.database,
                        user: body.user,
                        tls: body.tls ?? false,
                        options: body.options?.additionalProperties ?? [:]
                    ),
                    password: body.password,
                    uri: body.uri
                )
            )
            return .created(.init(headers: .init(eTag: Self.etag(added)), body: .json(Self.resource(added.value))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func getResource(_ input: Operations.GetResource.Input) async throws -> Operations.GetResource.Output {
        do throws(PlatformError) {
            try authorize(.viewer, resourcesOf: input.query.app, to: "read resources")
            let resource = try await platform.existing(
                Resource.self,
                scope: input.query.app ?? "",
                name: input.path.resource,
                what: "resource '\(input.path.resource)'" + (input.query.app.map { " of app '\($0)'" } ?? ", shared")
            )
            return .ok(.init(headers: .init(eTag: Self.etag(resource)), body: .json(Self.resource(resource.value))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func removeResource(_ input: Operations.RemoveResource.Input) async throws -> Operations.RemoveResource.Output {
        do throws(PlatformError) {
            try authorize(.admin, resourcesOf: input.query.app, to: "remove resources")
            var revision: Int?
            if let ifMatch = input.headers.ifMatch {
                revision = try await self.revision(ifMatch) { () async throws(PlatformError) in
                    try await platform.existing(
                        Resource.self,
                        scope: input.query.app ?? "",
                        name: input.path.resource,
                        what: "resource '\(input.path.resource)'"
                    )
                    .revision
                }
            }
            try await platform.removeResource(input.path.resource, app: input.query.app, ifRevision: revision)
            return .noContent(.init())
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func checkResource(_ input: Operations.CheckResource.Input) async throws -> Operations.CheckResource.Output {
        do throws(PlatformError) {
            try authorize(.deployer, resourcesOf: input.query.app, to: "check resources")
            let checked = try await platform.checkResource(input.path.resource, app: input.query.app)
            return .ok(.init(headers: .init(eTag: Self.etag(checked)), body: .json(Self.resource(checked.value))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    // MARK: Links and keys

    func linkResource(_ input: Operations.LinkResource.Input) async throws -> Operations.LinkResource.Output {
        do throws(PlatformError) {
            guard case .json(let body) = input.body else { throw Self.unsupportedBody }
            let path = input.path
            try caller.require(.deployer, for: path.app, to: "link resources")
            let revision = try await revision(input.headers.ifMatch) { () async throws(PlatformError) in
                try await platform.version(app: path.app, name: path.version).revision
            }
            let version = try await platform.link(
                app: path.app,
                version: path.version,
                declared: path.name,
                to: body.resource,
                ifRevision: revision
            )
            return .ok(.init(headers: .init(eTag: Self.etag(version)), body: .json(Self.version(version.value))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func listKeys(_ input: Operations.ListKeys.Input) async throws -> Operations.ListKeys.Output {
        do throws(PlatformError) {
            try caller.require(.viewer, for: input.path.app, to: "list keys")
            _ = try await platform.version(app: input.path.app, name: input.path.version)
            let limit = try Self.limit(input.query.limit)
            let page = try await platform.stored { () async throws(StoreError) in
                try await platform.store.list(
                    APIKey.self,
                    scope: "\(input.path.app)/\(input.path.version)",
                    after: input.query.after,
                    limit: limit
                )
            }
            let now = Date()
            return .ok(
                .init(body: .json(.init(items: page.items.map { Self.key($0.value, at: now) }, next: page.next)))
            )
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func createKey(_ input: Operations.CreateKey.Input) async throws -> Operations.CreateKey.Output {
        do throws(PlatformError) {
            guard case .json(let body) = input.body else { throw Self.unsupportedBody }
            try caller.require(.deployer, for: input.path.app, to: "create keys")
            let (key, record) = try await platform.createKey(
                app: input.path.app,
                version: input.path.version,
                name: body.name,
                expiresAt: body.expiresAt
            )
            return .created(.init(body: .json(.init(key: key, record: Self.key(record.value, at: Date())))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func revokeKey(_ input: Operations.RevokeKey.Input) async throws -> Operations.RevokeKey.Output {
        do throws(PlatformError) {
            try caller.require(.deployer, for: input.path.app, to: "revoke keys")
            try await platform.revokeKey(app: input.path.app, version: input.path.version, name: input.path.key)
            return .noContent(.init())
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    // MARK: Tokens

    func listTokens(_ input: Operations.ListTokens.Input) async throws -> Operations.ListTokens.Output {
        do throws(PlatformError) {
            try caller.requireEveryApp(.admin, to: "list tokens")
            let limit = try Self.limit(input.query.limit)
            let page = try await platform.stored { () async throws(StoreError) in
                try await platform.store.list(
                    AccessToken.self,
                    after: input.query.after,
                    limit: limit
                )
            }
            return .ok(.init(body: .json(.init(items: page.items.map { Self.token($0.value) }, next: page.next))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func createToken(_ input: Operations.CreateToken.Input) async throws -> Operations.CreateToken.Output {
        do throws(PlatformError) {
            guard case .json(let body) = input.body else { throw Self.unsupportedBody }
            try caller.requireEveryApp(.admin, to: "create tokens")
            let role = Role(rawValue: body.role.rawValue) ?? .viewer
            let (token, record) = try await platform.createToken(name: body.name, role: role, apps: body.apps)
            return .created(.init(body: .json(.init(token: token, record: Self.token(record.value)))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output {
        do throws(PlatformError) {
            try caller.requireEveryApp(.admin, to: "revoke tokens")
            try await platform.revokeToken(id: input.path.id)
            return .noContent(.init())
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    // MARK: Helpers

    /// Resources of an app need the role for that app; shared ones a token for every app.
    private func authorize(_ role: Role, resourcesOf app: String?, to action: String) throws(PlatformError) {
        if let app {
            // An empty or malformed name would otherwise read as no app, and so as the shared resources.
            try Platform.checkName(app, of: "app")
            try caller.require(role, for: app, to: action)
        } else {
            try caller.requireEveryApp(role, to: action + " shared by every app")
        }
    }

    static func resource(_ resource: Resource) -> Components.Schemas.Resource {
        .init(
            name: resource.name,
            app: resource.app,
            _type: .init(rawValue: resource.type.rawValue) ?? .postgres,
            host: resource.settings.host,
            port: resource.settings.port,
            database: resource.settings.database,
            user: resource.settings.user,
            tls: resource.settings.tls,
            options: .init(additionalProperties: resource.settings.options),
            hasPassword: resource.secrets.password != nil,
            hasUri: resource.secrets.uri != nil,
            reachability: resource.reachability.map {
                .init(reachable: $0.reachable, detail: $0.detail, checkedAt: $0.checkedAt)
            },
            createdAt: resource.createdAt,
            updatedAt: resource.updatedAt
        )
    }

    static func key(_ key: APIKey, at date: Date) -> Components.Schemas.Key {
        .init(
            name: key.name,
            createdAt: key.createdAt,
            expiresAt: key.expiresAt,
            revokedAt: key.revokedAt,
            valid: key.isValid(at: date)
        )
    }

    static func token(_ token: AccessToken) -> Components.Schemas.Token {
        .init(
            id: token.id,
            name: token.name,
            role: .init(rawValue: token.role.rawValue) ?? .viewer,
            apps: token.apps,
            createdAt: token.createdAt,
            revokedAt: token.revokedAt
        )
    }
}
