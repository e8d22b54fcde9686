import AgnostBundle
import AgnostRuntime
import AgnostRuntimeTesting
import Testing

@Sendable private func describeMainDB(_ request: Request, _ context: Context) async throws -> Response {
    let db = try context.resources.require("main-db")
    return .text(
        "\(db.type)|\(db.uri ?? "-")|\(db.host ?? "-")|\(db.port.map(String.init) ?? "-")|\(db.database ?? "-")|"
            + "\(db.user ?? "-")|\(db.password ?? "-")|\(db.tls)|\(db.options.sorted { $0.key < $1.key })"
    )
}

/// `context.resources`: the settings the platform's Secret or the local settings file give each declared resource.
@Suite struct ResourcesTests {
    static let manifest = BundleManifest(
        app: "a",
        version: "v1",
        specDigest: "",
        build: BuildInfo(configuration: "debug", toolchain: "", inputDigest: ""),
        endpoints: [EndpointPlan(name: "db", method: "GET", path: "/", handler: "db", timeoutMilliseconds: 1000)],
        resources: [ResourcePlan(name: "main-db", type: "postgres"), ResourcePlan(name: "cache", type: "redis")]
    )

    static func variable(_ resource: String, _ setting: ResourceContract.Setting) -> String {
        ResourceContract.variable(resource: resource, setting: setting)
    }

    @Test func theNamingSchemeIsUpperCaseWithUnderscores() {
        #expect(Self.variable("main-db", .uri) == "AGNOST_RESOURCE_MAIN_DB_URI")
        #expect(Self.variable("cache", .password) == "AGNOST_RESOURCE_CACHE_PASSWORD")
    }

    @Test func aHandlerReadsEachSettingOfADeclaredResource() async throws {
        var handlers = HandlerRegistry()
        handlers.register(endpoint: "db", describeMainDB)
        let app = try TestApplication(
            manifest: Self.manifest,
            handlers: handlers,
            processEnvironment: [
                Self.variable("main-db", .uri): "postgresql://shop:pw@db:5432/orders",
                Self.variable("main-db", .host): "db",
                Self.variable("main-db", .port): "5432",
                Self.variable("main-db", .database): "orders",
                Self.variable("main-db", .user): "shop",
                Self.variable("main-db", .password): "pw",
                Self.variable("main-db", .tls): "true",
                Self.variable("main-db", .options): "sslmode=require&application_name=shop%20api",
            ]
        )
        let response = await app.request(.get, "/")
        #expect(
            response.bodyText
                == #"postgres|postgresql://shop:pw@db:5432/orders|db|5432|orders|shop|pw|true|[(key: "application_name", value: "shop api"), (key: "sslmode", value: "require")]"#
        )
    }

    @Test func aResourceWithoutSettingsOrNotDeclaredIsAnErrorThatSaysWhichAndIsNotSentToTheCaller() async throws {
        var handlers = HandlerRegistry()
        handlers.register(endpoint: "db", describeMainDB)
        let app = try TestApplication(manifest: Self.manifest, handlers: handlers)
        let response = await app.request(.get, "/")
        #expect(response.status == .internalServerError)
        #expect(response.bodyText.contains("main-db") == false, "the message stays in the log")
        #expect(app.logLines.contains { $0.contains("resource 'main-db' has no settings") }, "\(app.logLines)")

        let resources = LinkedResources(Self.manifest.resources, environment: [Self.variable("cache", .host): "r"])
        #expect(resources["main-db"] == nil)
        #expect(resources["cache"]?.host == "r" && resources["cache"]?.type == "redis")
        #expect(resources["cache"]?.tls == false)
        let undeclared = #expect(throws: ResourceError.self) { try resources.require("other") }
        #expect(undeclared?.message == "resource 'other' is not declared in agnost.yaml; it declares cache, main-db")
    }

    @Test func printingSettingsHidesThePasswordAndTheURI() {
        let settings = ResourceSettings(
            name: "main-db",
            type: "postgres",
            uri: "postgresql://shop:s3cret@db/orders",
            host: "db",
            password: "s3cret"
        )
        for text in [settings.description, String(reflecting: settings), "\(settings)"] {
            #expect(!text.contains("s3cret"), "\(text)")
            #expect(text.contains("host: db"))
        }
    }
}
