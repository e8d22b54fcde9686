import AgnostCompiler
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

    var specDisplayPath: String { displayPath == "." ? "agnost.yaml" : "\(displayPath)/agnost.yaml" }
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
}
