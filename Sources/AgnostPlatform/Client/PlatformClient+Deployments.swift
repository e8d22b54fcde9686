import Foundation

extension PlatformClient {
    /// Registers `spec`, an `agnost.yaml`, as the version it names of `app`; a version registered before from the
    /// same text is kept as it is.
    ///
    /// - Throws: ``PlatformClientError`` when the platform refuses it (with every diagnostic), or when the version
    ///   exists with another text: a version's agnost.yaml never changes once registered.
    public func register(
        app: String,
        version: String,
        spec: String,
        digest: String
    ) async throws(PlatformClientError)
        -> PlatformViews.Version
    {
        let path = "/apps/\(Self.segment(app))/versions"
        do throws(PlatformClientError) {
            return try await call("POST", path, body: Array(spec.utf8), contentType: "application/yaml")
                .decode(PlatformViews.Version.self, context: "POST \(path)")
        } catch {
            guard error.status == 409 else { throw error }
            let existingPath = "\(path)/\(Self.segment(version))"
            let existing = try await call("GET", existingPath).decode(
                PlatformViews.Version.self,
                context: "GET \(existingPath)"
            )
            guard existing.specDigest == digest else {
                throw PlatformClientError(
                    .refused,
                    "version '\(version)' of app '\(app)' is registered with another agnost.yaml "
                        + "(\(existing.specDigest)); a version's agnost.yaml never changes, so give this one a new "
                        + "version",
                    status: 409,
                    context: "POST \(path)"
                )
            }
            return existing
        }
    }

    /// Asks the platform to deploy `image` (pinned by digest) as the version.
    public func requestDeployment(
        app: String,
        version: String,
        image: String
    ) async throws(PlatformClientError)
        -> PlatformViews.Deployment
    {
        let path = "/apps/\(Self.segment(app))/versions/\(Self.segment(version))/deployments"
        let body = (try? JSONEncoder().encode(["image": image])).map { Array($0) } ?? []
        return try await call("POST", path, body: body).decode(PlatformViews.Deployment.self, context: "POST \(path)")
    }

    /// Reads the deployment every `interval` until it is final or `timeout` passes, handing each new progress line
    /// to `report` as it appears.
    public func follow(
        _ deployment: PlatformViews.Deployment,
        every interval: Duration = .milliseconds(500),
        timeout: Duration,
        report: (String) -> Void
    ) async throws(PlatformClientError) -> PlatformViews.Deployment {
        let path =
            "/apps/\(Self.segment(deployment.app))/versions/\(Self.segment(deployment.version))/deployments/"
            + Self.segment(deployment.id)
        let deadline = ContinuousClock.now + timeout
        var current = deployment
        var shown = 0
        while true {
            for line in current.progress.dropFirst(shown) { report(line) }
            shown = max(shown, current.progress.count)
            if current.isFinal { return current }
            guard ContinuousClock.now < deadline else {
                throw PlatformClientError(
                    .refused,
                    "deployment \(deployment.id) is still \(current.outcome) after \(timeout); the platform goes on "
                        + "with it",
                    context: "GET \(path)"
                )
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                throw PlatformClientError(.unreachable, "cancelled; the platform goes on with it", context: path)
            }
            current = try await call("GET", path).decode(PlatformViews.Deployment.self, context: "GET \(path)")
        }
    }
}
