import AgnostSpec

/// A build that could not be done, with what to do about it.
///
/// ```swift
/// catch let error as CompilerError { print("error: \(error.message)") }
/// ```
public struct CompilerError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// `agnost.yaml` has errors; `diagnostics` lists them.
        case invalidSpec
        /// The handler package is not shaped as the compiler needs (no library, no runtime dependency, …).
        case invalidPackage
        /// `swift build` failed; `diagnostics` holds what the Swift compiler reported.
        case swiftBuildFailed
        /// A tool the build runs is missing or failed outside the user's code.
        case toolFailed
        /// Reading or writing a file failed.
        case fileSystem
        /// The toolchain installation is incomplete (no runtime or templates next to the binary).
        case toolchainLayout
        /// `init` was asked for something it cannot do.
        case invalidScaffold
    }

    public let code: Code
    public let message: String
    /// The problems behind the error, from the spec checker or mapped from the Swift compiler's output.
    public let diagnostics: [Diagnostic]
    /// What a tool printed when it failed without a diagnostic to show, such as the end of a failed link.
    public let toolOutput: [String]

    public init(_ code: Code, _ message: String, diagnostics: [Diagnostic] = [], toolOutput: [String] = []) {
        self.code = code
        self.message = message
        self.diagnostics = diagnostics
        self.toolOutput = toolOutput
    }

    public var description: String { message }
}
