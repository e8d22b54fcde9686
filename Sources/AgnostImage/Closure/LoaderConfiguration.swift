import AgnostOCI
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The directories ldconfig indexes into `/etc/ld.so.cache`, read from `/etc/ld.so.conf` and the files its `include`
/// lines name, in ldconfig's order and without repeats.
///
/// The loader consults the cache, not these files. Reading the configuration gives the same answer as long as the
/// cache is current, which the package manager sees to after every install, and needs only text from the root,
/// whatever its architecture.
///
/// ```swift
/// let directories = try LoaderConfiguration.directories(in: RootedFileSystem(root: "/"))
/// // ["/usr/local/lib", "/usr/local/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", …] on Debian
/// ```
struct LoaderConfiguration {
    private let fileSystem: RootedFileSystem
    private var directories: [String] = []
    /// Configuration files already read, by identity, so that an include cycle ends.
    private var read: Set<FileIdentity> = []

    private init(fileSystem: RootedFileSystem) {
        self.fileSystem = fileSystem
    }

    /// - Throws: ``ImageError/Code/unreadableInput`` when a configuration file exists but cannot be read.
    static func directories(in fileSystem: RootedFileSystem) throws(ImageError) -> [String] {
        var configuration = LoaderConfiguration(fileSystem: fileSystem)
        try configuration.parse("/etc/ld.so.conf")
        return configuration.directories
    }

    /// Follows ldconfig's `parse_conf`: `#` starts a comment, `include` takes glob patterns (relative ones from the
    /// including file's directory), `hwcap` lines are ignored, and any other line names one directory.
    private mutating func parse(_ path: String) throws(ImageError) {
        guard let file = try fileSystem.resolve(path), file.isRegularFile, read.insert(file.identity).inserted else {
            return
        }
        let text = String(decoding: try fileSystem.contents(of: file), as: UTF8.self)
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.prefix { $0 != "#" }.trimmingCharacters(in: .whitespaces)
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            switch words.first {
            case nil, "hwcap":
                continue
            case "include":
                let directory = path.split(separator: "/").dropLast().joined(separator: "/")
                for pattern in words.dropFirst() {
                    for match in try glob(pattern.hasPrefix("/") ? pattern : "/\(directory)/\(pattern)") {
                        try parse(match)
                    }
                }
            default:
                var directory = Substring(line)
                while directory.count > 1 && directory.hasSuffix("/") { directory = directory.dropLast() }
                if !directories.contains(String(directory)) { directories.append(String(directory)) }
            }
        }
    }

    /// The paths matching a glob pattern below the root, sorted as glob(3) sorts them; a leading `.` in a name must
    /// be matched explicitly, as without GLOB_PERIOD.
    private func glob(_ pattern: String) throws(ImageError) -> [String] {
        var matches = [""]
        for component in pattern.split(separator: "/").map(String.init) {
            guard component.contains(where: { "*?[".contains($0) }) else {
                matches = matches.map { "\($0)/\(component)" }
                continue
            }
            var expanded: [String] = []
            for directory in matches {
                guard let found = try fileSystem.resolve(directory), found.isDirectory else { continue }
                expanded += try fileSystem.contentsOfDirectory(found)
                    .filter { fnmatch(component, $0, FNM_PERIOD) == 0 }
                    .map { "\(directory)/\($0)" }
            }
            matches = expanded
        }
        return matches.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
