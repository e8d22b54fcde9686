/// "Did you mean" suggestions and the English lists that messages show when there is none.
enum Suggestion {
    /// The candidate closest to `input` (ignoring case), if it is close enough to be a likely typo.
    static func closest(to input: String, among candidates: some Sequence<String>) -> String? {
        let typed = Array(input.lowercased())
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let known = Array(candidate.lowercased())
            let distance = editDistance(typed, known)
            // About one edit per three characters still reads as the same word; more suggests nonsense.
            let tolerance = max(1, (max(typed.count, known.count) + 2) / 3)
            if distance <= tolerance, distance < best?.distance ?? .max {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// "; did you mean 'x'?" when a candidate is close, else "; " followed by `otherwise`.
    static func hint(for input: String, among candidates: [String], otherwise: String) -> String {
        if let match = closest(to: input, among: candidates) {
            return "; did you mean '\(match)'?"
        }
        return "; \(otherwise)"
    }

    /// "a, b or c".
    static func list(_ items: [String], conjunction: String = "or") -> String {
        guard let last = items.last, items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " \(conjunction) \(last)"
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions.
    private static func editDistance(_ lhs: [Character], _ rhs: [Character]) -> Int {
        guard !lhs.isEmpty else { return rhs.count }
        guard !rhs.isEmpty else { return lhs.count }
        var previousRow: [Int] = []
        var row = Array(0...rhs.count)
        for i in 1...lhs.count {
            let rowBefore = row
            row = [i] + Array(repeating: 0, count: rhs.count)
            for j in 1...rhs.count {
                let cost = lhs[i - 1] == rhs[j - 1] ? 0 : 1
                row[j] = min(rowBefore[j] + 1, row[j - 1] + 1, rowBefore[j - 1] + cost)
                if i > 1, j > 1, lhs[i - 1] == rhs[j - 2], lhs[i - 2] == rhs[j - 1] {
                    row[j] = min(row[j], previousRow[j - 2] + 1)
                }
            }
            previousRow = rowBefore
        }
        return row[rhs.count]
    }
}
