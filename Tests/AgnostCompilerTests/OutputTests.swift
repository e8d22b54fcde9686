import AgnostSpec
import Foundation
import Testing

@testable import AgnostCompiler

struct SwiftCompilerOutputTests {
    @Test func mapsGeneratedCodeDiagnosticsToTheSpecAndDropsNoise() {
        let output = """
            [3/12] Compiling server main.swift
            agnost.yaml:9:14: error: cannot find 'getTodx' in scope
                         getTodx
                         ^~~~~~~
            /work/app/Sources/Handlers/Handlers.swift:4:5: warning: variable 'x' was never used
            /work/app/.build/checkouts/swift-nio/Sources/NIOCore/X.swift:1:1: warning: deprecated
            agnost.yaml:9:14: error: cannot find 'getTodx' in scope
            error: fatalError
            """
        #expect(
            SwiftCompilerOutput.diagnostics(in: output, specFile: "agnost.yaml", specDisplayPath: "app/agnost.yaml")
                == [
                    Diagnostic(
                        .error,
                        "cannot find 'getTodx' in scope",
                        at: SourceLocation(file: "app/agnost.yaml", line: 9, column: 14)
                    ),
                    Diagnostic(
                        .warning,
                        "variable 'x' was never used",
                        at: SourceLocation(file: "/work/app/Sources/Handlers/Handlers.swift", line: 4, column: 5)
                    ),
                ]
        )
    }

    @Test func readsPathsWithColonsAndRefusesLinesWithoutAPosition() {
        #expect(
            SwiftCompilerOutput.parse("/a:b/c.swift:3:2: note: here")
                == Diagnostic(.note, "here", at: SourceLocation(file: "/a:b/c.swift", line: 3, column: 2))
        )
        #expect(SwiftCompilerOutput.parse("error: link command failed") == nil)
        #expect(SwiftCompilerOutput.parse("x.swift:three:2: error: no") == nil)
    }
}

struct DiagnosticFormatterTests {
    @Test func showsTheSourceLineWithACaretUnderTheColumn() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try "app: x\nversion: v1\nendpoints:\n  - handler: getTodx\n".write(to: file, atomically: true, encoding: .utf8)
        var formatter = DiagnosticFormatter()
        let location = SourceLocation(file: file.path, line: 4, column: 14)
        #expect(
            formatter.format(Diagnostic(.error, "cannot find 'getTodx' in scope", at: location))
                == "\(file.path):4:14: error: cannot find 'getTodx' in scope\n   4 |   - handler: getTodx\n     |"
                + "              ^"
        )
    }

    @Test func showsOnlyTheLineWhenTheSourceCannotBeRead() {
        var formatter = DiagnosticFormatter()
        let missing = Diagnostic(.error, "x", at: SourceLocation(file: "/nonexistent.yaml", line: 1, column: 1))
        #expect(formatter.format(missing) == "/nonexistent.yaml:1:1: error: x")
        let pastTheEnd = Diagnostic(.error, "x", at: SourceLocation(file: #filePath, line: 100_000, column: 1))
        #expect(formatter.format(pastTheEnd) == "\(#filePath):100000:1: error: x")
    }
}

struct InputDigestTests {
    @Test func changesWithSourcesAndConfigurationButNotWithHiddenFiles() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-digest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("app")
        let runtime = root.appendingPathComponent("runtime")
        for (path, text) in [
            ("app/agnost.yaml", "app: a"), ("app/Package.swift", "// p"), ("app/Sources/H/H.swift", "func h() {}"),
            ("runtime/Package.swift", "// r"), ("runtime/Sources/R/R.swift", "// r"),
        ] {
            let file = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        var specDigest = "sha256:1"
        func digest(_ configuration: BuildConfiguration = .debug) throws -> String {
            try InputDigest.compute(
                specDigest: specDigest,
                project: project,
                runtime: runtime,
                configuration: configuration,
                toolchain: "Swift 6"
            )
        }
        let first = try digest()
        #expect(try digest() == first)
        #expect(try digest(.release) != first)
        try "x".write(to: project.appendingPathComponent("Sources/H/.H.swift.swp"), atomically: true, encoding: .utf8)
        try "x".write(to: project.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        #expect(try digest() == first)
        try "func h() { }".write(
            to: project.appendingPathComponent("Sources/H/H.swift"),
            atomically: true,
            encoding: .utf8
        )
        let edited = try digest()
        #expect(edited != first)
        try "// r2".write(to: runtime.appendingPathComponent("Sources/R/R.swift"), atomically: true, encoding: .utf8)
        let runtimeEdited = try digest()
        #expect(runtimeEdited != edited)
        // agnost.yaml counts through the digest of the bytes that were checked, not by being read again.
        try "app: b".write(to: project.appendingPathComponent("agnost.yaml"), atomically: true, encoding: .utf8)
        #expect(try digest() == runtimeEdited)
        specDigest = "sha256:2"
        #expect(try digest() != runtimeEdited)
    }
}

struct ProcessRunnerTests {
    @Test func mergesOutputReportsTheStatusAndRunsInTheFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try ProcessRunner.run(["sh", "-c", "pwd; echo oops >&2; exit 3"], in: folder)
        #expect(outcome.status == 3)
        #expect(outcome.output == "\(folder.resolvingSymlinksInPath().path)\noops\n")
        #expect(try ProcessRunner.run(["sh", "-c", "kill -9 $$"]).status == 128 + 9)
    }

    @Test func theToolStaysInThisProcessGroupSoCtrlCReachesIt() throws {
        let outcome = try ProcessRunner.run(["sh", "-c", "ps -o pgid= -p $$"])
        #expect(Int32(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)) == getpgrp())
    }

    @Test func aToolPastItsDeadlineIsStoppedAndSaysSo() throws {
        let start = ContinuousClock.now
        let error = #expect(throws: CompilerError.self) {
            try ProcessRunner.run(
                ["sh", "-c", "echo started; exec sleep 30"],
                deadline: .init(timeout: .milliseconds(300), grace: .milliseconds(300))
            )
        }
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(error?.code == .toolFailed)
        #expect(
            error?.message == "'sh -c echo started; exec sleep 30' did not finish within 0.3 seconds and was stopped"
        )
        #expect(error?.toolOutput == ["started"])
    }

    @Test func aToolThatIgnoresSIGTERMIsKilledAfterTheGracePeriod() throws {
        let start = ContinuousClock.now
        #expect(throws: CompilerError.self) {
            try ProcessRunner.run(
                ["sh", "-c", "trap '' TERM; exec sleep 30"],
                deadline: .init(timeout: .milliseconds(200), grace: .milliseconds(500))
            )
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(700) && elapsed < .seconds(5), "\(elapsed)")
    }

    @Test func aMissingToolExits127AsInAShell() throws {
        let outcome = try ProcessRunner.run(["no-such-tool-agnost"])
        #expect(outcome.status == 127)
        #expect(outcome.output == "no-such-tool-agnost: command not found\n")
        let elsewhere = try ProcessRunner.run(["no-such-tool-agnost"], in: URL(fileURLWithPath: "/"))
        #expect(elsewhere.status == 127)
    }
}
