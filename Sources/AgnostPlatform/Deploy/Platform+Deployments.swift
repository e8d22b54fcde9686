import AgnostBundle
import AgnostCompiler
import AgnostKnative
import AgnostOCI
import AgnostSpec
import Foundation

extension Platform {
    /// Records a request to deploy `image` as version `version` of `app`; it runs once ``runDeployments()`` gets to
    /// it, one deployment of a version at a time.
    ///
    /// ```swift
    /// let deployment = try await platform.requestDeployment(
    ///     app: "todo", version: "v1", image: "registry.example.com/todo@sha256:…", by: caller)
    /// ```
    ///
    /// - Throws: ``PlatformError`` with `invalidInput` when the image is not pinned by digest, `conflict` when a
    ///   resource the version declares is not linked, `unavailable` when the platform has no cluster.
    public func requestDeployment(
        app: String,
        version name: String,
        image: String,
        by caller: Caller
    ) async throws(PlatformError) -> Revisioned<Deployment> {
        let version = try await self.version(app: app, name: name).value
        try Self.checkPinned(image)
        let spec = try Self.check(version.spec)
        let unlinked = spec.resources.map(\.name.value).filter { version.links[$0] == nil }
        guard unlinked.isEmpty else {
            throw PlatformError(
                .conflict,
                "version '\(name)' of app '\(app)' declares resource\(unlinked.count == 1 ? "" : "s") "
                    + "\(unlinked.map { "'\($0)'" }.joined(separator: ", ")) with no resource linked to it; link "
                    + "\(unlinked.count == 1 ? "it" : "them") first",
                context: unlinked[0]
            )
        }
        guard cluster != nil else {
            throw PlatformError(
                .unavailable,
                "this platform was started without a cluster to deploy to; give it a kubeconfig, or run it in the "
                    + "cluster",
                context: "\(app)/\(name)"
            )
        }
        let time = now()
        let deployment = Deployment(
            id: Self.deploymentID(at: time),
            app: app,
            version: name,
            image: image,
            requestedBy: caller.name,
            requestedAt: time
        )
        let created = try await stored { () async throws(StoreError) in try await store.create(deployment) }
        deployments.requested(DeploymentJob(app: app, version: name, id: deployment.id))
        return created
    }

    public func deployment(
        app: String,
        version: String,
        id: String
    ) async throws(PlatformError)
        -> Revisioned<Deployment>
    {
        try await existing(
            Deployment.self,
            scope: "\(app)/\(version)",
            name: id,
            what: "deployment '\(id)' of version '\(version)' of app '\(app)'"
        )
    }

    /// Runs the requested deployments until cancelled; cancelling fails the running ones (the cluster goes on with
    /// what was applied) and returns once they have ended.
    public func runDeployments() async {
        await deployments.run { job in
            await perform(job)
        } superseding: { job in
            _ = try? await modify(
                Deployment.self,
                scope: job.scope,
                name: job.id,
                what: "deployment '\(job.id)'"
            ) { deployment throws(PlatformError) in
                guard deployment.outcome == .pending else { return false }
                deployment.outcome = .superseded
                deployment.message = "a newer deployment of the version was requested before this one's turn"
                deployment.finishedAt = now()
                return true
            }
        }
    }

    // MARK: Running one

    /// Runs one deployment, keeping its record up to date: running, each progress line as the deployer reports
    /// it (written in order by one task), and the outcome; the version's state follows.
    private func perform(_ job: DeploymentJob) async {
        let what = "deployment '\(job.id)' of \(job.scope)"
        let started = try? await modify(Deployment.self, scope: job.scope, name: job.id, what: what) {
            deployment throws(PlatformError) in
            guard deployment.outcome == .pending else { return false }
            deployment.outcome = .running
            deployment.progress.append("deploying \(deployment.image)")
            return true
        }
        guard let started, started.value.outcome == .running else { return }
        await setVersionState(job, .deploying)
        let (lines, reporter) = AsyncStream.makeStream(of: String.self)
        let outcome = await withDiscardingTaskGroup(returning: Result<Deployer.Result, PlatformError>.self) { group in
            group.addTask {
                for await line in lines {
                    _ = try? await modify(Deployment.self, scope: job.scope, name: job.id, what: what) {
                        deployment throws(PlatformError) in
                        deployment.progress.append(line)
                        return true
                    }
                }
            }
            defer { reporter.finish() }
            do throws(PlatformError) {
                return .success(try await deploy(job, image: started.value.image) { reporter.yield($0) })
            } catch {
                return .failure(error)
            }
        }
        _ = try? await modify(Deployment.self, scope: job.scope, name: job.id, what: what) {
            deployment throws(PlatformError) in
            switch outcome {
            case .success(let result):
                deployment.outcome = .ready
                deployment.revision = result.revision
                deployment.url = result.url
            case .failure(let error):
                let cause = error.underlying as? DeployError
                deployment.outcome = .failed
                deployment.reason = cause?.reason ?? cause?.code.rawValue ?? error.code.rawValue
                deployment.message = error.message
                deployment.progress.append("failed: \(error.message)")
            }
            deployment.finishedAt = now()
            return true
        }
        await setVersionState(job, outcome.isSuccess ? .deployed : .failed)
    }

