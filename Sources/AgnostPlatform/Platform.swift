internal import AgnostDigest
import AgnostKnative
import AgnostSpec
internal import COpenSSL
import Foundation

/// The control plane's operations over its store, with every check they need: the REST API is a thin layer over
/// these, and says who may call which.
///
/// ```swift
/// let platform = Platform(store: store, sealer: sealer)
/// _ = try await platform.createApp(name: "todo", description: "Todos")
/// let version = try await platform.uploadVersion(app: "todo", spec: yaml)
/// ```
public struct Platform: Sendable {
    public let store: any PlatformStore
    let sealer: SecretSealer
    let reachability: ReachabilityCheck
    /// Where versions are deployed; nil when the platform was started without a cluster.
    let cluster: Deployer?
    /// How long a deployment waits for its revision to become ready.
    let readinessTimeout: Duration
    let deployments = DeploymentRunner()
    let verifiedTokens = VerifiedTokens()
    /// The wall clock, to the millisecond: exactly what a record keeps and reads back.
    let now: @Sendable () -> Date

    /// - Parameters:
    ///   - cluster: the namespace versions are deployed to; without one, deployment requests are refused.
    ///   - readinessTimeout: how long a deployment waits for its revision before it is failed.
    public init(
        store: any PlatformStore,
        sealer: SecretSealer,
        reachability: ReachabilityCheck = ReachabilityCheck(),
        cluster: Deployer? = nil,
        readinessTimeout: Duration = .seconds(300)
    ) {
        self.init(
            store: store,
            sealer: sealer,
            reachability: reachability,
            cluster: cluster,
            readinessTimeout: readinessTimeout,
            now: { Date() }
        )
    }

    init(
        store: any PlatformStore,
        sealer: SecretSealer,
        reachability: ReachabilityCheck,
        cluster: Deployer? = nil,
        readinessTimeout: Duration = .seconds(300),
        now: @escaping @Sendable () -> Date
    ) {
        self.store = store
        self.sealer = sealer
        self.reachability = reachability
        self.cluster = cluster
        self.readinessTimeout = readinessTimeout
        self.now = { RecordCoding.storable(now()) }
    }

    // MARK: Apps

    public func createApp(name: String, description: String) async throws(PlatformError) -> Revisioned<App> {
        try Self.checkName(name, of: "app")
        try Self.checkDescription(description)
        let time = now()
        return try await stored { () async throws(StoreError) in
            try await store.create(App(name: name, description: description, createdAt: time, updatedAt: time))
        }
    }

    public func app(_ name: String) async throws(PlatformError) -> Revisioned<App> {
        try await existing(App.self, name: name, what: "app '\(name)'")
    }

    public func updateApp(
        _ name: String,
        description: String,
        ifRevision revision: Int
    ) async throws(PlatformError) -> Revisioned<App> {
        try Self.checkDescription(description)
        var app = try await self.app(name).value
        app.description = description
        app.updatedAt = now()
        return try await stored { () async throws(StoreError) in try await store.update(app, ifRevision: revision) }
    }

    /// An app's description is for people, and at most 1,000 characters (Unicode scalars, as JSON Schema counts).
    static func checkDescription(_ description: String) throws(PlatformError) {
        let length = description.unicodeScalars.count
        guard length <= 1000 else {
            throw PlatformError(
                .invalidInput,
                "the description is \(length) characters long; shorten it to at most 1000",
                context: "description"
            )
        }
    }

    /// Removes an app that has no versions or resources left (deployments belong to versions).
    public func deleteApp(_ name: String, ifRevision revision: Int?) async throws(PlatformError) {
        _ = try await app(name)
        for kind in [RecordKind.version, .resource] {
            let page = try await stored { () async throws(StoreError) in
                try await store.list(kind, scope: name, after: nil, limit: 1)
            }
            if let first = page.records.first {
                throw PlatformError(
                    .conflict,
                    "app '\(name)' still has \(first.key); remove its versions and resources first",
                    context: name
                )
            }
        }
        try await stored { () async throws(StoreError) in
            try await store.delete(RecordKey(.app, name: name), ifRevision: revision)
        }
    }

    // MARK: Versions

