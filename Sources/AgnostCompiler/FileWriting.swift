import Foundation

/// Writes `data` to `file` atomically, creating its folder, and leaves a file that already holds exactly `data`
/// alone, so that SwiftPM sees no new modification time and skips recompiling.
func writeIfChanged(_ data: Data, to file: URL) throws(CompilerError) {
    if let existing = try? Data(contentsOf: file), existing == data { return }
    do {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file, options: .atomic)
    } catch {
        throw CompilerError(.fileSystem, "cannot write \(file.path): \(error.localizedDescription)")
    }
}
