import AgnostCompiler
import AgnostOCI
import AgnostPipeline
import AgnostRegistry
import AgnostSpec
import ArgumentParser
import Foundation

/// `--path DIR`, which every command takes.
struct ProjectOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The project folder, holding agnost.yaml.", valueName: "dir"))
    var path: String = "."

    var directory: URL { URL(fileURLWithPath: path).standardizedFileURL }

    /// The folder as diagnostics should name it: as the user wrote it, without a trailing slash.
    var displayPath: String {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed
    }

    var specDisplayPath: String { project.specDisplayPath }

    /// The project as the workflow takes it.
    var project: Project { Project(directory: directory, displayPath: displayPath) }
}

/// Messages for people go to stderr; stdout carries only results (bundle paths, response bodies).
enum Console {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }

    static func status(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    static func diagnostics(_ diagnostics: [Diagnostic]) {
        var formatter = DiagnosticFormatter()
        for diagnostic in diagnostics {
            FileHandle.standardError.write(Data("\(formatter.format(diagnostic))\n".utf8))
        }
    }

    static func format(_ duration: Duration) -> String { DisplayFormat.format(duration) }

    static func format(bytes: Int64) -> String { DisplayFormat.format(bytes: bytes) }

    /// Prints a failed build's message and diagnostics, then exits 1.
    static func fail(_ error: CompilerError) -> ExitCode {
        diagnostics(error.diagnostics)
        for line in error.toolOutput { status(line) }
        self.error(error.message)
        return .failure
    }

    /// Prints a failed step of the workflow: diagnostics, what a tool printed, the error and what to do, then
    /// exits 1.
    static func fail(_ error: PipelineError) -> ExitCode {
        diagnostics(error.diagnostics)
        for line in error.toolOutput { status(line) }
        self.error(error.description)
        if let remedy = (error.underlying as? RegistryError)?.remedy { hint(remedy) }
        return .failure
    }

    /// Runs a step of the workflow; a failure is printed, and exits 1.
    static func step<Value>(_ body: () throws(PipelineError) -> Value) throws(ExitCode) -> Value {
        do {
            return try body()
        } catch {
            throw fail(error)
        }
    }

    /// Runs a step of the workflow that Ctrl-C may interrupt: a failure is printed and exits 1; an interruption
    /// says what it left behind and exits 130, as a shell reports SIGINT.
    static func interruptibleStep<Value: Sendable>(
        _ what: String,
        _ body: @escaping @Sendable () async throws(PipelineError) -> Value
    ) async throws -> Value {
        do {
            return try await Interruption.cancellingOnSignals { () async throws(PipelineError) in try await body() }
        } catch let error as PipelineError where error.wasCancelled {
            self.error(
                "interrupted: the \(what) stopped; nothing local was changed, and running the command again finishes it"
            )
            throw ExitCode(130)
        } catch let error as PipelineError {
            throw fail(error)
        }
    }

    /// Parses a value of an option; a failure is a usage error that names the option.
    static func parse<Value>(_ body: () throws(ImageError) -> Value) throws(ValidationError) -> Value {
        do {
            return try body()
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The command that does what a registry error asks for.
    static func hint(_ remedy: RegistryError.Remedy) {
        switch remedy {
        case .logIn(let registry):
            status("hint: echo \"$PASSWORD\" | agnost-fn login \(registry) -u USER --password-stdin")
        case .choosePlatform:
            status("hint: name one with --platform OS/ARCH")
        }
    }
}
