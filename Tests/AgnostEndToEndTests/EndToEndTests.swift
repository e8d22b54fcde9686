import AgnostHTTP
import AgnostTestSupport
import Foundation
import Testing

/// The suite's folder, removed after it (a file-level constant, so that the suite's own attribute can name it).
private let endToEndWorkspace = FileManager.default.temporaryDirectory.appendingPathComponent(
    "agnost-e2e-\(UUID().uuidString)"
)

/// The product as a user meets it: the `agnost-fn` binary on a fresh project, real builds, a real server.
///
/// Slow (each `swift build` of a new project compiles Hummingbird), so the tests share one project made by `init`
/// the first time one of them needs it; each builds what it needs itself, in whatever order they run. They run one
/// at a time because they build the same project.
@Suite(.serialized, .removedAfterwards(endToEndWorkspace))
struct EndToEndTests {
    static let workspace = endToEndWorkspace
    static let project = workspace.appendingPathComponent("shop")

    /// What `agnost-fn init` printed when it made the shared project.
    static let created: Result<Commands.Outcome, E2EFailure> = {
        do {
            let created = try Commands.agnost("init", project.path, "--template", "swift-http")
            guard created.status == 0 else { return .failure(E2EFailure("init failed:\n\(created.standardError)")) }
            return .success(created)
        } catch {
            return .failure(E2EFailure("cannot run init: \(error)"))
        }
    }()

    private func get(
        _ port: Int,
        _ path: String,
        method: String = "GET",
        json: String? = nil
    ) throws -> HTTPClientResponse {
        try withHTTPClient { client in
            try client.send(
                HTTPClientRequest(
                    method: method,
                    url: "http://127.0.0.1:\(port)\(path)",
                    headers: json == nil ? [] : [("Content-Type", "application/json")],
                    body: json.map { Array($0.utf8) }
                )
            )
        }
    }

