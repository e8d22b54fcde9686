import Foundation

/// Renders `file:line:column: severity: message` diagnostics for a terminal: the line as editors parse it, then
/// the source line it points at with a caret under the column.
///
/// ```
/// agnost.yaml:9:14: error: cannot find 'getTodx' in scope
///     9 |     handler: getTodx
///       |              ^
/// ```
public struct DiagnosticFormatter {
    private var sources: [String: [Substring]?] = [:]

    public init() {}

    public mutating func format(_ diagnostic: String) -> String {
        guard let (file, line, column) = Self.location(of: diagnostic), let text = sourceLine(file, line) else {
            return diagnostic
        }
        let number = String(line)
        let gutter = String(repeating: " ", count: max(4, number.count) - number.count) + number
        let blank = String(repeating: " ", count: gutter.count)
        let caretIndent = String(repeating: " ", count: max(0, column - 1))
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

    private static func location(of diagnostic: String) -> (String, Int, Int)? {
        guard let marker = diagnostic.range(of: ": (error|warning|note): ", options: .regularExpression) else {
            return nil
        }
        let parts = diagnostic[..<marker.lowerBound].split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 3, let line = Int(parts[parts.count - 2]), let column = Int(parts[parts.count - 1])
        else { return nil }
        return (parts.dropLast(2).joined(separator: ":"), line, column)
    }
}
