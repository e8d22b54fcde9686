/// Gathers diagnostics from every stage, so checking never stops at the first problem.
struct DiagnosticCollector {
    private var diagnostics: [Diagnostic] = []

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    mutating func error(_ message: String, at location: SourceLocation) {
        diagnostics.append(Diagnostic(.error, message, at: location))
    }

    mutating func warning(_ message: String, at location: SourceLocation) {
        diagnostics.append(Diagnostic(.warning, message, at: location))
    }

    mutating func note(_ message: String, at location: SourceLocation) {
        diagnostics.append(Diagnostic(.note, message, at: location))
    }

    /// Reports `message` at `location` and points at `related` with a note, e.g. at the first of two duplicates.
    mutating func error(_ message: String, at location: SourceLocation, note: String, at related: SourceLocation) {
        error(message, at: location)
        self.note(note, at: related)
    }

    /// In source order (keeping the order of reporting within one position), each diagnostic once.
    var sorted: [Diagnostic] {
        var seen: Set<Diagnostic> = []
        let unique = diagnostics.filter { seen.insert($0).inserted }
        return unique.enumerated()
            .sorted { ($0.element.location, $0.offset) < ($1.element.location, $1.offset) }
            .map(\.element)
    }
}
