import AgnostBundle
import AgnostDigest
import AgnostSpec
import Foundation

/// `debug` builds fast for local runs; `release` is optimized, links the Swift runtime statically and strips the
/// binary, for images.
public enum BuildConfiguration: String, Sendable, CaseIterable {
    case debug
    case release
}

/// What the builder reports while it works.
public enum BuildEvent: Sendable {
    case stageStarted(String)
    case stageFinished(String, Duration)
    /// Raw `swift build` output, passed on only when the builder is verbose.
    case compilerOutput(String)
}

/// A finished (or already current) bundle.
public struct BuildResult: Sendable {
    /// `<project>/.agnost/bundle`, holding `server` and `bundle.json`.
    public var bundleDirectory: URL
    public var manifest: BundleManifest
    /// True when the inputs were unchanged and nothing was rebuilt.
    public var upToDate: Bool
    /// Warnings of `agnost.yaml`.
    public var warnings: [Diagnostic]
}

/// Builds a project's bundle: check → inputs → plan → inspect → generate → compile → bundle.
///
/// ```swift
/// let builder = BundleBuilder { event in print(event) }
/// let result = try builder.build(project: URL(fileURLWithPath: "samples/todo"), displayPath: "samples/todo",
///                                configuration: .release)
/// ```
public struct BundleBuilder: Sendable {
    public let verbose: Bool
    /// How long `swift build` may take before it is stopped and the build fails: long enough for a first release
    /// build on a small machine, short of hanging forever.
    public var buildTimeout: Duration = .seconds(3600)
    private let runtime: RuntimeMirror?
    private let report: @Sendable (BuildEvent) -> Void

    /// - Parameter runtime: where a project that names the runtime by ``RuntimeRepository/url`` gets it; nil for
    ///   the installation of the running executable, with the user's cache.
    public init(
        verbose: Bool = false,
        runtime: RuntimeMirror? = nil,
        report: @escaping @Sendable (BuildEvent) -> Void = { _ in }
    ) {
        self.verbose = verbose
        self.runtime = runtime
        self.report = report
    }

    private var buildDeadline: ProcessRunner.Deadline { ProcessRunner.Deadline(timeout: buildTimeout) }

    /// - Parameter displayPath: how diagnostics name the project folder (`.` for the current one).
    public func build(
        project: URL,
        displayPath: String,
        configuration: BuildConfiguration
    ) throws(CompilerError) -> BuildResult {
        let paths = ProjectPaths(project: project)
        let specDisplayPath = displayPath == "." ? "agnost.yaml" : "\(displayPath)/agnost.yaml"

        let checked = try stage("check agnost.yaml") { () throws(CompilerError) in
            try Self.checkSpec(at: paths.spec, displayPath: specDisplayPath)
        }
        let handlerPackage = try stage("inspect Package.swift") { () throws(CompilerError) in
            let dump = try ProcessRunner.run(["swift", "package", "dump-package"], in: paths.project)
            guard dump.status == 0 else {
                let diagnostics = SwiftCompilerOutput.diagnostics(in: dump.output, specFile: "", specDisplayPath: "")
                throw CompilerError(
                    .invalidPackage,
                    "'swift package dump-package' failed in \(displayPath); is Package.swift valid?",
                    diagnostics: diagnostics,
                    toolOutput: diagnostics.isEmpty ? [dump.output] : []
                )
            }
            return try PackageInspector.handlerPackage(manifestJSON: Data(dump.output.utf8), directory: paths.project)
        }
        let runtimeSources = try runtimeSources(for: handlerPackage.runtime, paths: paths)
        let toolchain = try Self.toolchainVersion()
        let inputDigest = try InputDigest.compute(
            specDigest: checked.digest,
            project: paths.project,
            runtime: runtimeSources,
            configuration: configuration,
            toolchain: toolchain
        )
        if let current = Self.currentBundle(paths), current.build.inputDigest == inputDigest {
            return BuildResult(
                bundleDirectory: paths.bundle,
                manifest: current,
                upToDate: true,
                warnings: checked.warnings
            )
        }
        var plan = BuildPlan(spec: checked.spec, specDigest: checked.digest)
        try stage("generate .agnost/build") { () throws(CompilerError) in
            for file in ServerPackageRenderer.render(plan, package: handlerPackage) {
                try writeIfChanged(Data(file.contents.utf8), to: paths.generated.appendingPathComponent(file.path))
            }
        }
        try stage("compile (swift build -c \(configuration.rawValue))") { () throws(CompilerError) in
            try compile(paths, configuration: configuration, specDisplayPath: specDisplayPath)
        }
        plan.manifest.build = BuildInfo(
            configuration: configuration.rawValue,
            toolchain: toolchain,
            inputDigest: inputDigest
        )
        try stage("write .agnost/bundle") { () throws(CompilerError) in
            try Self.writeBundle(plan.manifest, paths: paths, configuration: configuration)
        }
        return BuildResult(
            bundleDirectory: paths.bundle,
            manifest: plan.manifest,
            upToDate: false,
            warnings: checked.warnings
        )
    }

