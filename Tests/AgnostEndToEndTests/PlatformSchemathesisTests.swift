import AgnostHTTP
import Foundation
import Testing

/// schemathesis, from PyPI (`scripts/install-deps`), run by the python3 on PATH.
enum Schemathesis {
    static let command = ["python3", "-m", "schemathesis.cli"]
    static let isAvailable = (try? Commands.run("/usr/bin/env", command + ["--version"]).status) == 0
    static let skipComment: Comment =
        "skipped: python3 has no schemathesis (scripts/install-deps installs it; CI never skips)"
}

/// `agnost-fn platform serve` against what schemathesis makes of `openapi.yaml`: valid and invalid requests for every
/// operation, whose answers must be no 5xx, of a status, content type, headers and body the document declares.
@Suite(
    .enabled(if: Schemathesis.isAvailable || ProcessInfo.processInfo.environment["CI"] != nil, Schemathesis.skipComment)
)
struct PlatformSchemathesisTests {
    static let document = SampleProject.repository.appendingPathComponent("Sources/AgnostPlatform/openapi.yaml").path

    /// Where the run is bounded and what it is pointed at. The seeded names are drawn half the time, so that reads
    /// reach real records and not only 404s. `addResource` is left out: it connects to the host of the body to check
    /// that the resource answers, and the fuzzer's hosts are anywhere, which a test here must never reach.
    static let configuration = """
        max-failures = 20
        [generation]
        max-examples = 20
        [phases.stateful]
        enabled = false
        [checks]
        enabled = false
        not_a_server_error.enabled = true
        status_code_conformance.enabled = true
        content_type_conformance.enabled = true
        response_headers_conformance.enabled = true
        response_schema_conformance.enabled = true
        [dictionaries.apps]
        values = ["todo"]
        [dictionaries.versions]
        values = ["v1"]
        [dictionaries.keys]
        values = ["ci"]
        [parameters]
        "path.app" = { dictionary = "apps", probability = 0.5 }
        "query.app" = { dictionary = "apps", probability = 0.5 }
        "path.version" = { dictionary = "versions", probability = 0.5 }
        "path.key" = { dictionary = "keys", probability = 0.5 }
        [[operations]]
        include-operation-id = "addResource"
        enabled = false
        [headers]
        Authorization = "Bearer ${AGNOST_SCHEMATHESIS_TOKEN}"

        """

    static let spec = """
        app: todo
        version: v1
        endpoints:
          - name: listTodos
            method: GET
            path: /todos
            handler: listTodos
        resources:
          - name: maindb
            type: postgres

        """

    static func send(
        _ method: String,
        _ url: String,
        token: String,
        type: String,
        body: String
    ) throws -> HTTPClientResponse {
        try withHTTPClient { client in
            try client.send(
                HTTPClientRequest(
                    method: method,
                    url: url,
                    headers: [("Authorization", "Bearer \(token)"), ("Content-Type", type)],
                    body: Array(body.utf8)
                )
            )
        }
    }

    /// Synchronous, as the other tests with a BackgroundProcess: setpriv's parent-death signal follows the thread
    /// that started the child.
    @Test func schemathesisFindsNoServerErrorAndNoAnswerOutsideTheDocument() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-schemathesis-\(UUID())")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: data) }
        // No cluster: deployments are then refused with 503, and no fuzzed request reaches a cluster of the machine's.
        let environment = Commands.environment.merging([
            "AGNOST_PLATFORM_KEY": PlatformEndToEndTests.key,
            "KUBECONFIG": data.appendingPathComponent("no-kubeconfig").path,
        ]) { $1 }
        let server = try BackgroundProcess(
            Commands.agnostFn,
            ["platform", "serve", "--listen", "127.0.0.1:0", "--data", data.appendingPathComponent("store").path],
            environment: environment
        )
        let line = try server.waitForLine(containing: "platform on ")
        let url = try #require(line.firstMatch(of: /http:\/\/127\.0\.0\.1:\d+\/v1/).map { String($0.0) })
        let token = try #require(server.output.first { $0.hasPrefix("agp_") })
        #expect(server.output.contains { $0.hasPrefix("no cluster") }, "\(server.output)")

        let app = try Self.send(
            "POST",
            url + "/apps",
            token: token,
            type: "application/json",
            body: #"{"name":"todo"}"#
        )
        #expect(app.status == 201)
        let version = try Self.send(
            "POST",
            url + "/apps/todo/versions",
            token: token,
            type: "application/yaml",
            body: Self.spec
        )
        #expect(version.status == 201)
        let key = try Self.send(
            "POST",
            url + "/apps/todo/versions/v1/keys",
            token: token,
            type: "application/json",
            body: #"{"name":"ci"}"#
        )
        #expect(key.status == 201)

        let configuration = data.appendingPathComponent("schemathesis.toml")
        try Data(Self.configuration.utf8).write(to: configuration)
        let seed = UInt32.random(in: 0...UInt32.max)
        // One worker: with two, the python3 3.11 of these machines failed now and then in hypothesis's ast.parse
        // ("AST constructor recursion depth mismatch"), an error of the interpreter's parser and not of the server.
        let run = try Commands.run(
            "/usr/bin/env",
            Schemathesis.command + [
                "--config-file", configuration.path, "--no-color", "run", Self.document,
                "--url", url, "--seed", String(seed), "--workers", "1", "--request-timeout", "10",
            ],
            in: data,
            environment: environment.merging(["AGNOST_SCHEMATHESIS_TOKEN": token]) { $1 },
            timeout: .seconds(110)
        )
        let report = run.standardOutput + run.standardError
        #expect(run.status == 0, "schemathesis (seed \(seed)) found failures:\n\(report)")
        // A run that tested nothing would pass too; its summary counts the operations it reached.
        let tested = report.firstMatch(of: /Tested: (\d+)/).flatMap { Int($0.1) } ?? 0
        #expect(tested >= 15, "schemathesis tested \(tested) operations:\n\(report)")
        #expect(!report.contains(token), "the token is in schemathesis's report")
        #expect(try server.stop() == 0, "\(server.output.joined(separator: "\n"))")
    }
}
