import AgnostSpec

/// Picks the diagnostics out of `swift build` output and points those of generated code back at `agnost.yaml`.
enum SwiftCompilerOutput {
    /// The `file:line:column: severity: message` lines as ``Diagnostic`` values, each once, in order. Diagnostics
    /// in dependencies' checkouts are dropped: the user cannot act on them.
    ///
    /// - Parameters:
    ///   - specFile: the file name the generated code's `#sourceLocation` gives; its diagnostics are moved to
    ///     `specDisplayPath`.
    static func diagnostics(in output: String, specFile: String, specDisplayPath: String) -> [Diagnostic] {
        var seen = Set<Diagnostic>()
        var result: [Diagnostic] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: true) {
            guard var diagnostic = parse(line) else { continue }
            if diagnostic.location.file.contains("/.build/checkouts/") { continue }
            if diagnostic.location.file == specFile { diagnostic.location.file = specDisplayPath }
            if seen.insert(diagnostic).inserted {
                result.append(diagnostic)
            }
        }
        return result
    }

    /// Reads `path:12:7: error: …` (llvm style, which the build asks for); nil for any other line.
    static func parse(_ line: Substring) -> Diagnostic? {
        for severity in [Diagnostic.Severity.error, .warning, .note] {
            guard let marker = line.range(of: ": \(severity.rawValue): ") else { continue }
            let location = line[..<marker.lowerBound].split(separator: ":", omittingEmptySubsequences: false)
            guard location.count >= 3, let column = Int(location[location.count - 1]),
                let number = Int(location[location.count - 2])
            else { continue }
            return Diagnostic(
                severity,
                String(line[marker.upperBound...]),
                at: SourceLocation(file: location.dropLast(2).joined(separator: ":"), line: number, column: column)
            )
        }
        return nil
    }
}
