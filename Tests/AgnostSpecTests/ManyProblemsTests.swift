import AgnostSpec
import Testing

@Suite("Diagnostics: many problems at once")
struct ManyProblemsTests {
    @Test func everyProblemIsReportedInSourceOrder() {
        let result = check(
            """
            app: Todo
            version: v1
            endpoints:
              - name: getTodo
                method: get
                path: /agnost/todos
                handler: getTodo
                middlewares: [auth]
                timeout: 5s
                timeout: 6s
              - name: getTodo
                method: POST
                path: /todos
                hanlder: createTodo
            queues:
              - { name: emails, handler: send-email, retries: 500 }
            cron:
              - { name: cleanup, schedule: "*/5 * * * MONDAY", handler: cleanup, timezone: Europe/Istambul }
            resources:
              - { name: maindb, type: mongo }
            env: { PORT: 8080 }
            scaling: { min: 2, max: 1, timeout: 2h }
            """
        )
        #expect(
            result.diagnostics.map(\.description) == [
                "agnost.yaml:1:6: error: app name 'Todo' is invalid; use lowercase letters, digits and '-', starting "
                    + "with a letter and ending with a letter or digit",
                "agnost.yaml:4:11: note: first defined here",
                "agnost.yaml:5:13: error: unknown HTTP method 'get'; did you mean 'GET'?",
                "agnost.yaml:6:11: error: path '/agnost/todos' is reserved: paths under /agnost are reserved for "
                    + "health, readiness and event delivery; choose another path",
                "agnost.yaml:8:19: error: undefined middleware 'auth'; define it under 'middlewares'",
                "agnost.yaml:9:5: note: first defined here",
                "agnost.yaml:10:5: error: duplicate key 'timeout' in endpoint; remove one of them",
                "agnost.yaml:11:11: error: duplicate endpoint name 'getTodo'; rename one of them",
                "agnost.yaml:14:5: error: unknown key 'hanlder' in endpoint; did you mean 'handler'?",
                "agnost.yaml:16:30: error: handler 'send-email' is not a Swift function name; write an identifier "
                    + "like 'getTodo', optionally qualified by its module like 'TodoHandlers.getTodo'",
                "agnost.yaml:16:51: error: queue retries must be between 0 and 100, found 500",
                "agnost.yaml:18:43: error: invalid schedule: unknown day-of-week name 'MONDAY'; use SUN-SAT or 0-7",
                "agnost.yaml:18:80: error: unknown time zone 'Europe/Istambul'; did you mean 'Europe/Istanbul'?",
                "agnost.yaml:20:27: error: unknown resource type 'mongo'; did you mean 'mongodb'?",
                "agnost.yaml:21:8: error: environment variable 'PORT' is set by the platform; choose another name",
                "agnost.yaml:22:25: error: scaling.max (1) must be at least scaling.min (2)",
                "agnost.yaml:22:37: error: scaling.timeout '2h' is longer than Knative's limit of 1h (3600s); lower it",
            ]
        )
        #expect(result.errorCount == 15)
        #expect(result.warningCount == 0)
        #expect(result.spec == nil)
    }

    @Test func diagnosticsAreSortedAndDeduplicated() {
        // The alias repeats the anchored mapping, and with it the same problem at the same place.
        let result = check(
            """
            app: todo
            version: v1
            queues:
              - &queue { name: Emails, handler: send }
              - *queue
            """
        )
        #expect(
            result.diagnostics.map(\.description) == [
                "agnost.yaml:4:20: error: queue name 'Emails' is invalid; use lowercase letters, digits and '-', "
                    + "starting with a letter and ending with a letter or digit"
            ]
        )
    }
}