    /// Checks `spec`, an `agnost.yaml`, and stores it as the version it names of `app`.
    ///
    /// - Throws: ``PlatformError`` with `invalidSpec` and every diagnostic when it does not check, `invalidInput`
    ///   when it names another app, `conflict` when the version exists.
    public func uploadVersion(app: String, spec: String) async throws(PlatformError) -> Revisioned<AppVersion> {
        _ = try await self.app(app)
        let checked = try Self.check(spec)
        guard checked.app == app else {
            throw PlatformError(
                .invalidInput,
                "agnost.yaml is for app '\(checked.app)', not '\(app)'; upload it to that app, or change its 'app:'",
                context: app
            )
        }
        let time = now()
        let version = AppVersion(
            app: app,
            name: checked.version,
            spec: spec,
            specDigest: SHA256.hash(spec.utf8).description,
            createdAt: time,
            updatedAt: time
        )
        return try await stored { () async throws(StoreError) in try await store.create(version) }
    }

    public func version(app: String, name: String) async throws(PlatformError) -> Revisioned<AppVersion> {
        try await existing(AppVersion.self, scope: app, name: name, what: "version '\(name)' of app '\(app)'")
    }

    /// Links the resource name `declared` of a version's spec to resource `resource` (the app's own, or shared).
    ///
    /// - Throws: ``PlatformError`` with `invalidInput` when the spec declares no such name or the types differ,
    ///   naming both.
    public func link(
        app: String,
        version name: String,
        declared: String,
        to resource: String,
        ifRevision revision: Int
    ) async throws(PlatformError) -> Revisioned<AppVersion> {
        var version = try await self.version(app: app, name: name).value
        let spec = try Self.check(version.spec)
        guard let declaration = spec.resources.first(where: { $0.name.value == declared }) else {
            let names = spec.resources.map(\.name.value)
            throw PlatformError(
                .invalidInput,
                "version '\(name)' of app '\(app)' declares no resource '\(declared)'; "
                    + (names.isEmpty
                        ? "its agnost.yaml declares none" : "it declares \(names.joined(separator: ", "))"),
                context: declared
            )
        }
        let target = try await self.resource(resource, visibleTo: app)
        guard target.value.type == declaration.type else {
            throw PlatformError(
                .invalidInput,
                "resource '\(declared)' of version '\(name)' is a \(declaration.type.rawValue), but resource "
                    + "'\(resource)' is a \(target.value.type.rawValue); link a \(declaration.type.rawValue)",
                context: declared
            )
        }
        version.links[declared] = ResourceLink(resource: resource, app: target.value.app)
        version.updatedAt = now()
        let updated = version
        return try await stored { () async throws(StoreError) in try await store.update(updated, ifRevision: revision) }
    }

    // MARK: Resources

    /// What a caller gives to add a resource; the secrets are sealed before anything is stored.
    public struct NewResource: Sendable {
        public var name: String
        /// The app it belongs to; nil to share it with every app.
        public var app: String?
        public var type: AgnostSpec.ResourceType
        public var settings: ConnectionSettings
        public var password: String?
        public var uri: String?

        public init(
            name: String,
            app: String?,
            type: AgnostSpec.ResourceType,
            settings: ConnectionSettings,
            password: String? = nil,
            uri: String? = nil
        ) {
            self.name = name
            self.app = app
            self.type = type
            self.settings = settings
            self.password = password
            self.uri = uri
        }
    }

    public func addResource(_ new: NewResource) async throws(PlatformError) -> Revisioned<Resource> {
        try Self.checkName(new.name, of: "resource")
        if let app = new.app { _ = try await self.app(app) }
        guard new.uri != nil || new.settings.host != nil else {
            throw PlatformError(
                .invalidInput,
                "resource '\(new.name)' needs a uri or a host to connect to",
                context: new.name
            )
        }
        if let port = new.settings.port, !(1...65_535).contains(port) {
            throw PlatformError(.invalidInput, "port \(port) is not between 1 and 65535", context: new.name)
        }
        let key = RecordKey(.resource, scope: new.app ?? "", name: new.name)
        let secrets = SealedSecrets(
            password: try new.password.map { password throws(PlatformError) in
                try sealer.seal(Array(password.utf8), for: key.description)
            },
            uri: try new.uri.map { uri throws(PlatformError) in try sealer.seal(Array(uri.utf8), for: key.description) }
        )
        let time = now()
        let resource = Resource(
            name: new.name,
            app: new.app,
            type: new.type,
            settings: new.settings,
            secrets: secrets,
            createdAt: time,
            updatedAt: time
        )
        let created = try await stored { () async throws(StoreError) in try await store.create(resource) }
        return try await checkReachability(of: created)
    }

