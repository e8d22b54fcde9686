import AgnostSpec
import Foundation
import Testing

@testable import AgnostCompiler

struct ScaffolderTests {
    /// The repository checkout is the toolchain layout.
    private let layout = ToolchainLayout(
        root: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    )

    private func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("agnost-scaffold-\(UUID().uuidString)")
    }

    @Test func listsTemplatesWithTheirDescriptions() throws {
        let templates = try Scaffolder(layout: layout).templates()
        let swiftHTTP = try #require(templates.first { $0.name == "swift-http" })
        #expect(swiftHTTP.description.hasPrefix("HTTP API"))
    }

    @Test func createsAProjectPointingAtThisRuntimeWithTheAppName() throws {
        let folder = temporaryFolder().appendingPathComponent("My Shop")
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let files = try Scaffolder(layout: layout).create(template: "swift-http", at: folder, app: nil)
        #expect(files.contains("agnost.yaml"))
        #expect(files.contains("Sources/Handlers/Handlers.swift"))
        #expect(!files.contains("template.json"))

        let manifest = try String(contentsOf: folder.appendingPathComponent("Package.swift"), encoding: .utf8)
        #expect(manifest.contains("name: \"my-shop\""))
        #expect(manifest.contains(".package(path: \"\(layout.runtime.standardizedFileURL.path)\")"))
        #expect(!manifest.contains("../../runtime"))

        let spec = SpecChecker.check(
            source: try String(contentsOf: folder.appendingPathComponent("agnost.yaml"), encoding: .utf8),
            file: "agnost.yaml"
        )
        #expect(spec.spec?.app == "my-shop")
    }

    @Test func refusesANonEmptyFolder() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        let error = #expect(throws: CompilerError.self) {
            try Scaffolder(layout: layout).create(template: "swift-http", at: folder, app: "shop")
        }
        #expect(
            error?.message.hasSuffix("is not empty; choose a new folder so that nothing in it is overwritten") == true
        )
        #expect(try String(contentsOf: folder.appendingPathComponent("notes.txt"), encoding: .utf8) == "keep me")
    }

    @Test func unknownTemplateListsTheKnownOnes() {
        let error = #expect(throws: CompilerError.self) {
            try Scaffolder(layout: layout).create(template: "swift-grpc", at: temporaryFolder(), app: "x")
        }
        #expect(error?.message.hasPrefix("there is no template 'swift-grpc'; choose one of: ") == true)
        #expect(error?.message.contains("swift-http") == true)
    }

    @Test(arguments: [("My App", "my-app"), ("todo_v2", "todo-v2"), ("--x--", "x"), ("über", "ber"), ("2fa", "2fa")])
    func appNameFromFolder(folder: String, expected: String) {
        #expect(Scaffolder.appName(forFolder: URL(fileURLWithPath: "/tmp/\(folder)")) == expected)
    }

    @Test func invalidAppNameAsksForDashDashApp() {
        let error = #expect(throws: CompilerError.self) {
            try Scaffolder(layout: layout).create(template: "swift-http", at: temporaryFolder(), app: "2fa")
        }
        #expect(error?.message.hasSuffix("pass one with --app") == true)
    }
}

struct ToolchainLayoutTests {
    private let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func findsTheCheckoutAboveTheBinaryEvenThroughASymlinkOnPath() throws {
        let bin = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-bin-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: bin) }
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let link = bin.appendingPathComponent("agnost-fn")
        let binary = checkout.appendingPathComponent(".build/debug/agnost-fn")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: binary)
        let layout = try ToolchainLayout.locate(environment: [:], executable: link)
        #expect(layout.root.standardizedFileURL.path == checkout.standardizedFileURL.path)
    }

    @Test func agnostHomeWinsAndMustBeComplete() throws {
        let layout = try ToolchainLayout.locate(
            environment: ["AGNOST_HOME": checkout.path],
            executable: URL(fileURLWithPath: "/nonexistent/agnost-fn")
        )
        #expect(layout.runtime.path == checkout.appendingPathComponent("runtime").path)
        let error = #expect(throws: CompilerError.self) {
            try ToolchainLayout.locate(environment: ["AGNOST_HOME": "/tmp"], executable: URL(fileURLWithPath: "/x"))
        }
        #expect(error?.message.hasPrefix("AGNOST_HOME=/tmp has no runtime/Package.swift and templates/") == true)
    }

    @Test func nothingAboveTheBinarySaysToSetAgnostHome() {
        let error = #expect(throws: CompilerError.self) {
            try ToolchainLayout.locate(environment: [:], executable: URL(fileURLWithPath: "/usr/bin/agnost-fn"))
        }
        #expect(error?.message.hasSuffix("set AGNOST_HOME to the agnost-fn checkout") == true)
    }
}