    @Test func checkPrintsEveryProblemOfABadFile() throws {
        let folder = Self.workspace.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try """
        app: Todo
        version: v1
        endpoints:
          - name: list
            method: FETCH
            path: /todos
            handler: listTodos
            middlewares: [auth]
          - name: health
            method: GET
            path: /agnost/health
            hanlder: health
        cron:
          - name: nightly
            schedule: "0 25 * * *"
            handler: nightly

        """.write(to: folder.appendingPathComponent("agnost.yaml"), atomically: true, encoding: .utf8)
        let outcome = try Commands.agnost("check", "--path", folder.path)
        #expect(outcome.status == 1)
        let errors = outcome.standardError.split(separator: "\n").filter { $0.contains(": error: ") }.map {
            String($0.prefix { $0 != " " })
        }
        let spec = "\(folder.path)/agnost.yaml"
        #expect(
            errors == [
                // The misspelt `hanlder` is one error with a suggestion, not also a missing `handler`.
                "\(spec):1:6:", "\(spec):5:13:", "\(spec):8:19:", "\(spec):11:11:", "\(spec):12:5:", "\(spec):15:18:",
            ],
            "\(outcome.standardError)"
        )
        #expect(outcome.standardError.hasSuffix("error: \(spec): 6 errors, 0 warnings\n"))
    }

    @Test func initBuildServeInvokeRebuildAndBreak() throws {
        let created = try Self.created.get()
        #expect(created.standardError.contains("created shop from swift-http"))

        let built = try Commands.agnost("build", "--path", Self.project.path, "--configuration", "debug")
        #expect(built.status == 0, "\(built.standardError)")
        let bundle = Self.project.appendingPathComponent(".agnost/bundle")
        #expect(built.standardOutput.firstMatch(of: /^sha256:[0-9a-f]{64}\n$/) != nil, "\(built.standardOutput)")
        #expect(built.standardError.contains("shop-v1: packaged oci:\(Self.project.path)/.agnost/image:v1"))
        #expect(FileManager.default.isExecutableFile(atPath: bundle.appendingPathComponent("server").path))
        let manifest =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: bundle.appendingPathComponent("bundle.json"))
            ) as? [String: Any]
        #expect(manifest?["app"] as? String == "shop")
        #expect((manifest?["specDigest"] as? String)?.hasPrefix("sha256:") == true)

        let server = try BackgroundProcess(
            bundle.appendingPathComponent("server").path,
            environment: ["PORT": "0", "AGNOST_HOST": "127.0.0.1"]
        )
        let port = try server.waitForPort()
        let hello = try get(port, "/hello/ada")
        #expect(hello.status == 200)
        #expect(hello.bodyText == "hello, ada!")
        #expect(hello.header("server-timing")?.hasPrefix("handler;dur=") == true)
        let echo = try get(port, "/echo", method: "POST", json: #"{"message":"hi"}"#)
        #expect(echo.status == 200)
        #expect(
            try JSONSerialization.jsonObject(with: Data(echo.body)) as? NSDictionary == ["message": "hi", "length": 2]
        )
        let missing = try get(port, "/nope")
        #expect(missing.status == 404)
        #expect(missing.bodyText.hasPrefix(#"{"error":"no endpoint matches GET /nope","requestId":""#))
        #expect(try get(port, "/hello/ada", method: "DELETE").header("allow") == "GET, HEAD, OPTIONS")
        #expect(try get(port, "/agnost/health").status == 200)

        let invoked = try Commands.agnost(
            "invoke",
            "hello",
            "--param",
            "name=grace hopper",
            "--path",
            Self.project.path,
            "--target",
            "http://127.0.0.1:\(port)"
        )
        #expect(invoked.status == 0, "\(invoked.standardError)")
        #expect(invoked.standardOutput == "hello, grace hopper!")
        #expect(invoked.standardError.hasPrefix("HTTP/1.1 200 OK"))
        let rejected = try Commands.agnost(
            "invoke",
            "echo",
            "--data",
            #"{"message":""}"#,
            "--path",
            Self.project.path,
            "--target",
            "http://127.0.0.1:\(port)"
        )
        #expect(rejected.status == 1)
        #expect(rejected.standardError.hasPrefix("HTTP/1.1 422"))
        #expect(rejected.standardOutput.contains("message must not be empty"))
        let missingParameter = try Commands.agnost("invoke", "hello", "--path", Self.project.path)
        #expect(missingParameter.status != 0)
        #expect(missingParameter.standardError.contains("hello is GET /hello/:name"))
        #expect(try server.stop() == 0)

        let rebuilt = try Commands.agnost("build", "--path", Self.project.path, "--configuration", "debug")
        #expect(rebuilt.status == 0)
        #expect(rebuilt.standardError.contains("shop-v1: bundle is up to date (debug)"))
        #expect(!rebuilt.standardError.contains("compile"))

        let spec = Self.project.appendingPathComponent("agnost.yaml")
        let original = try String(contentsOf: spec, encoding: .utf8)
        defer { try? original.write(to: spec, atomically: true, encoding: .utf8) }
        try original.replacingOccurrences(of: "handler: hello", with: "handler: helo")
            .write(to: spec, atomically: true, encoding: .utf8)
        let broken = try Commands.agnost("build", "--path", Self.project.path, "--configuration", "debug")
        #expect(broken.status == 1)
        #expect(
            broken.standardError.contains("\(Self.project.path)/agnost.yaml:7:14: error: cannot find 'helo' in scope"),
            "\(broken.standardError)"
        )
        #expect(broken.standardError.contains("   7 |     handler: helo\n     |              ^"))

        try original.replacingOccurrences(of: "handler: echo", with: "handler: serverTiming")
            .write(to: spec, atomically: true, encoding: .utf8)
        let wrongSignature = try Commands.agnost("build", "--path", Self.project.path, "--configuration", "debug")
        #expect(wrongSignature.status == 1)
        #expect(
            wrongSignature.standardError.contains(
                "\(Self.project.path)/agnost.yaml:14:14: error: cannot convert value of type"
            ),
            "\(wrongSignature.standardError)"
        )
    }

    /// `agnost-fn run` of the shared project on a free port, once it greets.
    private func startRun(_ options: String...) throws -> (run: BackgroundProcess, port: Int) {
        _ = try Self.created.get()
        let run = try BackgroundProcess(
            Commands.agnostFn,
            ["run", "--path", Self.project.path, "--port", "0"] + options,
            environment: Commands.environment.filter { $0.key != "AGNOST_LOG_FORMAT" }
        )
        let port = try run.waitForPort()
        #expect(try get(port, "/hello/run").bodyText == "hello, run!")
        return (run, port)
    }

    @Test func runBuildsIfNeededAndServesUntilSignalled() throws {
        let (run, _) = try startRun()
        #expect(try run.stop() == 0)
    }

    /// The spec is what changes, so that each rebuild is a quick relink rather than a compile of the handlers.
    @Test func runWatchRestartsOnAChangeAndKeepsTheLastGoodServerOnABrokenOne() throws {
        _ = try Self.created.get()
        let spec = Self.project.appendingPathComponent("agnost.yaml")
        let original = try String(contentsOf: spec, encoding: .utf8)
        defer { try? original.write(to: spec, atomically: true, encoding: .utf8) }
        let (run, port) = try startRun("--watch")

        try original.replacingOccurrences(of: "GREETING: hello", with: "GREETING: welcome")
            .write(to: spec, atomically: true, encoding: .utf8)
        _ = try run.waitForLine(containing: "change detected: rebuilding")
        try waitUntil("the restarted server greets anew", timeout: .seconds(300)) {
            (try? get(port, "/hello/run").bodyText) == "welcome, run!"
        }

        try original.replacingOccurrences(of: "handler: hello", with: "handler: helo")
            .write(to: spec, atomically: true, encoding: .utf8)
        _ = try run.waitForLine(containing: "the last good server keeps serving", timeout: .seconds(300))
        #expect(run.output.contains { $0.contains("agnost.yaml:7:14: error: cannot find 'helo' in scope") })
        #expect(try get(port, "/hello/run").bodyText == "welcome, run!")
        #expect(try run.stop() == 0)
    }

    /// The server gets a lifeline from the CLI: it stops when the CLI is killed, and a new run gets its port.
    @Test func aKilledRunTakesItsServerWithIt() throws {
        let (run, port) = try startRun()
        kill(run.process.processIdentifier, SIGKILL)
        try waitUntil("the orphaned server stops", timeout: .seconds(30)) {
            (try? get(port, "/hello/run")) == nil
        }
        _ = try run.waitForLine(containing: "stopped after draining in-flight requests", timeout: .seconds(30))
    }

    @Test func templateHandlerTestsPass() throws {
        _ = try Self.created.get()
        let tested = try Commands.run("/usr/bin/env", ["swift", "test"], in: Self.project)
        #expect(tested.status == 0, "\(tested.standardOutput)\(tested.standardError)")
        #expect(tested.standardOutput.contains("Test run with 4 tests"), "\(tested.standardOutput)")
    }
}
