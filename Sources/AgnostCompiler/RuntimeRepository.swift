import AgnostDigest
import Foundation

/// The runtime as projects name it, and the local git repository SwiftPM really fetches it from.
///
/// A project depends on `.package(url: RuntimeRepository.url, from: RuntimeRepository.version)`. Nothing is ever
/// fetched from that address: a SwiftPM mirror (``mirror(into:)``) sends it to a bare repository laid out from the
/// installation's runtime sources with git's plumbing. It holds one commit with a fixed author, committer, date and
/// message, tagged `version`, so equal sources give the same commit on every machine and a `Package.resolved` pin
/// holds wherever the same runtime is installed. Repositories live in the user's cache under the digest of the
/// sources, so a changed runtime gets a repository of its own and an existing one is never rewritten.
///
/// ```swift
/// let repository = try RuntimeRepository.prepare(sources: layout.runtime, cache: cacheFolder)
/// try repository.mirror(into: projectFolder)
/// ```
public struct RuntimeRepository: Sendable, Hashable {
    /// The address projects name the runtime by.
    public static let url = "https://github.com/agnost-fn/agnost-runtime.git"
    /// SwiftPM's identity of that address, which `.product(name:package:)` names.
    public static let identity = "agnost-runtime"
    /// The runtime's version, the repository's only tag.
    public static let version = "0.1.0"

    /// The bare repository, `<cache>/runtime/<digest>/agnost-runtime.git`.
    public let location: URL
    /// The commit tagged `version`.
    public let revision: String

    /// The repository of the runtime at `sources`, laid out under `cache` unless it is there already.
    ///
    /// - Parameter cache: agnost-fn's folder in the user's cache (see ``RuntimeMirror``).
    public static func prepare(sources: URL, cache: URL) throws(CompilerError) -> RuntimeRepository {
        let snapshot = try RuntimeSources.read(sources)
        let parent = cache.appendingPathComponent("runtime")
        let folder = parent.appendingPathComponent(snapshot.key)
        let location = folder.appendingPathComponent("\(identity).git", isDirectory: true)
        if let revision = taggedRevision(location) { return RuntimeRepository(location: location, revision: revision) }

        let manager = FileManager.default
        let staging = parent.appendingPathComponent(".partial-\(UUID().uuidString)")
        do {
            try manager.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw CompilerError(
                .fileSystem,
                "cannot create the runtime repository under \(parent.path): \(error.localizedDescription); make that "
                    + "folder writable, or point XDG_CACHE_HOME at a writable folder"
            )
        }
        defer { try? manager.removeItem(at: staging) }
        let revision = try layOut(snapshot, from: sources, at: staging.appendingPathComponent("\(identity).git"))
        // The rename makes the repository appear complete or not at all; when another build got there first, its
        // repository holds the same commit.
        if rename(staging.path, folder.path) != 0 {
            let reason = String(cString: strerror(errno))
            guard let existing = taggedRevision(location) else {
                throw CompilerError(.fileSystem, "cannot move the runtime repository to \(folder.path): \(reason)")
            }
            return RuntimeRepository(location: location, revision: existing)
        }
        return RuntimeRepository(location: location, revision: revision)
    }

    /// Whether `location` is where ``prepare(sources:cache:)`` lays repositories out, in any cache.
    static func isLaidOut(at location: String) -> Bool {
        let components = URL(fileURLWithPath: location).standardizedFileURL.pathComponents
        return location.hasPrefix("/") && components.suffix(3).first == "runtime"
            && components.last == "\(identity).git"
    }

    /// The commit a complete repository tags; nil when there is none yet.
    private static func taggedRevision(_ location: URL) -> String? {
        let tag = location.appendingPathComponent("refs/tags/\(version)")
        guard let text = try? String(contentsOf: tag, encoding: .utf8) else { return nil }
        let revision = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return revision.range(of: "^[0-9a-f]{40}$", options: .regularExpression) == nil ? nil : revision
    }

