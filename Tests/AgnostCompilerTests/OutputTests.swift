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
