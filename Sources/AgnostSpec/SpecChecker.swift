import Foundation

/// Checks an `agnost.yaml` and turns it into an ``AppSpec``.
///
/// ```swift
/// let result = SpecChecker.check(source: "app: todo\nversion: v1\n", file: "agnost.yaml")
/// for diagnostic in result.diagnostics {
///     print(diagnostic)  // agnost.yaml:1:1: warning: this version declares no endpoints, queues or cron jobs, …
/// }
/// result.spec?.serviceName  // "todo-v1"
/// ```
///
/// Checking runs in stages, each reporting into one collection of diagnostics and never stopping at the first
/// problem: YAML is composed into a tree with positions (`YAMLComposer`), decoded into the model
/// (`SpecDecoder`), and validated across items (`SpecValidator`).
public enum SpecChecker {
    /// Checks `source`; `file` is the path diagnostics show.
    public static func check(source: String, file: String) -> SpecCheckResult {
        var diagnostics = DiagnosticCollector()
        var composer = YAMLComposer(source: source, file: file)
        var spec: AppSpec?
        if let root = composer.compose(diagnostics: &diagnostics),
            let decoded = SpecDecoder.decode(root, diagnostics: &diagnostics)
        {
            SpecValidator.validate(decoded, diagnostics: &diagnostics)
            spec = diagnostics.hasErrors ? nil : decoded.appSpec
        }
        return SpecCheckResult(spec: spec, diagnostics: diagnostics.sorted, source: source)
    }

    /// Reads and checks the file at `path`; `displayPath` is what diagnostics show, e.g.
    /// "samples/todo/agnost.yaml".
    ///
    /// ```swift
    /// let result = try SpecChecker.check(fileAt: "/work/todo/agnost.yaml", displayPath: "agnost.yaml")
    /// ```
    public static func check(fileAt path: String, displayPath: String) throws(SpecFileError) -> SpecCheckResult {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SpecFileError(
                code: .notFound,
                path: displayPath,
                message: "no such file; create a project there, or name the folder that holds one"
            )
        }
        guard !isDirectory.boolValue else {
            throw SpecFileError(
                code: .unreadable,
                path: displayPath,
                message: "is a directory; pass the path of the agnost.yaml file"
            )
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SpecFileError(
                code: .unreadable,
                path: displayPath,
                message: "cannot be read: \(error.localizedDescription)"
            )
        }
        guard let source = String(validating: data, as: UTF8.self) else {
            throw SpecFileError(code: .notUTF8, path: displayPath, message: "is not UTF-8 text; save it as UTF-8")
        }
        return check(source: source, file: displayPath)
    }
}

/// What ``SpecChecker`` found.
///
/// ```swift
/// let result = SpecChecker.check(source: yaml, file: "agnost.yaml")
/// if result.errorCount > 0 {
///     result.diagnostics.forEach { print($0) }  // agnost.yaml:9:5: error: …
/// }
/// ```
public struct SpecCheckResult: Sendable {
    /// The model; non-nil exactly when there are no errors (warnings allowed), so nothing downstream ever sees an
    /// invalid one.
    public var spec: AppSpec?
    /// Sorted by position, each once.
    public var diagnostics: [Diagnostic]
    public var errorCount: Int
    public var warningCount: Int
    /// The text that was checked, so that what is built and hashed is exactly what was checked, never a second read
    /// of a file that may have changed in between.
    public var source: String

    public init(spec: AppSpec?, diagnostics: [Diagnostic], source: String) {
        self.spec = spec
        self.diagnostics = diagnostics
        self.source = source
        errorCount = diagnostics.count { $0.severity == .error }
        warningCount = diagnostics.count { $0.severity == .warning }
    }
}

/// Why ``SpecChecker/check(fileAt:displayPath:)`` could not read a file.
///
/// ```swift
/// do {
///     _ = try SpecChecker.check(fileAt: "missing.yaml", displayPath: "missing.yaml")
/// } catch {
///     error.code         // .notFound
///     error.description  // "missing.yaml: error: no such file; create a project with …"
/// }
/// ```
public struct SpecFileError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case notFound, unreadable, notUTF8
    }

    public let code: Code
    /// The display path of the file.
    public let path: String
    /// What went wrong, as a phrase that follows the path.
    public let message: String

    public init(code: Code, path: String, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    /// `path: error: message`, in the format of diagnostics without a position.
    public var description: String { "\(path): error: \(message)" }
}
