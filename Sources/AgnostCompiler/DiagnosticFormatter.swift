import AgnostSpec
import Foundation

/// Renders diagnostics for a terminal: the `file:line:column: severity: message` line as editors parse it, then
/// the source line it points at with a caret under the column.
///
/// ```swift
/// var formatter = DiagnosticFormatter()
/// print(formatter.format(diagnostic))
/// // agnost.yaml:9:14: error: cannot find 'getTodx' in scope
/// //    9 |     handler: getTodx
/// //      |              ^
/// ```
public struct DiagnosticFormatter {
    /// Each file is read once, however many diagnostics point into it; nil when it cannot be read.
    private var sources: [String: [Substring]?] = [:]

    public init() {}

    public mutating func format(_ diagnostic: Diagnostic) -> String {
        let location = diagnostic.location
        guard let text = sourceLine(location.file, location.line) else { return diagnostic.description }
        let number = String(location.line)
        let gutter = String(repeating: " ", count: max(4, number.count) - number.count) + number
        let blank = String(repeating: " ", count: gutter.count)
        let caretIndent = String(repeating: " ", count: max(0, location.column - 1))
        return "\(diagnostic)\n\(gutter) | \(text)\n\(blank) | \(caretIndent)^"
    }

    private mutating func sourceLine(_ file: String, _ line: Int) -> Substring? {
        if sources[file] == nil {
            sources[file] = .some(
                (try? String(contentsOfFile: file, encoding: .utf8))?
                    .split(separator: "\n", omittingEmptySubsequences: false)
            )
        }
        guard let lines = sources[file] ?? nil, line >= 1, line <= lines.count else { return nil }
        return lines[line - 1]
    }
}
