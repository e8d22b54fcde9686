import Foundation

/// This installation's runtime sources and the cache folder their git repository is laid out in.
///
/// A project names the runtime by ``RuntimeRepository/url``; a mirror in the project's
/// `.swiftpm/configuration/mirrors.json` (machine-specific, so kept out of version control) makes SwiftPM fetch it
/// from the repository instead. The compiler writes the same mirror into the generated package, whose root decides
/// where the handler package's runtime dependency comes from.
///
/// ```swift
/// let repository = try RuntimeMirror(layout: try ToolchainLayout.locate()).repository()
/// try repository.mirror(into: projectFolder)   // now `swift test` works in projectFolder
/// ```
public struct RuntimeMirror: Sendable {
    /// The runtime package's sources.
    public let sources: URL
    /// agnost-fn's folder in the user's cache.
    public let cache: URL

    public init(sources: URL, cache: URL) {
        self.sources = sources
        self.cache = cache
    }

    /// The installation's runtime, with repositories under `$XDG_CACHE_HOME/agnost-fn`, else `~/.cache/agnost-fn`.
    public init(
        layout: ToolchainLayout,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(CompilerError) {
        let cache: URL
        if let folder = environment["XDG_CACHE_HOME"], folder.hasPrefix("/") {
            cache = URL(fileURLWithPath: folder).appendingPathComponent("agnost-fn")
        } else if let home = environment["HOME"], home.hasPrefix("/") {
            cache = URL(fileURLWithPath: home).appendingPathComponent(".cache/agnost-fn")
        } else {
            throw CompilerError(
                .fileSystem,
                "neither XDG_CACHE_HOME nor HOME is an absolute path, so there is no cache folder for the runtime "
                    + "repository; set one of them"
            )
        }
        self.init(sources: layout.runtime, cache: cache)
    }

    /// The repository of these sources, laid out first if the cache lacks it.
    public func repository() throws(CompilerError) -> RuntimeRepository {
        try RuntimeRepository.prepare(sources: sources, cache: cache)
    }
}

extension RuntimeRepository {
    /// Points the SwiftPM package in `package` at this repository: sets the mirror of ``url`` in its
    /// `.swiftpm/configuration/mirrors.json`, keeping any other mirrors, and re-pins the runtime in its
    /// `Package.resolved` when that names another commit (a runtime installed since, or on another machine).
    ///
    /// SwiftPM would otherwise try to check the old commit out of the new repository, which does not hold it.
    public func mirror(into package: URL) throws(CompilerError) {
        let mirrors = package.appendingPathComponent(".swiftpm/configuration/mirrors.json")
        let existing = try? Data(contentsOf: mirrors)
        let updated = try MirrorsFile.setting(
            mirror: location.path,
            for: Self.url,
            in: existing,
            file: mirrors.path
        )
        try writeIfChanged(updated, to: mirrors)

        let resolved = package.appendingPathComponent("Package.resolved")
        if let pins = try? Data(contentsOf: resolved),
            let repinned = ResolvedFile.repinning(Self.url, to: revision, version: Self.version, in: pins)
        {
            try writeIfChanged(repinned, to: resolved)
        }
    }
}

/// SwiftPM's `mirrors.json`, in the form `swift package config set-mirror` writes.
enum MirrorsFile {
    private struct Contents: Codable {
        struct Mirror: Codable, Equatable {
            let mirror: String
            let original: String
        }

        var object: [Mirror]
        var version: Int
    }

    /// The file with `original` mirrored to `mirror`, other mirrors kept; a new file when `existing` is nil.
    ///
    /// - Parameter file: how errors name the file.
    static func setting(
        mirror: String,
        for original: String,
        in existing: Data?,
        file: String
    ) throws(CompilerError)
        -> Data
    {
        var contents = Contents(object: [], version: 1)
        if let existing {
            do {
                contents = try JSONDecoder().decode(Contents.self, from: existing)
            } catch {
                throw CompilerError(
                    .invalidPackage,
                    "\(file) is not a SwiftPM mirrors file (\(error)); fix it or remove it"
                )
            }
            guard contents.version == 1 else {
                throw CompilerError(
                    .invalidPackage,
                    "\(file) has version \(contents.version) and only version 1 is understood; remove it"
                )
            }
        }
        contents.object.removeAll { $0.original == original }
        contents.object.append(Contents.Mirror(mirror: mirror, original: original))
        contents.object.sort { $0.original < $1.original }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(contents)) ?? Data()
    }
}

/// SwiftPM's `Package.resolved`, edited only in the one pin the compiler owns.
enum ResolvedFile {
    /// The file with the pin of `location` set to `revision` at `version`; nil when the file has no such pin, already
    /// pins that, or is not one SwiftPM wrote (SwiftPM then reports it itself).
    static func repinning(_ location: String, to revision: String, version: String, in resolved: Data) -> Data? {
        guard var root = (try? JSONSerialization.jsonObject(with: resolved)) as? [String: Any],
            var pins = root["pins"] as? [[String: Any]],
            let index = pins.firstIndex(where: { $0["location"] as? String == location })
        else { return nil }
        let state = pins[index]["state"] as? [String: Any]
        if state?["revision"] as? String == revision && state?["version"] as? String == version { return nil }
        pins[index]["state"] = ["revision": revision, "version": version]
        root["pins"] = pins
        return try? JSONSerialization.data(
            withJSONObject: root,
            options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        )
    }
}
