import Foundation
import Testing

/// agnost-fn as `scripts/install` leaves it, used on projects outside the checkout: the sample copied away, a new
/// project from `init`, no `AGNOST_HOME`, and a `HOME` and cache of the test's own, so that nothing but the
/// installation and the mirrors agnost-fn writes can point SwiftPM at the runtime.
///
/// Slow: the copied sample's server and the new project's tests each compile Hummingbird once.
@Suite(.serialized)
struct PortableInstallTests {
    private static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// A folder outside the checkout, with the environment every child gets.
    private struct Workspace {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-portable-\(UUID().uuidString)")
        var prefix: URL { root.appendingPathComponent("prefix") }
        var installed: String { prefix.appendingPathComponent("bin/agnost-fn").path }
        var cache: URL { root.appendingPathComponent("cache") }
        var environment: [String: String] {
            var environment = ProcessInfo.processInfo.environment.filter {
                $0.key != "AGNOST_HOME" && $0.key != "AGNOST_LOG_FORMAT"
            }
            environment["HOME"] = root.appendingPathComponent("home").path
            environment["XDG_CACHE_HOME"] = cache.path
            return environment
        }

        init() throws {
            try FileManager.default.createDirectory(
                at: root.appendingPathComponent("home"),
                withIntermediateDirectories: true
            )
        }

        func run(
            _ arguments: [String],
            in directory: URL? = nil,
            environment: [String: String]? = nil,
            timeout: Duration = .seconds(60)
        ) throws -> ChildProcess.Outcome {
            try ChildProcess(
                arguments,
                in: directory,
                environment: environment ?? self.environment,
                logs: root.appendingPathComponent("logs")
            ).wait(timeout: timeout)
        }
    }

    @Test func installedAgnostFnBuildsRunsAndInvokesACopiedSampleAndInitsABuildableProject() throws {
        let workspace = try Workspace()
        defer { try? FileManager.default.removeItem(at: workspace.root) }

        let install = try workspace.run(
            [
                Self.checkout.appendingPathComponent("scripts/install").path, workspace.prefix.path, "--binary",
                Commands.agnostFn,
            ]
        )
        #expect(install.status == 0, "\(install.standardError)")
        #expect(install.standardOutput.contains("installed \(workspace.installed) with "))
        let share = workspace.prefix.appendingPathComponent("share/agnost-fn")
        #expect(FileManager.default.fileExists(atPath: share.appendingPathComponent("runtime/Package.swift").path))
        #expect(
            FileManager.default.fileExists(
                atPath: share.appendingPathComponent("templates/swift-http/agnost.yaml").path
            )
        )
        let leftovers = FileManager.default.enumerator(atPath: share.path)?.compactMap { $0 as? String }.filter {
            $0.split(separator: "/").contains { [".build", ".swiftpm", ".agnost", "Package.resolved"].contains($0) }
        }
        #expect(leftovers == [])
        let bash = try String(
            contentsOf: workspace.prefix.appendingPathComponent("share/bash-completion/completions/agnost-fn"),
            encoding: .utf8
        )
        #expect(bash.contains("_agnost-fn"))
        for completion in ["share/zsh/site-functions/_agnost-fn", "share/fish/vendor_completions.d/agnost-fn.fish"] {
            let size =
                try FileManager.default.attributesOfItem(
                    atPath: workspace.prefix.appendingPathComponent(completion).path
                )[.size] as? Int
            #expect((size ?? 0) > 0, "\(completion)")
        }

