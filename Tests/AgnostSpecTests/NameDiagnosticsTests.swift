import AgnostSpec
import Testing

/// Names of the app, the version and the items, and handler references.
@Suite("Diagnostics: names and handlers")
struct NameDiagnosticsTests {
    static let dnsLabelRule =
        "use lowercase letters, digits and '-', starting with a letter and ending with a letter or digit"
    static let identifierRule = "start with a letter and use only letters, digits, '_' and '-'"

    @Test func appAndVersionMustBeDNSLabels() {
        #expect(
            diagnostics(
                """
                app: Todo_App
                version: -v1
                queues: [{ name: emails, handler: send }]
                """
            ) == [
                "agnost.yaml:1:6: error: app name 'Todo_App' is invalid; \(Self.dnsLabelRule)",
                "agnost.yaml:2:10: error: version '-v1' is invalid; use lowercase letters, digits and '-', starting "
                    + "and ending with a letter or digit",
            ]
        )
    }

    @Test func appMustStartWithALetterButVersionMayStartWithADigit() {
        let result = check(
            """
            app: 1todo
            version: 1-0
            queues: [{ name: emails, handler: send }]
            """
        )
        #expect(
            result.diagnostics.map(\.description) == [
                "agnost.yaml:1:6: error: app name '1todo' is invalid; \(Self.dnsLabelRule)"
            ]
        )
    }

    @Test func serviceNameMustLeaveRoomForTheRevisionHash() {
        // 39 + 1 + 16 = 56 characters, one too many: the revision <service>-<7 hex> would be 64.
        let result = check(
            """
            app: a-rather-long-application-name-for-todo
            version: release-2024-11x
            queues: [{ name: emails, handler: send }]
            """
        )
        #expect(
            result.diagnostics.map(\.description) == [
                "agnost.yaml:2:10: error: service name 'a-rather-long-application-name-for-todo-release-2024-11x' "
                    + "(<app>-<version>) is 56 characters long; the limit is 55, because each revision is named "
                    + "<app>-<version>-<7-character hash> and Knative limits names to 63 characters; shorten the "
                    + "version or the app name"
            ]
        )
        #expect(result.spec == nil)
    }

    @Test func serviceNameOfExactly55CharactersIsAccepted() {
        let result = check(
            """
            app: a-rather-long-application-name-for-todo
            version: release-2024-11
            endpoints: [{ name: send, method: POST, path: /emails, handler: send }]
            """
        )
        #expect(result.diagnostics.isEmpty)
        #expect(result.spec?.serviceName.count == 55)
        // A queue's Trigger, <service>-queue-<name>, would not fit in 63 characters.
        let withQueue = check(
            """
            app: a-rather-long-application-name-for-todo
            version: release-2024-11
            queues: [{ name: emails, handler: send }]
            """
        )
        #expect(
            withQueue.diagnostics.map(\.description).first?.contains(
                "queue 'emails' makes the Trigger a-rather-long-application-name-for-todo-release-2024-11-queue-emails, "
                    + "68 characters long"
            ) == true,
            "\(withQueue.diagnostics)"
        )
    }

    @Test func endpointAndMiddlewareNamesStartWithALetter() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                endpoints:
                  - { name: get todo, method: GET, path: /todos, handler: getTodo }
                  - { name: get_todo-2, method: POST, path: /todos, handler: getTodo }
                middlewares:
                  - { name: _auth, handler: auth }
                """
            ) == [
                "agnost.yaml:4:13: error: endpoint name 'get todo' is invalid; \(Self.identifierRule)",
                "agnost.yaml:7:13: error: middleware name '_auth' is invalid; \(Self.identifierRule)",
            ]
        )
    }

    @Test func queueCronAndResourceNamesAreDNSLabels() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                queues: [{ name: sendEmails, handler: send }]
                cron: [{ name: clean-, schedule: '@daily', handler: clean }]
                resources: [{ name: main_db, type: mongodb }]
                """
            ) == [
                "agnost.yaml:3:18: error: queue name 'sendEmails' is invalid; \(Self.dnsLabelRule)",
                "agnost.yaml:4:16: error: cron job name 'clean-' is invalid; \(Self.dnsLabelRule)",
                "agnost.yaml:5:21: error: resource name 'main_db' is invalid; \(Self.dnsLabelRule)",
            ]
        )
    }

    @Test func itemNamesAreAtMost63Characters() {
        let sixtyFour = String(repeating: "q", count: 64)
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                resources: [{ name: \(String(repeating: "r", count: 63)), type: mongodb }]
                endpoints: [{ name: \(sixtyFour), method: GET, path: /, handler: root }]
                """
            ) == ["agnost.yaml:4:21: error: endpoint name '\(sixtyFour)' is 64 characters long; the limit is 63"]
        )
    }

    @Test func namesAreUniquePerKindWithANoteAtTheFirstDefinition() {
        let result = check(
            """
            app: todo
            version: v1
            endpoints:
              - { name: list, method: GET, path: /todos, handler: list }
              - { name: list, method: GET, path: /items, handler: listItems }
            queues:
              - { name: list, handler: listQueue }
              - { name: list, handler: listQueue }
            """
        )
        #expect(
            result.diagnostics.map(\.description) == [
                "agnost.yaml:4:13: note: first defined here",
                "agnost.yaml:5:13: error: duplicate endpoint name 'list'; rename one of them",
                "agnost.yaml:7:13: note: first defined here",
                "agnost.yaml:8:13: error: duplicate queue name 'list'; rename one of them",
            ]
        )
        #expect(result.spec == nil)
    }

    @Test func duplicateNamesOfItemsWithOtherErrorsAreStillFound() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                cron:
                  - { name: tick, schedule: '@often', handler: tick }
                  - { name: tick, schedule: '@hourly', handler: tock }
                """
            ) == [
                "agnost.yaml:4:13: note: first defined here",
                "agnost.yaml:4:30: error: invalid schedule: unknown macro '@often'; use one of @hourly, @daily, "
                    + "@midnight, @weekly, @monthly, @yearly, @annually",
                "agnost.yaml:5:13: error: duplicate cron job name 'tick'; rename one of them",
            ]
        )
    }

    /// Line 4 holds the handler; its value starts at column 25, or 26 after an opening quote.
    static func queue(handler: String) -> String {
        """
        app: todo
        version: v1
        queues:
          - { name: q, handler: \(handler) }
        """
    }

    @Test(
        arguments: [
            ("get-todo", 25, "handler 'get-todo' is not a Swift function name"),
            ("Handlers.todos.get", 25, "handler 'Handlers.todos.get' is not a Swift function name"),
            ("'getTodo()'", 26, "handler 'getTodo()' is not a Swift function name"),
            ("'x; exit(1)'", 26, "handler 'x; exit(1)' is not a Swift function name"),
            ("'.getTodo'", 26, "handler '.getTodo' is not a Swift function name"),
            ("2fa", 25, "handler '2fa' is not a Swift function name"),
            ("'`class`'", 26, "handler '`class`' is not a Swift function name"),
            ("getTödo", 25, "handler 'getTödo' is not a Swift function name"),
        ]
    )
    func handlerMustBeAnIdentifierOrModuleQualifiedIdentifier(handler: String, column: Int, problem: String) {
        #expect(
            diagnostics(Self.queue(handler: handler)) == [
                "agnost.yaml:4:\(column): error: \(problem); write an identifier like 'getTodo', optionally "
                    + "qualified by its module like 'TodoHandlers.getTodo'"
            ]
        )
    }

    @Test(arguments: ["func", "Handlers.init", "self", "_", "Handlers.Type"])
    func handlerMustNotBeAKeyword(handler: String) {
        let keyword = handler.split(separator: ".").last!
        #expect(
            diagnostics(Self.queue(handler: handler)) == [
                "agnost.yaml:4:25: error: handler '\(handler)' uses the reserved Swift word '\(keyword)'; rename the "
                    + "function"
            ]
        )
    }

    @Test(arguments: ["getTodo", "_private", "Handlers.get_todo2", "async"])
    func handlerAcceptsIdentifiers(handler: String) {
        #expect(diagnostics(Self.queue(handler: handler)).isEmpty)
    }
}