    /// The check stage alone, shared with `agnost-fn check`: diagnostics of `agnost.yaml`, errors first thrown.
    public static func checkSpec(
        at path: URL,
        displayPath: String
    ) throws(CompilerError) -> (spec: AppSpec, digest: String, warnings: [Diagnostic]) {
        let result: SpecCheckResult
        do {
            result = try SpecChecker.check(fileAt: path.path, displayPath: displayPath)
        } catch {
            throw CompilerError(.invalidSpec, "\(error.path): \(error.message)")
        }
        guard let spec = result.spec else {
            let count = result.errorCount == 1 ? "1 error" : "\(result.errorCount) errors"
            throw CompilerError(
                .invalidSpec,
                "\(displayPath) has \(count)",
                diagnostics: result.diagnostics
            )
        }
        return (spec, SHA256.hash(result.source.utf8).description, result.diagnostics.filter { $0.severity != .error })
    }

    /// The runtime's sources. A runtime named by its URL is mirrored to this installation's repository, in the
    /// generated package (whose root decides for the handler package too) and in the project, for its own
    /// `swift test`; both are rewritten on every build, so a moved or upgraded installation takes effect.
    private func runtimeSources(for dependency: RuntimeDependency, paths: ProjectPaths) throws(CompilerError) -> URL {
        switch dependency {
        case .path(let path):
            return URL(fileURLWithPath: path)
        case .repository:
            let runtime: RuntimeMirror
            if let configured = self.runtime {
                runtime = configured
            } else {
                runtime = try RuntimeMirror(layout: ToolchainLayout.locate())
            }
            let repository = try runtime.repository()
            try repository.mirror(into: paths.generated)
            try repository.mirror(into: paths.project)
            return runtime.sources
        }
    }

    private func compile(
        _ paths: ProjectPaths,
        configuration: BuildConfiguration,
        specDisplayPath: String
    ) throws(CompilerError) {
        var arguments = [
            "swift", "build", "--package-path", paths.generated.path, "--configuration", configuration.rawValue,
            "--product", ServerPackageRenderer.executableName, "-Xswiftc", "-diagnostic-style=llvm",
        ]
        if configuration == .release {
            arguments += ["--static-swift-stdlib", "-Xlinker", "--strip-all"]
        }
        let outcome = try ProcessRunner.run(
            arguments,
            deadline: buildDeadline,
            onOutput: verbose ? { report(.compilerOutput($0)) } : nil
        )
        guard outcome.status == 0 else {
            let diagnostics = SwiftCompilerOutput.diagnostics(
                in: outcome.output,
                specFile: "agnost.yaml",
                specDisplayPath: specDisplayPath
            )
            let errors = diagnostics.count { $0.severity == .error }
            throw CompilerError(
                .swiftBuildFailed,
                errors == 0
                    ? "swift build failed" : "swift build failed with \(errors == 1 ? "1 error" : "\(errors) errors")",
                diagnostics: diagnostics,
                toolOutput: diagnostics.isEmpty ? outcome.output.split(separator: "\n").suffix(30).map(String.init) : []
            )
        }
    }

    private func stage<Value>(
        _ name: String,
        _ work: () throws(CompilerError) -> Value
    ) throws(CompilerError) -> Value {
        report(.stageStarted(name))
        let start = ContinuousClock.now
        let value = try work()
        report(.stageFinished(name, ContinuousClock.now - start))
        return value
    }

    private static func toolchainVersion() throws(CompilerError) -> String {
        let outcome = try ProcessRunner.run(["swift", "--version"])
        guard outcome.status == 0, let first = outcome.output.split(separator: "\n").first else {
            throw CompilerError(.toolFailed, "'swift --version' failed; is the Swift toolchain on PATH?")
        }
        return String(first)
    }

    private static func currentBundle(_ paths: ProjectPaths) -> BundleManifest? {
        guard FileManager.default.isExecutableFile(atPath: paths.server.path),
            let data = try? Data(contentsOf: paths.manifest)
        else { return nil }
        return try? JSONDecoder().decode(BundleManifest.self, from: data)
    }

    private static func writeBundle(
        _ manifest: BundleManifest,
        paths: ProjectPaths,
        configuration: BuildConfiguration
    ) throws(CompilerError) {
        let built = paths.generated.appendingPathComponent(
            ".build/\(configuration.rawValue)/\(ServerPackageRenderer.executableName)"
        )
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: paths.bundle, withIntermediateDirectories: true)
            let staging = paths.bundle.appendingPathComponent(".server.partial")
            try? manager.removeItem(at: staging)
            try manager.copyItem(at: built, to: staging)
            // rename(2) swaps the binary atomically: a server being started never sees a half-copied file.
            guard rename(staging.path, paths.server.path) == 0 else {
                throw CompilerError(
                    .fileSystem,
                    "cannot move the server into \(paths.bundle.path): \(String(cString: strerror(errno)))"
                )
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(manifest).write(to: paths.manifest, options: .atomic)
        } catch {
            throw CompilerError(.fileSystem, "cannot write the bundle to \(paths.bundle.path): \(error)")
        }
    }
}

/// The files of a project the build reads and writes.
struct ProjectPaths {
    let project: URL
    var spec: URL { project.appendingPathComponent("agnost.yaml") }
    var generated: URL { project.appendingPathComponent(".agnost/build") }
    var bundle: URL { project.appendingPathComponent(".agnost/bundle") }
    var server: URL { bundle.appendingPathComponent("server") }
    var manifest: URL { bundle.appendingPathComponent("bundle.json") }

    init(project: URL) {
        self.project = project.standardizedFileURL
    }
}
