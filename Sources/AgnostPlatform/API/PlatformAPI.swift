import Foundation
import HTTPTypes
import OpenAPIRuntime

/// The REST API of `openapi.yaml`, over ``Platform``: each handler checks the caller's role and apps, calls the
/// platform, and renders the record or the problem.
struct PlatformAPI: APIProtocol {
    let platform: Platform

    /// The caller of the request being handled, set by ``AuthenticationMiddleware``.
    @TaskLocal static var caller: Caller?

    var caller: Caller {
        get throws(PlatformError) {
            guard let caller = Self.caller else {
                throw PlatformError(.unauthorized, "this request needs a platform token", context: "authorization")
            }
            return caller
        }
    }

    // MARK: Apps

    func listApps(_ input: Operations.ListApps.Input) async throws -> Operations.ListApps.Output {
        do throws(PlatformError) {
            let caller = try self.caller
            try caller.require(.viewer, to: "list apps")
            let limit = try Self.limit(input.query.limit)
            var page = try await platform.stored { () async throws(StoreError) in
                try await platform.store.list(
                    App.self,
                    after: input.query.after,
                    limit: limit
                )
            }
            page.items.removeAll { !caller.mayReach($0.value.name) }
            return .ok(.init(body: .json(.init(items: page.items.map { Self.app($0.value) }, next: page.next))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func createApp(_ input: Operations.CreateApp.Input) async throws -> Operations.CreateApp.Output {
        do throws(PlatformError) {
            guard case .json(let body) = input.body else { throw Self.unsupportedBody }
            try caller.requireEveryApp(.admin, to: "create apps")
            let created = try await platform.createApp(name: body.name, description: body.description ?? "")
            return .created(.init(headers: .init(eTag: Self.etag(created)), body: .json(Self.app(created.value))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func getApp(_ input: Operations.GetApp.Input) async throws -> Operations.GetApp.Output {
        do throws(PlatformError) {
            try caller.require(.viewer, for: input.path.app, to: "read")
            let app = try await platform.app(input.path.app)
            return .ok(.init(headers: .init(eTag: Self.etag(app)), body: .json(Self.app(app.value))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func updateApp(_ input: Operations.UpdateApp.Input) async throws -> Operations.UpdateApp.Output {
        do throws(PlatformError) {
            guard case .json(let body) = input.body else { throw Self.unsupportedBody }
            try caller.require(.admin, for: input.path.app, to: "change")
            let revision = try await revision(input.headers.ifMatch) { () async throws(PlatformError) in
                try await platform.app(input.path.app).revision
            }
            let app = try await platform.updateApp(input.path.app, description: body.description, ifRevision: revision)
            return .ok(.init(headers: .init(eTag: Self.etag(app)), body: .json(Self.app(app.value))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func deleteApp(_ input: Operations.DeleteApp.Input) async throws -> Operations.DeleteApp.Output {
        do throws(PlatformError) {
            try caller.require(.admin, for: input.path.app, to: "remove")
            var revision: Int?
            if let ifMatch = input.headers.ifMatch {
                revision = try await self.revision(ifMatch) { () async throws(PlatformError) in
                    try await platform.app(input.path.app).revision
                }
            }
            try await platform.deleteApp(input.path.app, ifRevision: revision)
            return .noContent(.init())
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    // MARK: Versions

    func listVersions(_ input: Operations.ListVersions.Input) async throws -> Operations.ListVersions.Output {
        do throws(PlatformError) {
            try caller.require(.viewer, for: input.path.app, to: "list versions")
            let limit = try Self.limit(input.query.limit)
            let page = try await platform.stored { () async throws(StoreError) in
                try await platform.store.list(
                    AppVersion.self,
                    scope: input.path.app,
                    after: input.query.after,
                    limit: limit
                )
            }
            // An app with versions cannot be removed, so only an empty page needs to ask whether the app exists:
            // one store read fewer on every list that has something to show.
            if page.items.isEmpty { _ = try await platform.app(input.path.app) }
            return .ok(.init(body: .json(.init(items: page.items.map { Self.version($0.value) }, next: page.next))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func uploadVersion(_ input: Operations.UploadVersion.Input) async throws -> Operations.UploadVersion.Output {
        do throws(PlatformError) {
            try caller.require(.deployer, for: input.path.app, to: "upload versions")
            guard case .yaml(let body) = input.body else { throw Self.unsupportedBody }
            let spec = try await Self.text(of: body)
            let version = try await platform.uploadVersion(app: input.path.app, spec: spec)
            return .created(.init(headers: .init(eTag: Self.etag(version)), body: .json(Self.version(version.value))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func getVersion(_ input: Operations.GetVersion.Input) async throws -> Operations.GetVersion.Output {
        do throws(PlatformError) {
            try caller.require(.viewer, for: input.path.app, to: "read versions")
            let version = try await platform.version(app: input.path.app, name: input.path.version)
            return .ok(.init(headers: .init(eTag: Self.etag(version)), body: .json(Self.version(version.value))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    // MARK: Rendering

    static func app(_ app: App) -> Components.Schemas.App {
        .init(name: app.name, description: app.description, createdAt: app.createdAt, updatedAt: app.updatedAt)
    }

    static func version(_ version: AppVersion) -> Components.Schemas.Version {
        .init(
            app: version.app,
            name: version.name,
            specDigest: version.specDigest,
            state: .init(rawValue: version.state.rawValue) ?? .uploaded,
            links: .init(
                additionalProperties: version.links.mapValues { .init(resource: $0.resource, app: $0.app) }
            ),
            createdAt: version.createdAt,
            updatedAt: version.updatedAt
        )
    }

    static func etag<Value>(_ record: Revisioned<Value>) -> String { "\"\(record.revision)\"" }

    static func problem(_ error: PlatformError) -> Components.Responses.Problem {
        .init(
            body: .applicationProblemJson(
                .init(
                    _type: "https://agnost-fn.dev/problems/\(error.code.rawValue)",
                    title: error.title,
                    status: error.status,
                    detail: error.message,
                    errors: error.details.isEmpty ? nil : error.details
                )
            )
        )
    }

    // MARK: Input

    static let unsupportedBody = PlatformError(
        .invalidInput,
        "the request body is not of a type this operation takes",
        context: "content-type"
    )

    /// A page's size: 50 unless asked, and a size outside the document's 1...500 is refused rather than changed, so
    /// that a client asking for 1,000 learns that it gets at most 500.
    static func limit(_ requested: Int?) throws(PlatformError) -> Int {
        guard let requested else { return 50 }
        guard (1...500).contains(requested) else {
            throw PlatformError(.invalidInput, "limit \(requested) is not from 1 to 500", context: "limit")
        }
        return requested
    }

    /// The revision an `If-Match` names: `"3"` (or `W/"3"`), or `*` for whatever the record is at now.
    func revision(
        _ ifMatch: String,
        current: () async throws(PlatformError) -> Int
    ) async throws(PlatformError) -> Int {
        let trimmed = ifMatch.trimmingCharacters(in: .whitespaces)
        if trimmed == "*" { return try await current() }
        let unquoted = (trimmed.hasPrefix("W/") ? String(trimmed.dropFirst(2)) : trimmed)
            .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard let revision = Int(unquoted), revision > 0 else {
            throw PlatformError(
                .revisionConflict,
                "If-Match \(ifMatch) is not an ETag of this record; read it again and send its ETag",
                context: "If-Match"
            )
        }
        return revision
    }

    /// The UTF-8 text of a body of at most 1 MiB.
    static func text(of body: HTTPBody) async throws(PlatformError) -> String {
        let bytes: [UInt8]
        do {
            bytes = try await [UInt8](collecting: body, upTo: 1 << 20)
        } catch {
            throw PlatformError(.invalidInput, "the body is larger than 1 MiB", context: "body")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PlatformError(.invalidInput, "agnost.yaml is not UTF-8 text; save it as UTF-8", context: "body")
        }
        return text
    }
}

extension PlatformError {
    /// The HTTP status the API answers this failure with.
    var status: Int {
        switch code {
        case .invalidInput: 400
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .conflict: 409
        case .revisionConflict: 412
        case .invalidSpec: 422
        case .unavailable: 503
        case .deployment: 502
        case .storage, .invalidKey, .unsealable, .crypto: 500
        }
    }

    var title: String { Self.title(of: status) }

    /// The reason phrase of `status`, which a status made from its code alone leaves empty.
    static func title(of status: Int) -> String {
        let known: [HTTPResponse.Status] = [
            .badRequest, .unauthorized, .forbidden, .notFound, .methodNotAllowed, .conflict, .preconditionFailed,
            .contentTooLarge, .unsupportedMediaType, .unprocessableContent, .internalServerError, .badGateway,
            .serviceUnavailable,
        ]
        return known.first { $0.code == status }?.reasonPhrase ?? "Error"
    }
}
