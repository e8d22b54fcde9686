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

    @Test func createsAProjectNamingTheRuntimeByURLAndMirrorsItToThisRuntime() throws {
        let workspace = temporaryFolder()
        let folder = workspace.appendingPathComponent("My Shop")
        defer { try? FileManager.default.removeItem(at: workspace) }
        let runtime = RuntimeMirror(sources: layout.runtime, cache: workspace.appendingPathComponent("cache"))
        let files = try Scaffolder(layout: layout, runtime: runtime).create(
            template: "swift-http",
            at: folder,
            app: nil
        )
        #expect(files.contains("agnost.yaml"))
        #expect(files.contains("Sources/Handlers/Handlers.swift"))
        #expect(files.contains(".gitignore"))
        #expect(!files.contains("template.json"))

        let manifest = try String(contentsOf: folder.appendingPathComponent("Package.swift"), encoding: .utf8)
        #expect(manifest.contains("name: \"my-shop\""))
        #expect(manifest.contains(#".package(url: "https://github.com/agnost-fn/agnost-runtime.git", from: "0.1.0")"#))
        #expect(!manifest.contains(".package(path:"))
        let ignored = try String(contentsOf: folder.appendingPathComponent(".gitignore"), encoding: .utf8)
        #expect(ignored.split(separator: "\n").contains(".swiftpm/"))

        let repository = try runtime.repository()
        let mirrors = try JSONSerialization.jsonObject(
            with: Data(contentsOf: folder.appendingPathComponent(".swiftpm/configuration/mirrors.json"))
        )
        #expect(
            mirrors as? NSDictionary
                == [
                    "object": [["original": RuntimeRepository.url, "mirror": repository.location.path]],
                    "version": 1,
                ]
        )

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

    @Test func findsShareAgnostFnOfThePrefixTheBinaryIsInstalledIn() throws {
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-prefix-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: prefix) }
        let share = prefix.appendingPathComponent("share/agnost-fn")
        for folder in ["bin", "share/agnost-fn/runtime", "share/agnost-fn/templates"] {
            try FileManager.default.createDirectory(
                at: prefix.appendingPathComponent(folder),
                withIntermediateDirectories: true
            )
        }
        try Data().write(to: share.appendingPathComponent("runtime/Package.swift"))
        try Data().write(to: prefix.appendingPathComponent("bin/agnost-fn"))
        let layout = try ToolchainLayout.locate(
            environment: [:],
            executable: prefix.appendingPathComponent("bin/agnost-fn")
        )
        #expect(layout.root.standardizedFileURL.path == share.standardizedFileURL.path)
        #expect(layout.runtime.path == share.appendingPathComponent("runtime").path)
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
        #expect(error?.message.hasSuffix("set AGNOST_HOME to the agnost-fn checkout or installation") == true)
    }
}

/// The runtime's git repository and the SwiftPM files that point at it.
struct RuntimeRepositoryTests {
    private let workspace = FileManager.default.temporaryDirectory.appendingPathComponent(
        "agnost-runtime-repo-\(UUID().uuidString)"
    )

