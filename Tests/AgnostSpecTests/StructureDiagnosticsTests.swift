import AgnostSpec
import Testing

/// YAML syntax, and the shape of the document: keys, types, required keys.
@Suite("Diagnostics: YAML and structure")
struct StructureDiagnosticsTests {
    @Test func yamlSyntaxErrorIsReportedAtYamsMark() {
        let result = check(
            """
            app: todo
            version: v1
            endpoints: [
              { name: a
            """
        )
        #expect(
            result.diagnostics.map(\.description) == [
                "agnost.yaml:5:1: error: invalid YAML: did not find expected ',' or '}' "
                    + "(while parsing a flow mapping at line 4, column 3)"
            ]
        )
        #expect(result.spec == nil)
    }

    @Test func unreadableCharacterIsReportedWhereItIs() {
        #expect(
            diagnostics("app: todo\nversion: v\u{1}1\n") == [
                "agnost.yaml:2:11: error: invalid YAML: control characters are not allowed"
            ]
        )
    }

    @Test func secondDocumentIsAnError() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                ---
                app: other
                """
            ) == [
                "agnost.yaml:3:1: error: invalid YAML: but found another document "
                    + "(expected a single document in the stream at line 1, column 1)"
            ]
        )
    }

    @Test(arguments: ["", "# only a comment\n", "\n\n"])
    func emptyFileIsAnErrorAtTheStart(yaml: String) {
        let result = check(yaml)
        #expect(
            result.diagnostics.map(\.description) == [
                "agnost.yaml:1:1: error: the file is empty; an agnost.yaml declares at least 'app' and 'version'"
            ]
        )
        #expect(result.spec == nil)
    }

    @Test func topLevelMustBeAMapping() {
        #expect(
            diagnostics(
                """
                # a list is not an app
                - app: todo
                """
            ) == [
                "agnost.yaml:1:1: error: the top level must be a mapping with keys like 'app', 'version' and "
                    + "'endpoints', found a list"
            ]
        )
    }

    @Test func unknownKeySuggestsTheClosestKnownOneInsteadOfReportingItMissing() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                endpoints:
                  - name: getTodo
                    method: GET
                    path: /todos
                    hanlder: getTodo
                """
            ) == ["agnost.yaml:7:5: error: unknown key 'hanlder' in endpoint; did you mean 'handler'?"]
        )
    }

    @Test func unknownKeyWithoutCloseMatchListsTheValidKeys() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                queues: [{ name: emails, handler: send }]
                replicas: 3
                """
            ) == [
                "agnost.yaml:4:1: error: unknown key 'replicas' at the top level; valid keys are app, version, "
                    + "image, endpoints, middlewares, queues, cron, resources, env and scaling"
            ]
        )
    }

    @Test func unknownKeysAreFoundAtEveryLevel() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                middlewares: [{ name: auth, handler: auth, priority: 1 }]
                queues: [{ name: emails, handler: send, retry: 5 }]
                cron: [{ name: tick, schedule: '@hourly', handler: tick, timezon: UTC }]
                resources: [{ name: db, type: redis, url: x }]
                scaling: { minimum: 1 }
                """
            ) == [
                "agnost.yaml:3:23: warning: middleware 'auth' is not used by any endpoint; add it to an endpoint's "
                    + "'middlewares' or remove it",
                "agnost.yaml:3:44: error: unknown key 'priority' in middleware; valid keys are name and handler",
                "agnost.yaml:4:41: error: unknown key 'retry' in queue; did you mean 'retries'?",
                "agnost.yaml:5:58: error: unknown key 'timezon' in cron job; did you mean 'timezone'?",
                "agnost.yaml:6:38: error: unknown key 'url' in resource; valid keys are name and type",
                "agnost.yaml:7:12: error: unknown key 'minimum' in scaling; valid keys are min, max, concurrency, "
                    + "timeout, target, cpu and memory",
            ]
        )
    }

    @Test func duplicateKeyIsReportedAtTheRepeatWithANoteAtTheFirst() {
        let result = check(
            """
            app: todo
            version: v1
            endpoints:
              - name: getTodo
                method: GET
                path: /todos
                handler: getTodo
                method: POST
            version: v2
            """
        )
        #expect(
            result.diagnostics.map(\.description) == [
                "agnost.yaml:2:1: note: first defined here",
                "agnost.yaml:5:5: note: first defined here",
                "agnost.yaml:8:5: error: duplicate key 'method' in endpoint; remove one of them",
                "agnost.yaml:9:1: error: duplicate key 'version' at the top level; remove one of them",
            ]
        )
        #expect(result.spec == nil)
    }

    @Test func keyRepeatedThreeTimesIsReportedTwice() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                queues: [{ name: a, handler: a, 'name': b, "name": c }]
                """
            ) == [
                "agnost.yaml:3:12: note: first defined here",
                "agnost.yaml:3:33: error: duplicate key 'name' in queue; remove one of them",
                "agnost.yaml:3:44: error: duplicate key 'name' in queue; remove one of them",
            ]
        )
    }

    @Test func duplicateKeyTheComposerCannotSkipStopsAtYamsMark() {
        // The first key is spelled with an escape, so its position cannot be renamed in place.
        #expect(
            diagnostics(
                """
                "\\x61pp": todo
                app: todo
                version: v1
                """
            ) == ["agnost.yaml:1:1: error: duplicate key 'app'; remove one of them"]
        )
    }

    @Test func windowsLineEndingsAndByteOrderMarkKeepPositions() {
        let yaml =
            "\u{FEFF}cron: [{ name: c, schedule: '0 0 * 13 *', handler: c }]\r\napp: todo\r\nversion: v1\r\n"
            + "queues:\r\n  - { name: q, handler: q, delay: 5 }\r\n"
        #expect(
            diagnostics(yaml) == [
                "agnost.yaml:1:36: error: invalid schedule: month 13 is out of range 1-12",
                "agnost.yaml:5:35: error: queue delay '5' is not a duration; write a whole number followed by ms, s, m "
                    + "or h, like 500ms, 5s, 2m or 1h",
            ]
        )
    }

    @Test func missingRequiredKeysAreReportedAtTheirMapping() {
        #expect(
            diagnostics(
                """
                endpoints:
                  - name: getTodo
                    handler: getTodo
                middlewares:
                  - name: auth
                queues:
                  - handler: send
                cron:
                  - name: tick
                resources:
                  - type: redis
                """
            ) == [
                "agnost.yaml:1:1: error: missing required key 'app' at the top level",
                "agnost.yaml:1:1: error: missing required key 'version' at the top level",
                "agnost.yaml:2:5: error: missing required key 'method' in endpoint",
                "agnost.yaml:2:5: error: missing required key 'path' in endpoint",
                "agnost.yaml:5:5: error: missing required key 'handler' in middleware",
                "agnost.yaml:7:5: error: missing required key 'name' in queue",
                "agnost.yaml:9:5: error: missing required key 'schedule' in cron job",
                "agnost.yaml:9:5: error: missing required key 'handler' in cron job",
                "agnost.yaml:11:5: error: missing required key 'name' in resource",
            ]
        )
    }

    @Test func wrongTypesNameWhatWasExpectedAndFound() {
        #expect(
            diagnostics(
                """
                app: [todo]
                version: ~
                endpoints: getTodo
                middlewares:
                  - auth
                queues:
                  - name: emails
                    handler: { name: send }
                    retries: five
                cron:
                  - name: tick
                    schedule: '@hourly'
                    handler: tick
                    enabled: yes
                env: [A, B]
                scaling: 3
                """
            ) == [
                "agnost.yaml:1:6: error: expected a string for 'app', found a list",
                "agnost.yaml:2:10: error: expected a string for 'version', found null",
                "agnost.yaml:3:12: error: expected a list for 'endpoints', found a string",
                "agnost.yaml:5:5: error: expected a mapping for each item of 'middlewares', found a string",
                "agnost.yaml:8:14: error: expected a string for 'handler', found a mapping",
                "agnost.yaml:9:14: error: expected an integer for 'retries', found a string",
                "agnost.yaml:14:14: error: expected true or false for 'enabled', found a string",
                "agnost.yaml:15:6: error: expected a mapping for 'env', found a list",
                "agnost.yaml:16:10: error: expected a mapping for 'scaling', found an integer",
            ]
        )
    }

    @Test func integersMustBeDecimalIntegersAndBooleansTrueOrFalse() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                queues:
                  - { name: a, handler: a, retries: 2.5 }
                  - { name: b, handler: b, retries: 0x10 }
                  - { name: c, handler: c, retries: "3" }
                endpoints:
                  - { name: e, method: GET, path: /, handler: e, logExecution: 1 }
                  - { name: f, method: PUT, path: /, handler: f, logExecution: 'true' }
                """
            ) == [
                "agnost.yaml:4:37: error: expected an integer for 'retries', found a number",
                "agnost.yaml:5:37: error: expected an integer for 'retries', found a number",
                "agnost.yaml:6:37: error: expected an integer for 'retries', found a string",
                "agnost.yaml:8:64: error: expected true or false for 'logExecution', found an integer",
                "agnost.yaml:9:64: error: expected true or false for 'logExecution', found a string",
            ]
        )
    }

    @Test func nonStringKeyIsAnError() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                queues: [{ name: a, handler: a }]
                [scaling]: {}
                """
            ) == ["agnost.yaml:4:1: error: keys at the top level must be names, found a list"]
        )
    }

    @Test func versionWithNothingToRunIsAWarningAtTheTopLevel() {
        let result = check(
            """
            app: todo
            version: v1
            endpoints: []
            resources: [{ name: db, type: redis }]
            """
        )
        #expect(
            result.diagnostics.map(\.description) == [
                "agnost.yaml:1:1: warning: this version declares no endpoints, queues or cron jobs, so its service "
                    + "has nothing to run"
            ]
        )
        #expect(result.spec != nil)
    }
}