        // The sample as a user would copy it: its sources, none of this checkout's build state.
        let todo = workspace.root.appendingPathComponent("todo")
        try FileManager.default.createDirectory(at: todo, withIntermediateDirectories: true)
        for entry in ["Package.swift", "agnost.yaml", "Sources", "Tests"] {
            try FileManager.default.copyItem(
                at: Self.checkout.appendingPathComponent("samples/todo/\(entry)"),
                to: todo.appendingPathComponent(entry)
            )
        }
        let built = try workspace.run(
            [workspace.installed, "build", "--path", todo.path, "--configuration", "debug"],
            timeout: .seconds(1200)
        )
        #expect(built.status == 0, "\(built.standardError)")
        #expect(built.standardOutput.firstMatch(of: /^sha256:[0-9a-f]{64}\n$/) != nil, "\(built.standardOutput)")
        let mirrors = try String(
            contentsOf: todo.appendingPathComponent(".swiftpm/configuration/mirrors.json"),
            encoding: .utf8
        )
        #expect(mirrors.contains(#""mirror" : "\#(workspace.cache.path)/agnost-fn/runtime/"#), "\(mirrors)")
        #expect(
            try String(
                contentsOf: todo.appendingPathComponent(".agnost/build/.swiftpm/configuration/mirrors.json"),
                encoding: .utf8
            ) == mirrors
        )

        let server = try ChildProcess(
            [workspace.installed, "run", "--path", todo.path, "--port", "0", "--configuration", "debug"],
            environment: workspace.environment,
            logs: workspace.root.appendingPathComponent("logs")
        )
        let listening = try server.waitForLine(containing: "listening", timeout: .seconds(120))
        let port = try #require(listening.firstMatch(of: /127\.0\.0\.1:(\d+)/).map { String($0.1) })
        let invoked = try workspace.run(
            [
                workspace.installed, "invoke", "getTodo", "--param", "id=1", "--path", todo.path, "--target",
                "http://127.0.0.1:\(port)",
            ]
        )
        #expect(invoked.status == 0, "\(invoked.standardError)")
        #expect(invoked.standardOutput == #"{"done":false,"id":1,"title":"todo 1"}"#)
        #expect(try server.stop() == 0)

        // A new project from the installed template; SwiftPM alone builds and tests it through the mirror init wrote.
        let shop = workspace.root.appendingPathComponent("shop")
        let created = try workspace.run([workspace.installed, "init", shop.path])
        #expect(created.status == 0, "\(created.standardError)")
        #expect(created.standardError.contains("created shop from swift-http"))
        let tested = try workspace.run(["/usr/bin/env", "swift", "test"], in: shop, timeout: .seconds(1200))
        #expect(tested.status == 0, "\(tested.standardOutput)\(tested.standardError)")
        #expect(tested.standardOutput.contains("Test run with 4 tests"), "\(tested.standardOutput)")
        let resolved = try String(contentsOf: shop.appendingPathComponent("Package.resolved"), encoding: .utf8)
        #expect(resolved.contains(#""location" : "https://github.com/agnost-fn/agnost-runtime.git""#))

        // A clone elsewhere: the committed files, Package.resolved included, but no .swiftpm and no .build. `mirror`
        // alone lets SwiftPM resolve the runtime, at the commit pinned, from this installation.
        let clone = workspace.root.appendingPathComponent("shop-clone")
        try FileManager.default.createDirectory(at: clone, withIntermediateDirectories: true)
        for entry in try FileManager.default.contentsOfDirectory(atPath: shop.path)
        where ![".build", ".swiftpm", ".agnost"].contains(entry) {
            try FileManager.default.copyItem(
                at: shop.appendingPathComponent(entry),
                to: clone.appendingPathComponent(entry)
            )
        }
        let mirrored = try workspace.run([workspace.installed, "mirror", "--path", clone.path])
        #expect(mirrored.status == 0, "\(mirrored.standardError)")
        let resolvedClone = try workspace.run(["/usr/bin/env", "swift", "package", "resolve"], in: clone)
        #expect(resolvedClone.status == 0, "\(resolvedClone.standardOutput)\(resolvedClone.standardError)")
        #expect(
            FileManager.default.fileExists(
                atPath: clone.appendingPathComponent(".build/checkouts/agnost-runtime/Sources/AgnostRuntime").path
            )
        )
        #expect(try String(contentsOf: clone.appendingPathComponent("Package.resolved"), encoding: .utf8) == resolved)
    }

    @Test func withoutGitInitSaysSoAndWritesNothing() throws {
        let workspace = try Workspace()
        defer { try? FileManager.default.removeItem(at: workspace.root) }
        var environment = workspace.environment
        environment["PATH"] = workspace.root.appendingPathComponent("empty-bin").path
        let shop = workspace.root.appendingPathComponent("shop")
        let outcome = try workspace.run([Commands.agnostFn, "init", shop.path], environment: environment)
        #expect(outcome.status == 1)
        #expect(
            outcome.standardError.hasPrefix(
                "error: git is not on PATH; it is needed to lay out the runtime repository SwiftPM builds against, "
                    + "under \(workspace.cache.path)/agnost-fn/runtime. Install git."
            ),
            "\(outcome.standardError)"
        )
        #expect(!FileManager.default.fileExists(atPath: shop.path))
    }

    @Test func anUnwritableCacheIsNamed() throws {
        let workspace = try Workspace()
        defer { try? FileManager.default.removeItem(at: workspace.root) }
        let blocker = workspace.root.appendingPathComponent("a-file")
        try Data().write(to: blocker)
        var environment = workspace.environment
        environment["XDG_CACHE_HOME"] = blocker.path
        let outcome = try workspace.run(
            [Commands.agnostFn, "init", workspace.root.appendingPathComponent("shop").path],
            environment: environment
        )
        #expect(outcome.status == 1)
        #expect(
            outcome.standardError.hasPrefix(
                "error: cannot create the runtime repository under \(blocker.path)/agnost-fn/runtime: "
            ),
            "\(outcome.standardError)"
        )
    }
}

