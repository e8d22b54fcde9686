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
                    "app/agnost.yaml:9:14: error: cannot find 'getTodx' in scope",
                    "/work/app/Sources/Handlers/Handlers.swift:4:5: warning: variable 'x' was never used",
                ]
        )
    }
}

struct DiagnosticFormatterTests {
    @Test func showsTheSourceLineWithACaretUnderTheColumn() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try "app: x\nversion: v1\nendpoints:\n  - handler: getTodx\n".write(to: file, atomically: true, encoding: .utf8)
        var formatter = DiagnosticFormatter()
        #expect(
            formatter.format("\(file.path):4:14: error: cannot find 'getTodx' in scope")
                == "\(file.path):4:14: error: cannot find 'getTodx' in scope\n   4 |   - handler: getTodx\n     |"
                + "              ^"
        )
    }

    @Test func leavesOtherLinesAlone() {
        var formatter = DiagnosticFormatter()
        #expect(formatter.format("/nonexistent.yaml:1:1: error: x") == "/nonexistent.yaml:1:1: error: x")
        #expect(formatter.format("plain text") == "plain text")
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
        func digest(_ configuration: BuildConfiguration = .debug) throws -> String {
            try InputDigest.compute(
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
        #expect(try digest() != edited)
    }
}