    /// Checks whether resource `name` (of `app`, or shared) answers, and keeps the result and its time with it.
    public func checkResource(_ name: String, app: String?) async throws(PlatformError) -> Revisioned<Resource> {
        let key = RecordKey(.resource, scope: app ?? "", name: name)
        guard
            let current = try await stored({ () async throws(StoreError) in
                try await store.fetch(Resource.self, scope: key.scope, name: name)
            })
        else {
            throw PlatformError(.notFound, "no \(key)", context: name)
        }
        return try await checkReachability(of: current)
    }

    private func checkReachability(of current: Revisioned<Resource>) async throws(PlatformError) -> Revisioned<Resource>
    {
        let resource = current.value
        let uri = try openSecrets(of: resource).uri
        let endpoint =
            resource.settings.host.map {
                ResourceEndpoint(
                    host: $0,
                    port: resource.settings.port ?? ResourceEndpoint.defaultPort(of: resource.type)
                )
            } ?? uri.flatMap { ResourceEndpoint(uri: $0, type: resource.type) }
        let result: (reachable: Bool, detail: String)
        if let endpoint {
            let tls = resource.settings.tls || uri.map(ReachabilityCheck.usesTLS(uri:)) == true
            result = await reachability.check(endpoint, of: resource.type, tls: tls)
        } else {
            result = (false, "its URI names no host to connect to")
        }
        let reachability = Reachability(reachable: result.reachable, detail: result.detail, checkedAt: now())
        // Kept with whatever the resource became meanwhile: a change made during the check is not undone.
        return try await modify(
            Resource.self,
            scope: resource.key.scope,
            name: resource.name,
            what: "\(resource.key)",
            from: current
        ) { checked throws(PlatformError) in
            checked.reachability = reachability
            return true
        }
    }

    /// Removes resource `name` (of `app`, or shared) once no version links to it.
    ///
    /// - Throws: ``PlatformError`` with `conflict` naming the versions that still link it.
    public func removeResource(_ name: String, app: String?, ifRevision revision: Int?) async throws(PlatformError) {
        let key = RecordKey(.resource, scope: app ?? "", name: name)
        _ = try await existing(Resource.self, scope: key.scope, name: name, what: "\(key)")
        var apps: [String] = []
        if let app {
            apps = [app]
        } else {
            try await eachPage(App.self, scope: "") { page in apps += page.map(\.name) }
        }
        var linking: [String] = []
        for scope in apps {
            try await eachPage(AppVersion.self, scope: scope) { versions in
                for version in versions {
                    for (declared, link) in version.links.sorted(by: { $0.key < $1.key })
                    where link.resource == name && link.app == app {
                        linking.append("version '\(version.name)' of app '\(version.app)' (as '\(declared)')")
                    }
                }
            }
        }
        guard linking.isEmpty else {
            throw PlatformError(
                .conflict,
                "\(key) is still linked by \(linking.joined(separator: ", ")); link those to another resource first",
                context: name
            )
        }
        try await stored { () async throws(StoreError) in try await store.delete(key, ifRevision: revision) }
    }

    /// Every record of `type` in `scope`, a page at a time.
    func eachPage<Value: PlatformRecord>(
        _ type: Value.Type,
        scope: String,
        _ body: ([Value]) throws(PlatformError) -> Void
    ) async throws(PlatformError) {
        var cursor: String?
        repeat {
            let page = try await stored { () async throws(StoreError) in
                try await store.list(Value.self, scope: scope, after: cursor, limit: 500)
            }
            try body(page.items.map(\.value))
            cursor = page.next
        } while cursor != nil
    }

    /// The resource `name` that `app` may link: its own, else a shared one.
    public func resource(_ name: String, visibleTo app: String?) async throws(PlatformError) -> Revisioned<Resource> {
        for scope in [app, ""].compactMap({ $0 }) {
            if let found = try await stored({ () async throws(StoreError) in
                try await store.fetch(Resource.self, scope: scope, name: name)
            }) {
                return found
            }
        }
        let place = app.map { "app '\($0)' or shared" } ?? "shared"
        throw PlatformError(.notFound, "no resource '\(name)', \(place)", context: name)
    }

    /// The opened secrets of `resource`, for a deployment's Secret and nothing else.
    func openSecrets(of resource: Resource) throws(PlatformError) -> (password: String?, uri: String?) {
        let record = resource.key.description
        let password = try resource.secrets.password.map { sealed throws(PlatformError) in
            String(decoding: try sealer.open(sealed, for: record), as: UTF8.self)
        }
        let uri = try resource.secrets.uri.map { sealed throws(PlatformError) in
            String(decoding: try sealer.open(sealed, for: record), as: UTF8.self)
        }
        return (password, uri)
    }

