import AgnostDigest
import Foundation

/// The digest over everything a bundle is built from; equal digests mean the existing bundle is current.
///
/// Inputs: the digest of the `agnost.yaml` bytes that were checked, the handler package's `Package.swift` and
/// `Sources/`, the runtime's `Package.swift` and `Sources/`, the build configuration and the Swift toolchain's
/// version.
enum InputDigest {
    static func compute(
        specDigest: String,
        project: URL,
        runtime: URL,
        configuration: BuildConfiguration,
        toolchain: String
    ) throws(CompilerError) -> String {
        var hasher = SHA256()
        hasher.update("agnost-fn-inputs-v2\0\(configuration.rawValue)\0\(toolchain)\0\(specDigest)\0".utf8)
        for (label, root, entries) in [
            ("project", project, ["Package.swift", "Sources"]),
            ("runtime", runtime, ["Package.swift", "Sources"]),
        ] {
            for file in try files(in: root, under: entries) {
                let contents: Data
                do {
                    contents = try Data(contentsOf: root.appendingPathComponent(file))
                } catch {
                    throw CompilerError(.fileSystem, "cannot read \(root.appendingPathComponent(file).path): \(error)")
                }
                hasher.update("\(label)/\(file)\0\(contents.count)\0".utf8)
                hasher.update(contents)
            }
        }
        return hasher.finalize().description
    }

    /// Regular files at or below `entries`, as sorted relative paths; hidden files and folders are skipped.
    static func files(in root: URL, under entries: [String]) throws(CompilerError) -> [String] {
        let manager = FileManager.default
        var found: [String] = []
        for entry in entries {
            var isDirectory: ObjCBool = false
            let path = root.appendingPathComponent(entry).path
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            guard isDirectory.boolValue else {
                found.append(entry)
                continue
            }
            guard let enumerator = manager.enumerator(atPath: path) else {
                throw CompilerError(.fileSystem, "cannot list \(path)")
            }
            for case let relative as String in enumerator {
                if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
                var isFolder: ObjCBool = false
                if manager.fileExists(atPath: "\(path)/\(relative)", isDirectory: &isFolder), !isFolder.boolValue {
                    found.append("\(entry)/\(relative)")
                }
            }
        }
        return found.sorted()
    }
}
