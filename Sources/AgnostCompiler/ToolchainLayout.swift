import Foundation

/// Where the parts of an agnost-fn installation are: the runtime package functions link, and the templates.
///
/// Found from `AGNOST_HOME`, else by walking up from the running executable, which finds the repository
/// checkout (`.build/debug/agnost-fn`) and an installation (`PREFIX/bin/agnost-fn` with `PREFIX/share/agnost-fn/`).
///
/// ```swift
/// let layout = try ToolchainLayout.locate()   // e.g. /usr/local/share/agnost-fn
/// let templates = layout.templates
/// ```
public struct ToolchainLayout: Sendable {
    public let root: URL
    public var runtime: URL { root.appendingPathComponent("runtime") }
    public var templates: URL { root.appendingPathComponent("templates") }

    public init(root: URL) {
        self.root = root
    }

    /// - Parameter executable: the running binary. `argv[0]` will not do: run from `PATH` it is a bare name.
    public static func locate(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: URL = URL(fileURLWithPath: "/proc/self/exe")
    ) throws(CompilerError) -> ToolchainLayout {
        if let home = environment["AGNOST_HOME"], !home.isEmpty {
            let layout = ToolchainLayout(root: URL(fileURLWithPath: home))
            guard layout.isComplete else {
                throw CompilerError(
                    .toolchainLayout,
                    "AGNOST_HOME=\(home) has no runtime/Package.swift and templates/; point it at the agnost-fn checkout "
                        + "or at the share/agnost-fn folder of an installation"
                )
            }
            return layout
        }
        var directory = executable.resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            for candidate in [directory, directory.appendingPathComponent("share/agnost-fn")] {
                let layout = ToolchainLayout(root: candidate)
                if layout.isComplete { return layout }
            }
            directory.deleteLastPathComponent()
        }
        throw CompilerError(
            .toolchainLayout,
            "cannot find the agnost-fn runtime and templates above \(executable.path), nor in a share/agnost-fn "
                + "folder beside one of its parents; set AGNOST_HOME to the agnost-fn checkout or installation"
        )
    }

    private var isComplete: Bool {
        FileManager.default.fileExists(atPath: runtime.appendingPathComponent("Package.swift").path)
            && FileManager.default.fileExists(atPath: templates.path)
    }
}