    /// A small package standing in for the runtime's sources: the layout, not the Swift, is under test here.
    private func sources(greeting: String = "hello") throws -> URL {
        let root = workspace.appendingPathComponent("sources-\(greeting)")
        let manager = FileManager.default
        for folder in ["Sources/Greeting", ".build/debug", "Tests"] {
            try manager.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try Data("// swift-tools-version:6.1\n".utf8).write(to: root.appendingPathComponent("Package.swift"))
        try Data("let greeting = \"\(greeting)\"\n".utf8)
            .write(to: root.appendingPathComponent("Sources/Greeting/Greeting.swift"))
        try Data("#!/bin/sh\n".utf8).write(to: root.appendingPathComponent("Tests/run.sh"))
        try manager.setAttributes(
            [.posixPermissions: 0o755],
            ofItemAtPath: root.appendingPathComponent("Tests/run.sh").path
        )
        try Data("built".utf8).write(to: root.appendingPathComponent(".build/debug/junk"))
        try Data("{}".utf8).write(to: root.appendingPathComponent("Package.resolved"))
        return root
    }

    private func git(_ repository: RuntimeRepository, _ arguments: String...) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "--git-dir", repository.location.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "git \(arguments)")
        return String(decoding: data, as: UTF8.self)
    }

    @Test func equalSourcesGiveTheSameCommitInAnyCacheAndAChangeGivesANewRepository() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        let hello = try sources()
        let first = try RuntimeRepository.prepare(sources: hello, cache: workspace.appendingPathComponent("a"))
        let second = try RuntimeRepository.prepare(sources: hello, cache: workspace.appendingPathComponent("b"))
        #expect(first.revision == second.revision)
        #expect(first.location.lastPathComponent == "agnost-runtime.git")
        #expect(first.location.path.hasPrefix(workspace.appendingPathComponent("a/runtime/").path))
        #expect(
            first.location.deletingLastPathComponent().lastPathComponent
                == second.location.deletingLastPathComponent().lastPathComponent
        )

        // Only the package's own files, with their modes; no build products, no Package.resolved.
        #expect(
            try git(first, "ls-tree", "-r", "--format=%(objectmode) %(path)", "refs/tags/0.1.0")
                == "100644 Package.swift\n100644 Sources/Greeting/Greeting.swift\n100755 Tests/run.sh\n"
        )
        let commit = try git(first, "cat-file", "commit", first.revision)
        #expect(commit.contains("\nauthor agnost-fn <runtime@agnost-fn.invalid> 0 +0000\n"))
        #expect(commit.contains("\ncommitter agnost-fn <runtime@agnost-fn.invalid> 0 +0000\n"))
        #expect(!commit.contains("\nparent "))
        #expect(try git(first, "rev-parse", "HEAD").hasPrefix(first.revision))
        _ = try git(first, "fsck", "--strict")

        let again = try RuntimeRepository.prepare(sources: hello, cache: workspace.appendingPathComponent("a"))
        #expect(again == first)
        let leftovers = try FileManager.default.contentsOfDirectory(
            atPath: workspace.appendingPathComponent("a/runtime").path
        )
        #expect(leftovers == [first.location.deletingLastPathComponent().lastPathComponent])

        let changed = try RuntimeRepository.prepare(
            sources: try sources(greeting: "hi"),
            cache: workspace.appendingPathComponent("a")
        )
        #expect(changed.revision != first.revision)
        #expect(changed.location != first.location)
        #expect(changed.location.lastPathComponent == "agnost-runtime.git")
    }

    @Test func anUnwritableCacheNamesTheFolderAndWhatToDo() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        let hello = try sources()
        let blocker = workspace.appendingPathComponent("not-a-folder")
        try Data().write(to: blocker)
        let error = #expect(throws: CompilerError.self) {
            try RuntimeRepository.prepare(sources: hello, cache: blocker.appendingPathComponent("agnost-fn"))
        }
        #expect(error?.code == .fileSystem)
        #expect(
            error?.message.hasPrefix("cannot create the runtime repository under \(blocker.path)/agnost-fn/runtime")
                == true
        )
        #expect(error?.message.hasSuffix("point XDG_CACHE_HOME at a writable folder") == true)
    }

    @Test func sourcesWithoutAPackageAreAnIncompleteInstallation() {
        let error = #expect(throws: CompilerError.self) {
            try RuntimeRepository.prepare(sources: workspace, cache: workspace.appendingPathComponent("cache"))
        }
        #expect(error?.code == .toolchainLayout)
        #expect(
            error?.message
                == "the runtime at \(workspace.path) has no Package.swift; the agnost-fn installation is incomplete"
        )
    }

    @Test func cacheFollowsXDGThenHome() throws {
        let layout = ToolchainLayout(root: URL(fileURLWithPath: "/opt/agnost"))
        #expect(
            try RuntimeMirror(layout: layout, environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"]).cache.path
                == "/c/agnost-fn"
        )
        #expect(try RuntimeMirror(layout: layout, environment: ["HOME": "/h"]).cache.path == "/h/.cache/agnost-fn")
        #expect(try RuntimeMirror(layout: layout, environment: ["HOME": "/h"]).sources.path == "/opt/agnost/runtime")
        let error = #expect(throws: CompilerError.self) {
            try RuntimeMirror(layout: layout, environment: ["XDG_CACHE_HOME": "relative"])
        }
        #expect(error?.message.hasSuffix("set one of them") == true)
    }

    @Test func mirrorsFileIsWrittenAsSwiftPMWritesItKeepingOtherMirrors() throws {
        let fresh = try MirrorsFile.setting(mirror: "/cache/a.git", for: "https://x/r.git", in: nil, file: "m.json")
        #expect(
            String(decoding: fresh, as: UTF8.self)
                == """
                {
                  "object" : [
                    {
                      "mirror" : "/cache/a.git",
                      "original" : "https://x/r.git"
                    }
                  ],
                  "version" : 1
                }
                """
        )
        let other = #"{"object": [{"mirror": "/m/other", "original": "https://a/other.git"}], "version": 1}"#
        let kept = try MirrorsFile.setting(
            mirror: "/cache/a.git",
            for: "https://x/r.git",
            in: Data(other.utf8),
            file: ""
        )
        let moved = try MirrorsFile.setting(mirror: "/cache/b.git", for: "https://x/r.git", in: kept, file: "")
        let object = try #require(
            (try JSONSerialization.jsonObject(with: moved) as? [String: Any])?["object"] as? [[String: String]]
        )
        #expect(
            object == [
                ["mirror": "/m/other", "original": "https://a/other.git"],
                ["mirror": "/cache/b.git", "original": "https://x/r.git"],
            ]
        )
    }

    @Test func aBrokenMirrorsFileIsNamedNotOverwritten() {
        let error = #expect(throws: CompilerError.self) {
            try MirrorsFile.setting(mirror: "/m", for: "https://x", in: Data("[1,".utf8), file: "/p/mirrors.json")
        }
        #expect(error?.message.hasPrefix("/p/mirrors.json is not a SwiftPM mirrors file (") == true)
        #expect(error?.message.hasSuffix("; fix it or remove it") == true)
    }

    @Test func repinningChangesOnlyTheRuntimePin() throws {
        let resolved = Data(
            """
            {
              "originHash" : "abc",
              "pins" : [
                {
                  "identity" : "agnost-runtime",
                  "kind" : "localSourceControl",
                  "location" : "https://github.com/agnost-fn/agnost-runtime.git",
                  "state" : { "revision" : "1111111111111111111111111111111111111111", "version" : "0.1.0" }
                },
                {
                  "identity" : "hummingbird",
                  "kind" : "remoteSourceControl",
                  "location" : "https://github.com/hummingbird-project/hummingbird.git",
                  "state" : { "revision" : "2222222222222222222222222222222222222222", "version" : "2.28.1" }
                }
              ],
              "version" : 3
            }
            """.utf8
        )
        let new = "3333333333333333333333333333333333333333"
        let repinned = try #require(
            ResolvedFile.repinning(RuntimeRepository.url, to: new, version: "0.1.0", in: resolved)
        )
        let root = try #require(try JSONSerialization.jsonObject(with: repinned) as? [String: Any])
        let pins = try #require(root["pins"] as? [[String: Any]])
        #expect(root["originHash"] as? String == "abc")
        #expect(root["version"] as? Int == 3)
        #expect(pins[0]["state"] as? [String: String] == ["revision": new, "version": "0.1.0"])
        #expect(pins[0]["kind"] as? String == "localSourceControl")
        #expect(
            pins[1]["state"] as? [String: String] == [
                "revision": String(repeating: "2", count: 40), "version": "2.28.1",
            ]
        )

        #expect(ResolvedFile.repinning(RuntimeRepository.url, to: new, version: "0.1.0", in: repinned) == nil)
        #expect(ResolvedFile.repinning("https://example.com/none.git", to: new, version: "0.1.0", in: resolved) == nil)
        #expect(ResolvedFile.repinning(RuntimeRepository.url, to: new, version: "0.1.0", in: Data("nope".utf8)) == nil)
    }

    @Test func theGeneratedPackageNamesTheRuntimeAsTheHandlerPackageDoes() throws {
        var package = GoldenFileTests.package
        package.runtimeIdentity = "runtime"
        package.runtime = .path("/src/agnost-fn/runtime")
        let manifest = try #require(
            ServerPackageRenderer.render(try GoldenFileTests.plan(), package: package).first {
                $0.path == "Package.swift"
            }
        )
        #expect(manifest.contents.contains(#"        .package(path: "/src/agnost-fn/runtime"),"#))
        #expect(manifest.contents.contains(#".product(name: "AgnostRuntime", package: "runtime")"#))
        #expect(!manifest.contents.contains("url:"))
    }

    @Test func mirroringIntoAPackageWritesTheMirrorAndRepinsAStalePin() throws {
        defer { try? FileManager.default.removeItem(at: workspace) }
        let repository = try RuntimeRepository.prepare(
            sources: try sources(),
            cache: workspace.appendingPathComponent("c")
        )
        let package = workspace.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
        let stale =
            #"{"pins": [{"identity": "agnost-runtime", "location": "\#(RuntimeRepository.url)", "#
            + #""state": {"revision": "0000000000000000000000000000000000000000", "version": "0.1.0"}}], "version": 3}"#
        try Data(stale.utf8).write(to: package.appendingPathComponent("Package.resolved"))

        try repository.mirror(into: package)
        let mirrors = try String(
            contentsOf: package.appendingPathComponent(".swiftpm/configuration/mirrors.json"),
            encoding: .utf8
        )
        #expect(mirrors.contains(#""mirror" : "\#(repository.location.path)""#))
        let resolved = try String(contentsOf: package.appendingPathComponent("Package.resolved"), encoding: .utf8)
        #expect(resolved.contains(#""revision" : "\#(repository.revision)""#))
    }
}
