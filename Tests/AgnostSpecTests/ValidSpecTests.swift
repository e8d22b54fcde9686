import AgnostCron
import AgnostSpec
import Testing

@Suite("Valid agnost.yaml")
struct ValidSpecTests {
    /// The example of DESIGN.md, comments included.
    static let designExample = """
        app: todo                 # [a-z0-9-], the Knative Service is <app>-<version>
        version: v1
        endpoints:
          - name: getTodo
            method: GET           # GET POST PUT PATCH DELETE
            path: /todos/:id      # :params; may not start with /agnost
            handler: getTodo      # a public Swift function of the handler library
            middlewares: [auth]   # run in this order
            timeout: 5s
            apiKey: required      # required | none (default none)
            logExecution: true
        middlewares:
          - name: auth
            handler: requireUser
        queues:
          - name: emails
            handler: sendEmail
            retries: 5            # then dead-letter
            delay: 0s             # default delivery delay
        cron:
          - name: cleanup
            schedule: "*/5 * * * *"   # 5 fields or @hourly-style macros
            timezone: Europe/Istanbul
            handler: cleanup
            enabled: true
        resources:                # linked resources: connection settings reach the runtime as env/Secrets
          - name: maindb
            type: mongodb         # mongodb | postgres | redis | rabbitmq | s3
        env: { GREETING: hello }
        scaling: { min: 0, max: 10, concurrency: 50, timeout: 30s }
        """

    @Test func designExampleDecodesIntoTheExactModel() throws {
        let result = check(Self.designExample)
        #expect(result.diagnostics.isEmpty)
        #expect(result.errorCount == 0)
        #expect(result.warningCount == 0)
        let expected = AppSpec(
            app: "todo",
            version: "v1",
            endpoints: [
                EndpointSpec(
                    name: located("getTodo", 4, 11),
                    method: .GET,
                    path: try #require(RoutePath("/todos/:id")),
                    handler: located("getTodo", 7, 14),
                    middlewares: [located("auth", 8, 19)],
                    timeout: .seconds(5),
                    apiKey: .required,
                    logExecution: true,
                    location: at(4, 5)
                )
            ],
            middlewares: [
                MiddlewareSpec(
                    name: located("auth", 13, 11),
                    handler: located("requireUser", 14, 14),
                    location: at(13, 5)
                )
            ],
            queues: [
                QueueSpec(
                    name: located("emails", 16, 11),
                    handler: located("sendEmail", 17, 14),
                    retries: 5,
                    delay: .zero,
                    location: at(16, 5)
                )
            ],
            cronJobs: [
                CronJobSpec(
                    name: located("cleanup", 21, 11),
                    schedule: try CronExpression(parsing: "*/5 * * * *"),
                    timezone: "Europe/Istanbul",
                    handler: located("cleanup", 24, 14),
                    enabled: true,
                    location: at(21, 5)
                )
            ],
            resources: [ResourceSpec(name: located("maindb", 27, 11), type: .mongodb, location: at(27, 5))],
            env: [EnvVariable(name: located("GREETING", 29, 8), value: "hello")],
            scaling: ScalingSpec(min: 0, max: 10, concurrency: 50, timeout: .seconds(30))
        )
        let spec = try #require(result.spec)
        #expect(spec == expected)
        #expect(spec.serviceName == "todo-v1")
        #expect(spec.endpoint(named: "getTodo") == expected.endpoints.first)
        #expect(spec.endpoint(named: "missing") == nil)
        #expect(spec.cronJobs.first?.schedule.minutes.values == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55])
    }

    @Test func omittedSettingsTakeTheirDefaults() throws {
        let spec = try #require(
            check(
                """
                app: todo
                version: v1
                endpoints:
                  - { name: list, method: GET, path: /, handler: listTodos }
                queues:
                  - { name: emails, handler: sendEmail }
                cron:
                  - { name: nightly, schedule: "@daily", handler: Jobs.nightly }
                """
            ).spec
        )
        let endpoint = try #require(spec.endpoints.first)
        #expect(endpoint.middlewares.isEmpty)
        #expect(endpoint.timeout == nil)
        #expect(endpoint.apiKey == APIKeyPolicy.none)
        #expect(!endpoint.logExecution)
        #expect(endpoint.path.segments.isEmpty)
        #expect(spec.effectiveTimeout(of: endpoint) == .seconds(30))
        #expect(spec.queues.first?.retries == 3)
        #expect(spec.queues.first?.delay == .zero)
        #expect(spec.cronJobs.first?.timezone == "UTC")
        #expect(spec.cronJobs.first?.enabled == true)
        #expect(spec.cronJobs.first?.handler.value == "Jobs.nightly")
        #expect(spec.middlewares.isEmpty)
        #expect(spec.resources.isEmpty)
        #expect(spec.env.isEmpty)
        #expect(spec.scaling == ScalingSpec(min: 0, max: nil, concurrency: nil, timeout: .seconds(30)))
    }

    @Test func effectiveTimeoutPrefersTheEndpointsOwn() throws {
        let spec = try #require(
            check(
                """
                app: todo
                version: v1
                endpoints:
                  - { name: slow, method: POST, path: /slow, handler: slow, timeout: 2m }
                  - { name: fast, method: GET, path: /fast, handler: fast, timeout: 500ms }
                  - { name: plain, method: GET, path: /plain, handler: plain }
                scaling:
                  timeout: 3m
                """
            ).spec
        )
        #expect(spec.endpoints.map(spec.effectiveTimeout) == [.seconds(120), .milliseconds(500), .seconds(180)])
    }

    @Test func quotedAndEmptyCollectionsAndOtherScalarsAreAccepted() throws {
        let result = check(
            """
            app: todo
            version: 2
            endpoints:
              - name: "getTodo"
                method: 'GET'
                path: "/todos/:id"
                handler: "TodoHandlers.getTodo"
            middlewares:
            env:
              PORT_NUMBER: 8080
              EMPTY: ''
            """
        )
        #expect(result.diagnostics.isEmpty)
        let spec = try #require(result.spec)
        #expect(spec.version == "2")
        // The handler's location is its first character, after the quote: #sourceLocation points there.
        #expect(spec.endpoints.first?.handler == located("TodoHandlers.getTodo", 7, 15))
        #expect(spec.endpoints.first?.name == located("getTodo", 4, 12))
        #expect(
            spec.env == [
                EnvVariable(name: located("PORT_NUMBER", 10, 3), value: "8080"),
                EnvVariable(name: located("EMPTY", 11, 3), value: ""),
            ]
        )
    }

    @Test func warningsDoNotWithholdTheModel() throws {
        let result = check(
            """
            app: todo
            version: v1
            """
        )
        #expect(result.errorCount == 0)
        #expect(result.warningCount == 1)
        #expect(result.spec?.serviceName == "todo-v1")
    }
}
