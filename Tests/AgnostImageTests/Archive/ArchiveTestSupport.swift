import AgnostImage
import Foundation
import Testing

/// A fresh directory under the system's temporary directory for one test, removed with its contents afterwards.
struct ArchiveScratch {
    let directory: URL

    /// Runs `body` with a new scratch directory and removes it when `body` returns or throws.
    static func with<Result>(_ body: (ArchiveScratch) throws -> Result) throws -> Result {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("agnost-archive-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try body(ArchiveScratch(directory: directory))
    }

    func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// Writes `bytes` to a new file `name` in the scratch directory and returns its path.
    @discardableResult
    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The names in the scratch directory, sorted.
    func listing() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }
}

/// Runs command-line tools (tar, gzip, sha256sum, python3) found on PATH and reports what they printed.
enum ArchiveTool {
    struct Outcome {
        let status: Int32
        let output: Data
        let errors: String

        var text: String { String(decoding: output, as: UTF8.self) }
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // The tools used here print little on stderr, so reading it after stdout cannot leave the child blocked.
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let complaints = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus,
            output: printed,
            errors: String(decoding: complaints, as: UTF8.self)
        )
    }

    /// Runs `arguments` and returns what it printed, recording an issue if it failed.
    static func output(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let outcome = try run(arguments, environment: environment)
        #expect(outcome.status == 0, "\(arguments.joined(separator: " ")): \(outcome.errors)")
        return outcome.text
    }

    /// The SHA-256 of the file at `path` (or of the output of a shell `pipeline` reading it as `$1`) per sha256sum.
    static func sha256sum(of path: String, through pipeline: String = "cat \"$1\"") throws -> String {
        let printed = try output(["bash", "-c", "set -o pipefail; \(pipeline) | sha256sum", "bash", path])
        return String(printed.prefix(64))
    }

    /// Runs a Python 3 script with `arguments` as `sys.argv[1...]`.
    @discardableResult
    static func python(_ script: String, _ arguments: String...) throws -> String {
        try output(["python3", "-c", script] + arguments)
    }
}

/// Layer entries for tests, written short.
enum ArchiveFixture {
    static func file(_ path: String, _ text: String, mode: UInt16 = 0o644) throws -> LayerEntry {
        LayerEntry(path: try ImagePath(path), kind: .file(.bytes(Array(text.utf8))), mode: mode)
    }

    static func hostFile(_ path: String, from hostPath: String, mode: UInt16 = 0o644) throws -> LayerEntry {
        LayerEntry(path: try ImagePath(path), kind: .file(.path(hostPath)), mode: mode)
    }

    static func directory(_ path: String, mode: UInt16 = 0o755) throws -> LayerEntry {
        .directory(try ImagePath(path), mode: mode)
    }

    static func symlink(_ path: String, to target: String) throws -> LayerEntry {
        LayerEntry(path: try ImagePath(path), kind: .symlink(target: target), mode: 0o777)
    }

    static func hardLink(_ path: String, to target: String) throws -> LayerEntry {
        LayerEntry(path: try ImagePath(path), kind: .hardLink(target: try ImagePath(target)), mode: 0o644)
    }

    /// `count` bytes that do not repeat in any short period, so that gzip has real work to do.
    static func noise(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }
}

extension ArchiveFixture {
    /// One member of a tar that Python's tarfile writes, for layers the writer here would refuse to produce.
    struct ForeignMember: Encodable {
        var name: String
        var type = "file"
        var target = ""
        var data = ""
        var mode = 0o644
        var uid = 0
        var gid = 0
        var uname = ""
        var gname = ""
        var mtime = 0
    }

    /// Writes an uncompressed tar of `members` with Python's tarfile, which stores names exactly as given.
    static func foreignTar(at path: String, _ members: [ForeignMember]) throws {
        let script = """
            import io, json, sys, tarfile
            types = {'file': tarfile.REGTYPE, 'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE, 'hardlink': tarfile.LNKTYPE}
            with tarfile.open(sys.argv[1], 'w') as archive:
                for member in json.loads(sys.argv[2]):
                    info = tarfile.TarInfo(member['name'])
                    info.type = types[member['type']]
                    info.linkname = member['target']
                    data = member['data'].encode()
                    info.size = len(data)
                    for field in ('mode', 'uid', 'gid', 'uname', 'gname', 'mtime'):
                        setattr(info, field, member[field])
                    archive.addfile(info, io.BytesIO(data))
            """
        let json = String(decoding: try JSONEncoder().encode(members), as: UTF8.self)
        try ArchiveTool.python(script, path, json)
    }
}