    /// Git's plumbing, so that nothing but the listed files and the fixed identity enter the commit: no index of a
    /// work tree, no ignore rules, no hooks, and neither the user's nor the system's git configuration.
    private static func layOut(
        _ snapshot: RuntimeSources,
        from sources: URL,
        at location: URL
    ) throws(CompilerError)
        -> String
    {
        let index = location.deletingLastPathComponent().appendingPathComponent("index")
        let identity = ["NAME": "agnost-fn", "EMAIL": "runtime@agnost-fn.invalid", "DATE": "@0 +0000"]
        var environment = [
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_DIR": location.path,
            "GIT_INDEX_FILE": index.path, "GIT_TERMINAL_PROMPT": "0",
        ]
        for (field, value) in identity {
            environment["GIT_AUTHOR_\(field)"] = value
            environment["GIT_COMMITTER_\(field)"] = value
        }
        func git(_ arguments: [String]) throws(CompilerError) -> String {
            let outcome = try ProcessRunner.run(["git"] + arguments, in: sources, environment: environment)
            if outcome.status == 127 {
                throw CompilerError(
                    .toolFailed,
                    "git is not on PATH; it is needed to lay out the runtime repository SwiftPM builds against, under "
                        + "\(location.deletingLastPathComponent().deletingLastPathComponent().path). Install git."
                )
            }
            guard outcome.status == 0 else {
                throw CompilerError(
                    .toolFailed,
                    "'git \(arguments.first ?? "")' failed while laying out the runtime repository at "
                        + "\(location.path): \(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines))"
                )
            }
            return outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try git(["init", "--quiet", "--bare", "--initial-branch=main", location.path])
        let blobs = try git(["hash-object", "-w", "--no-filters", "--"] + snapshot.files.map(\.path))
            .split(separator: "\n").map(String.init)
        guard blobs.count == snapshot.files.count else {
            throw CompilerError(.toolFailed, "git hash-object stored \(blobs.count) of \(snapshot.files.count) files")
        }
        var entries: [String] = []
        for (file, blob) in zip(snapshot.files, blobs) {
            entries += ["--cacheinfo", "\(file.executable ? "100755" : "100644"),\(blob),\(file.path)"]
        }
        _ = try git(["update-index", "--add"] + entries)
        let tree = try git(["write-tree"])
        let commit = try git(["commit-tree", tree, "-m", "agnost-runtime \(version)"])
        _ = try git(["update-ref", "refs/heads/main", commit])
        _ = try git(["update-ref", "refs/tags/\(version)", commit])
        return commit
    }
}

/// The files of the runtime package that go into its repository, and the digest that names it.
struct RuntimeSources {
    struct File: Hashable {
        /// Relative to the runtime's root.
        let path: String
        let executable: Bool
    }

    /// Sorted by path.
    let files: [File]
    /// The first 16 hex digits of the SHA-256 over the version, paths, modes and contents.
    let key: String

    /// Every regular file of the package except hidden ones (`.build`, `.swiftpm`, …) and `Package.resolved`, which
    /// SwiftPM ignores in a dependency.
    static func read(_ root: URL) throws(CompilerError) -> RuntimeSources {
        let manager = FileManager.default
        guard manager.fileExists(atPath: root.appendingPathComponent("Package.swift").path),
            let enumerator = manager.enumerator(atPath: root.path)
        else {
            throw CompilerError(
                .toolchainLayout,
                "the runtime at \(root.path) has no Package.swift; the agnost-fn installation is incomplete"
            )
        }
        var files: [File] = []
        for case let relative as String in enumerator {
            // A hidden folder (a checkout's `.build`, with tens of thousands of files) is skipped, not walked.
            if (relative as NSString).lastPathComponent.hasPrefix(".") {
                enumerator.skipDescendants()
                continue
            }
            if relative == "Package.resolved" { continue }
            let path = root.appendingPathComponent(relative).path
            guard let attributes = try? manager.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType == .typeRegular
            else { continue }
            let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
            files.append(File(path: relative, executable: permissions & 0o111 != 0))
        }
        files.sort { $0.path < $1.path }

        var hasher = SHA256()
        hasher.update("agnost-runtime-repository-v1\0\(RuntimeRepository.version)\0".utf8)
        for file in files {
            let contents: Data
            do {
                contents = try Data(contentsOf: root.appendingPathComponent(file.path))
            } catch {
                throw CompilerError(.fileSystem, "cannot read \(root.appendingPathComponent(file.path).path): \(error)")
            }
            hasher.update("\(file.path)\0\(file.executable ? "x" : "-")\0\(contents.count)\0".utf8)
            hasher.update(contents)
        }
        return RuntimeSources(files: files, key: String(hasher.finalize().hexString.prefix(16)))
    }
}