    private func deploy(
        _ job: DeploymentJob,
        image: String,
        report: @escaping @Sendable (String) -> Void
    ) async throws(PlatformError) -> Deployer.Result {
        guard let cluster else {
            throw PlatformError(.unavailable, "this platform has no cluster to deploy to", context: job.scope)
        }
        let version = try await self.version(app: job.app, name: job.version).value
        let spec = try Self.check(version.spec)
        let manifest = BuildPlan(spec: spec, specDigest: version.specDigest).manifest
        let settings = try await resourceSettings(of: version, declared: spec.resources)
        let keys = try await validKeys(app: job.app, version: job.version)
        var options = Deployer.Options(wait: readinessTimeout)
        options.secret = { existing in
            let token = existing.map(\.internalToken).flatMap { $0.isEmpty ? nil : $0 } ?? Deployer.newToken()
            return VersionSecretData(internalToken: token, apiKeys: keys, resourceSettings: settings)
        }
        let deployer = Deployer(client: cluster.client, namespace: cluster.namespace) { report($0.description) }
        do throws(DeployError) {
            return try await deployer.deploy(manifest, image: image, options: options)
        } catch {
            throw PlatformError(error)
        }
    }

    private func setVersionState(_ job: DeploymentJob, _ state: AppVersion.State) async {
        _ = try? await modify(
            AppVersion.self,
            scope: job.app,
            name: job.version,
            what: "version '\(job.version)' of app '\(job.app)'"
        ) { version throws(PlatformError) in
            guard version.state != state else { return false }
            version.state = state
            version.updatedAt = now()
            return true
        }
    }

    /// The Secret's variables for each resource the version declares, from the resource linked to it.
    func resourceSettings(
        of version: AppVersion,
        declared: [ResourceSpec]
    ) async throws(PlatformError)
        -> [String: String]
    {
        var variables: [String: String] = [:]
        for declaration in declared {
            let name = declaration.name.value
            guard let link = version.links[name] else {
                throw PlatformError(.conflict, "resource '\(name)' is not linked; link it first", context: name)
            }
            let resource = try await existing(
                Resource.self,
                scope: link.app ?? "",
                name: link.resource,
                what: "resource '\(link.resource)', linked as '\(name)'"
            )
            .value
            let secrets = try openSecrets(of: resource)
            for (setting, value) in ResourceVariables.settings(
                of: resource,
                password: secrets.password,
                uri: secrets.uri
            ) {
                variables[ResourceContract.variable(resource: name, setting: setting)] = value
            }
        }
        return variables
    }

    /// The version's keys that open its endpoints now, for its Secret.
    func validKeys(app: String, version: String) async throws(PlatformError) -> [APIKeyRecord] {
        var records: [APIKeyRecord] = []
        let time = now()
        try await eachPage(APIKey.self, scope: "\(app)/\(version)") { keys in
            for key in keys where key.isValid(at: time) {
                records.append(
                    APIKeyRecord(name: key.name, sha256Hex: key.hash, created: RecordCoding.format(key.createdAt))
                )
            }
        }
        return records
    }

    // MARK: Helpers

    static func checkPinned(_ image: String) throws(PlatformError) {
        let reference: ImageReference
        do throws(ImageError) {
            reference = try ImageReference(parsing: image)
        } catch {
            throw PlatformError(.invalidInput, "image '\(image)': \(error.message)", context: "image")
        }
        guard reference.digest != nil else {
            throw PlatformError(
                .invalidInput,
                "image '\(image)' is not pinned by digest; name it as REPOSITORY@sha256:…, as a push reports it",
                context: "image"
            )
        }
    }

    /// `20261203-151212-123-3fa9`: sorts as the requests came, to the millisecond, and apart within one.
    static func deploymentID(at time: Date) -> String {
        let digits = Array(RecordCoding.format(time).filter(\.isNumber))
        let suffix = String(UInt16.random(in: .min ... .max), radix: 16)
        return String(digits[0..<8]) + "-" + String(digits[8..<14]) + "-" + String(digits[14..<17]) + "-"
            + String(repeating: "0", count: 4 - suffix.count) + suffix
    }
}

extension Result {
    fileprivate var isSuccess: Bool {
        if case .success = self { true } else { false }
    }
}

extension PlatformError {
    init(_ error: DeployError) {
        self.init(.deployment, error.message, context: error.context ?? "", underlying: error)
    }
}
