import Foundation
import Testing

/// The README and the CLI cannot drift apart: every command the README shows exists, and every command the CLI has
/// is in the README.
@Suite struct DocumentedCommandsTests {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../README.md").standardizedFileURL

    /// The subcommands the README names: `agnost-fn NAME` at the start of a line of a code block (after an optional
    /// `$ ` prompt) or at the start of an inline code span. Prose such as "agnost-fn runs" is neither.
    static func documentedCommands() throws -> Set<String> {
        let text = try String(contentsOf: readme, encoding: .utf8)
        var commands = Set<String>()
        var inCodeBlock = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inCodeBlock.toggle()
                continue
            }
            if inCodeBlock, let match = line.firstMatch(of: /^\s*(?:\$ )?agnost-fn ([a-z][a-z-]*)/) {
                commands.insert(String(match.1))
            }
            for match in line.matches(of: /`agnost-fn ([a-z][a-z-]*)/) {
                commands.insert(String(match.1))
            }
        }
        return commands
    }

    /// The subcommands `agnost-fn --help` lists under SUBCOMMANDS.
    static func registeredCommands() throws -> Set<String> {
        let help = try Commands.agnost("--help")
        guard help.status == 0 else {
            throw E2EFailure("agnost-fn --help exited \(help.status): \(help.standardError)")
        }
        let section = help.standardOutput.components(separatedBy: "SUBCOMMANDS:").last ?? ""
        return Set(
            section.split(separator: "\n").compactMap { line in
                line.firstMatch(of: /^  ([a-z][a-z-]*)(\s|$)/).map { String($0.1) }
            }.filter { $0 != "help" }
        )
    }

    @Test func everyDocumentedCommandAnswersHelp() throws {
        let documented = try Self.documentedCommands()
        // The CLI reference table alone names these; finding fewer means the extraction broke, not the CLI.
        let table: Set = ["init", "templates", "check", "build", "run", "invoke", "push", "pull", "login", "logout"]
        #expect(table.isSubset(of: documented), "the README's commands were not all found: \(documented.sorted())")
        for command in documented.sorted() {
            let outcome = try Commands.agnost(command, "--help")
            #expect(outcome.status == 0, "agnost-fn \(command) --help: \(outcome.standardError)")
            #expect(
                outcome.standardOutput.contains("USAGE: agnost-fn \(command)"),
                "agnost-fn \(command) --help printed: \(outcome.standardOutput)"
            )
        }
    }

    @Test func everyCommandIsDocumented() throws {
        let registered = try Self.registeredCommands()
        #expect(registered.contains("build"), "no subcommands found in: agnost-fn --help")
        let undocumented = registered.subtracting(try Self.documentedCommands())
        #expect(undocumented.isEmpty, "commands missing from README.md: \(undocumented.sorted())")
    }
}