    // MARK: API keys

    /// Creates an API key for a version's endpoints and returns it: the only time it is shown, as only its
    /// SHA-256 is kept.
    public func createKey(
        app: String,
        version: String,
        name: String,
        expiresAt: Date?
    ) async throws(PlatformError) -> (key: String, record: Revisioned<APIKey>) {
        _ = try await self.version(app: app, name: version)
        try Self.checkName(name, of: "key")
        let key = "ak_" + (try Self.randomToken(for: name))
        let record = APIKey(
            app: app,
            version: version,
            name: name,
            hash: SHA256.hash(key.utf8).hexString,
            createdAt: now(),
            expiresAt: expiresAt
        )
        return (key, try await stored { () async throws(StoreError) in try await store.create(record) })
    }

    /// Revokes API key `name` of a version: it stops opening the endpoints at the next deployment of the version.
    public func revokeKey(app: String, version: String, name: String) async throws(PlatformError) {
        let scope = "\(app)/\(version)"
        _ = try await modify(APIKey.self, scope: scope, name: name, what: "key '\(name)' of \(scope)") {
            key throws(PlatformError) in
            guard key.revokedAt == nil else { return false }
            key.revokedAt = now()
            return true
        }
    }

    // MARK: Helpers

    func existing<Value: PlatformRecord>(
        _ type: Value.Type,
        scope: String = "",
        name: String,
        what: String
    ) async throws(PlatformError) -> Revisioned<Value> {
        let found = try await stored { () async throws(StoreError) in
            try await store.fetch(Value.self, scope: scope, name: name)
        }
        guard let found else { throw PlatformError(.notFound, "no \(what)", context: name) }
        return found
    }

    /// Changes the record as `change` says, from the revision it is at (`current`, or read now); when another
    /// write comes between, it reads the record again and retries, at most three times. A `change` that returns
    /// false leaves the record as it is.
    func modify<Value: PlatformRecord>(
        _ type: Value.Type,
        scope: String = "",
        name: String,
        what: String,
        from current: Revisioned<Value>? = nil,
        _ change: (inout Value) throws(PlatformError) -> Bool
    ) async throws(PlatformError) -> Revisioned<Value> {
        var latest: Revisioned<Value>
        if let current {
            latest = current
        } else {
            latest = try await existing(type, scope: scope, name: name, what: what)
        }
        for _ in 0..<3 {
            var value = latest.value
            guard try change(&value) else { return latest }
            let changed = value
            do throws(StoreError) {
                return try await store.update(changed, ifRevision: latest.revision)
            } catch {
                guard error.code == .revisionConflict else { throw PlatformError(error) }
            }
            latest = try await existing(type, scope: scope, name: name, what: what)
        }
        throw PlatformError(.revisionConflict, "\(what) kept changing; try again", context: name)
    }

    func stored<T>(_ operation: () async throws(StoreError) -> T) async throws(PlatformError) -> T {
        do throws(StoreError) {
            return try await operation()
        } catch {
            throw PlatformError(error)
        }
    }

    /// The app spec of `source`, or every diagnostic as `agnost.yaml:LINE:COL: …`.
    static func check(_ source: String) throws(PlatformError) -> AppSpec {
        let result = SpecChecker.check(source: source, file: "agnost.yaml")
        guard let spec = result.spec else {
            let count = result.errorCount == 1 ? "1 error" : "\(result.errorCount) errors"
            throw PlatformError(
                .invalidSpec,
                "agnost.yaml has \(count)",
                context: "agnost.yaml",
                details: result.diagnostics.map(\.description)
            )
        }
        return spec
    }

    /// Names as Kubernetes and the spec allow them: lowercase letters, digits and inner dashes, at most 40.
    static func checkName(_ name: String, of what: String) throws(PlatformError) {
        let bytes = Array(name.utf8)
        let allowed = bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "-")
        }
        guard !bytes.isEmpty, bytes.count <= 40, allowed, bytes.first != UInt8(ascii: "-"),
            bytes.last != UInt8(ascii: "-")
        else {
            throw PlatformError(
                .invalidInput,
                "\(what) name '\(name)' must be 1 to 40 lowercase letters, digits and inner dashes",
                context: name
            )
        }
    }

    /// 32 random bytes in base64url without padding.
    static func randomToken(for context: String) throws(PlatformError) -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&bytes, Int32(bytes.count)) == 1 else {
            throw PlatformError(.crypto, "the system's random source failed", context: context)
        }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
