import Foundation
import OpenAPIRuntime

extension PlatformAPI {
    func listDeployments(_ input: Operations.ListDeployments.Input) async throws -> Operations.ListDeployments.Output {
        do throws(PlatformError) {
            let path = input.path
            try caller.require(.viewer, for: path.app, to: "list deployments")
            _ = try await platform.version(app: path.app, name: path.version)
            let limit = try Self.limit(input.query.limit)
            let page = try await platform.stored { () async throws(StoreError) in
                try await platform.store.list(
                    Deployment.self,
                    scope: "\(path.app)/\(path.version)",
                    after: input.query.after,
                    limit: limit
                )
            }
            return .ok(.init(body: .json(.init(items: page.items.map { Self.deployment($0.value) }, next: page.next))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func requestDeployment(
        _ input: Operations.RequestDeployment.Input
    ) async throws -> Operations.RequestDeployment.Output {
        do throws(PlatformError) {
            guard case .json(let body) = input.body else { throw Self.unsupportedBody }
            let path = input.path
            let caller = try self.caller
            try caller.require(.deployer, for: path.app, to: "deploy versions")
            let deployment = try await platform.requestDeployment(
                app: path.app,
                version: path.version,
                image: body.image,
                by: caller
            )
            let location = "/v1/apps/\(path.app)/versions/\(path.version)/deployments/\(deployment.value.id)"
            return .accepted(
                .init(headers: .init(location: location), body: .json(Self.deployment(deployment.value)))
            )
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    func getDeployment(_ input: Operations.GetDeployment.Input) async throws -> Operations.GetDeployment.Output {
        do throws(PlatformError) {
            let path = input.path
            try caller.require(.viewer, for: path.app, to: "read deployments")
            let deployment = try await platform.deployment(app: path.app, version: path.version, id: path.deployment)
            return .ok(.init(body: .json(Self.deployment(deployment.value))))
        } catch {
            return .default(statusCode: error.status, Self.problem(error))
        }
    }

    static func deployment(_ deployment: Deployment) -> Components.Schemas.Deployment {
        .init(
            id: deployment.id,
            app: deployment.app,
            version: deployment.version,
            image: deployment.image,
            requestedBy: deployment.requestedBy,
            requestedAt: deployment.requestedAt,
            outcome: .init(rawValue: deployment.outcome.rawValue) ?? .pending,
            revision: deployment.revision,
            url: deployment.url,
            reason: deployment.reason,
            message: deployment.message,
            progress: deployment.progress,
            finishedAt: deployment.finishedAt
        )
    }
}