/// A child in a process group of its own, with its output in files, so that a deadline can end it and everything it
/// started.
final class ChildProcess: @unchecked Sendable {
    struct Outcome {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    private let pid: pid_t
    private let outputFile: URL
    private let errorFile: URL
    private var status: Int32?

    init(_ arguments: [String], in directory: URL? = nil, environment: [String: String], logs: URL) throws {
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let name = UUID().uuidString
        outputFile = logs.appendingPathComponent("\(name).out")
        errorFile = logs.appendingPathComponent("\(name).err")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        // posix_spawn_file_actions_addchdir_np is not imported into Swift; coreutils' env changes folder instead.
        let arguments = directory.map { ["/usr/bin/env", "-C", $0.path] + arguments } ?? arguments
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw E2EFailure("cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    /// Waits for the child to exit; past the deadline its whole group is killed and the test fails with its output.
    func wait(timeout: Duration) throws -> Outcome {
        let deadline = ContinuousClock.now + timeout
        while !hasExited() {
            guard ContinuousClock.now < deadline else {
                killGroup()
                throw E2EFailure("\(pid) did not finish within \(timeout); stderr:\n\(read(errorFile))")
            }
            usleep(20_000)
        }
        return Outcome(status: status ?? -1, standardOutput: read(outputFile), standardError: read(errorFile))
    }

    /// The first line of stdout or stderr containing `text`.
    func waitForLine(containing text: String, timeout: Duration) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let lines = (read(outputFile) + "\n" + read(errorFile)).split(separator: "\n")
            if let line = lines.first(where: { $0.contains(text) }) { return String(line) }
            if hasExited() { break }
            usleep(20_000)
        }
        killGroup()
        throw E2EFailure("no line containing '\(text)'; stdout:\n\(read(outputFile))\nstderr:\n\(read(errorFile))")
    }

    /// SIGTERM, as Ctrl-C or Knative would stop a server, then the exit status.
    func stop() throws -> Int32 {
        if !hasExited() { kill(pid, SIGTERM) }
        return try wait(timeout: .seconds(30)).status
    }

    private func hasExited() -> Bool {
        if status != nil { return true }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return false }
        // WIFEXITED / WEXITSTATUS, which Swift does not import: a signal gives 128 + its number.
        status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        return true
    }

    private func killGroup() {
        kill(-pid, SIGKILL)
        while !hasExited() { usleep(10_000) }
    }

    private func read(_ file: URL) -> String {
        (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    }

    deinit {
        // Whatever the test's outcome, nothing it started outlives it.
        kill(-pid, SIGKILL)
        if status == nil { waitpid(pid, nil, 0) }
    }
}
