import AgnostSpec
import Foundation
import Testing

@testable import AgnostCompiler

/// The generated package, compared byte for byte with the files under `Golden/`.
///
/// After an intended change of the generated code, run the tests once with `AGNOST_UPDATE_GOLDEN=1` and review
/// the diff of `Golden/` like any other change.
struct GoldenFileTests {
    static let spec = """
        app: todo
        version: v1
        endpoints:
          - name: getTodo
            method: GET
            path: /todos/:id
            handler: getTodo
            middlewares: [auth, audit]
            timeout: 5s
          - name: createTodo
            method: POST
            path: /todos
            handler: TodoHandlers.createTodo
            middlewares: [auth]
            apiKey: required
            logExecution: true
          - {name: headTodo, method: GET, path: /todos/:id/head, handler: getTodo}
        middlewares:
          - name: auth
            handler: requireUser
          - name: audit
            handler: "auditLog"
        queues:
          - name: emails
            handler: sendEmail
            retries: 5
            delay: 2s
        cron:
          - name: cleanup
            schedule: "*/5 * * * *"
            timezone: Europe/Istanbul
            handler: cleanup
        resources:
          - name: maindb
            type: mongodb
        env:
          GREETING: hello
        scaling:
          min: 1
          max: 10
          concurrency: 50
          timeout: 30s

        """

    static let package = HandlerPackage(
        identity: "todo",
        product: "TodoHandlers",
        modules: ["TodoHandlers"],
        runtimeIdentity: "agnost-runtime",
        runtime: .repository
    )

    static func plan() throws -> BuildPlan {
        let result = SpecChecker.check(source: spec, file: "agnost.yaml")
        let spec = try #require(result.spec, "\(result.diagnostics)")
        return BuildPlan(spec: spec, specDigest: "sha256:feed")
    }

    @Test(arguments: ["Package.swift", "Sources/server/main.swift"])
    func generatedFileMatchesGolden(path: String) throws {
        let files = ServerPackageRenderer.render(try Self.plan(), package: Self.package)
        let file = try #require(files.first { $0.path == path })
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden/\(path.replacingOccurrences(of: "/", with: "_")).golden")
        if ProcessInfo.processInfo.environment["AGNOST_UPDATE_GOLDEN"] == "1" {
            try file.contents.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(file.contents == expected)
    }

    @Test func bundleManifestMatchesGolden() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(try Self.plan().manifest), as: UTF8.self) + "\n"
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden/bundle.json.golden")
        if ProcessInfo.processInfo.environment["AGNOST_UPDATE_GOLDEN"] == "1" {
            try json.write(to: golden, atomically: true, encoding: .utf8)
        }
        #expect(json == (try String(contentsOf: golden, encoding: .utf8)))
    }

    /// Each handler name sits at its own `agnost.yaml` line and column, so that the Swift compiler reports a
    /// wrong name exactly there.
    @Test func handlerReferencesKeepTheirYAMLLineAndColumn() throws {
        let main = try #require(
            ServerPackageRenderer.render(try Self.plan(), package: Self.package).first {
                $0.path.hasSuffix("main.swift")
            }
        )
        let lines = main.contents.split(separator: "\n", omittingEmptySubsequences: false)
        let yaml = Self.spec.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where line.hasPrefix("#sourceLocation(file: \"agnost.yaml\", line: ") {
            let declared = Int(line.split(separator: " ").last!.dropLast())!
            let reference = lines[index + 2]
            let name = reference.trimmingCharacters(in: .whitespaces)
            let column = reference.prefix { $0 == " " }.count + 1
            let yamlLine = yaml[declared]  // declared + 1 in 1-based numbering
            let position = try #require(
                yamlLine.range(of: name),
                "'\(name)' is not on agnost.yaml line \(declared + 1)"
            )
            #expect(yamlLine.distance(from: yamlLine.startIndex, to: position.lowerBound) + 1 == column)
        }
    }
}
