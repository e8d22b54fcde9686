import Foundation

/// The size and modification time of every file a rebuild would read from the project, to notice edits cheaply.
///
/// It covers what ``InputDigest`` hashes from the project, plus the spec file; comparing two fingerprints reads
/// only metadata, so watching a project costs a directory walk, not a hash of its sources.
///
/// ```swift
/// let before = try SourceFingerprint(project: folder, specFile: "agnost.yaml")
/// // …later
/// if try SourceFingerprint(project: folder, specFile: "agnost.yaml") != before { rebuild() }
/// ```
public struct SourceFingerprint: Equatable, Sendable {
    private var entries: [String: [Int]]

    public init(project: URL, specFile: String) throws(CompilerError) {
        entries = [:]
        for file in try InputDigest.files(in: project, under: [specFile, "Package.swift", "Sources"]) {
            var status = stat()
            guard stat(project.appendingPathComponent(file).path, &status) == 0 else { continue }
            entries[file] = [
                Int(status.st_size), Int(status.st_mtim.tv_sec), Int(status.st_mtim.tv_nsec), Int(status.st_ino),
            ]
        }
    }
}
