/// Picks the diagnostics out of `swift build` output and points those of generated code back at `agnost.yaml`.
enum SwiftCompilerOutput {
    /// `file:line:column: severity: message` lines, deduplicated, in order. Diagnostics in dependencies'
    /// checkouts are dropped: the user cannot act on them.
    static func diagnostics(in output: String, specFile: String, specDisplayPath: String) -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let (file, rest) = split(line) else { continue }
            if file.contains("/.build/checkouts/") { continue }
            let mapped = (file == specFile ? specDisplayPath : file) + rest
            if seen.insert(mapped).inserted {
                result.append(mapped)
            }
        }
        return result
    }

    /// Splits `path:12:7: error: …` into the path and the `:12:7: error: …` rest.
    private static func split(_ line: Substring) -> (String, String)? {
        for severity in [": error: ", ": warning: ", ": note: "] {
            guard let marker = line.range(of: severity) else { continue }
            let location = line[..<marker.lowerBound].split(separator: ":", omittingEmptySubsequences: false)
            guard location.count >= 3, Int(location[location.count - 1]) != nil,
                Int(location[location.count - 2]) != nil
            else { continue }
            let file = location.dropLast(2).joined(separator: ":")
            return (
                file, ":\(location[location.count - 2]):\(location[location.count - 1])\(line[marker.lowerBound...])"
            )
        }
        return nil
    }
}
