import Foundation
import Synchronization

/// A real registry (Debian's `docker-registry`) on a free loopback port, storing into a temporary folder, optionally
/// behind htpasswd or token authentication; stopped and removed on deinit. Its access log counts what clients really
/// sent.
///
/// Token authentication is `auth: token` with a certificate made here by `openssl` and a small issuer
/// (`token_issuer.py`) that signs JWTs for the users given.
public final class RegistryFixture: @unchecked Sendable {
    public let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
        "agnost-registry-\(UUID().uuidString)"
    )
    .path
    /// The port the registry listens on, which it picked itself.
    public private(set) var port = 0
    private let process = Process()
    private var issuer: Process?
    private let log = LockedData()
    /// The write ends of the children's stdin: when this process ends, however it ends, they see EOF and stop.
    private var lifelines: [Pipe] = []

    public var host: String { "127.0.0.1:\(port)" }

    /// - Parameters:
    ///   - users: the users (name → password) the registry accepts; none for an open registry.
    ///   - tokenAuth: authenticate through a token issuer (Bearer) rather than htpasswd (Basic).
    ///   - pullOnly: users whose tokens grant `pull` alone, whatever they ask for.
    ///   - identityTokens: refresh tokens (token → user) the issuer takes in Docker's OAuth2 grant.
    ///   - noAccess: repositories (user → names) a user's tokens grant nothing on.
    public init(
        users: [String: String] = [:],
        tokenAuth: Bool = false,
        pullOnly: Set<String> = [],
        identityTokens: [String: String] = [:],
        noAccess: [String: [String]] = [:]
    ) throws {
        try FileManager.default.createDirectory(atPath: "\(folder)/storage", withIntermediateDirectories: true)
        var auth = ""
        if tokenAuth {
            try Tool.output(
                "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(folder)/issuer.key", "-out",
                    "\(folder)/issuer.crt", "-days", "1", "-subj", "/CN=agnost-test-issuer",
                ]
            )
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("token_issuer.py").path
            let users = String(decoding: try JSONSerialization.data(withJSONObject: users), as: UTF8.self)
            let identityTokens = String(
                decoding: try JSONSerialization.data(withJSONObject: identityTokens),
                as: UTF8.self
            )
            let noAccess = String(decoding: try JSONSerialization.data(withJSONObject: noAccess), as: UTF8.self)
            let pullOnly = String(
                decoding: try JSONSerialization.data(withJSONObject: pullOnly.sorted()),
                as: UTF8.self
            )
            let issuer = Process()
            issuer.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            issuer.arguments = [
                "python3", script, "0", "\(folder)/issuer.key", "\(folder)/issuer.crt", "agnost-registry",
                "agnost-test-issuer", users, pullOnly, identityTokens, noAccess,
            ]
            let issuerOutput = Pipe()
            issuer.standardOutput = issuerOutput
            issuer.standardInput = lifeline()
            try issuer.run()
            self.issuer = issuer
            // The issuer binds port 0 and prints the port it got, once it listens.
            let line = Self.firstLine(of: issuerOutput.fileHandleForReading)
            guard let issuerPort = Int(line) else {
                throw FixtureFailure("the token issuer printed \"\(line)\" instead of its port")
            }
            try Self.waitUntilAnswering("http://127.0.0.1:\(issuerPort)/token", what: "the token issuer")
            auth = """
                auth:
                  token:
                    realm: http://127.0.0.1:\(issuerPort)/token
                    service: agnost-registry
                    issuer: agnost-test-issuer
                    rootcertbundle: \(folder)/issuer.crt
                """
        } else if !users.isEmpty {
            for (user, password) in users {
                let entry = try Tool.output("/usr/bin/htpasswd", ["-Bbn", user, password])
                let existing = (try? String(contentsOfFile: "\(folder)/htpasswd", encoding: .utf8)) ?? ""
                try (existing + entry.trimmingCharacters(in: .whitespacesAndNewlines) + "\n")
                    .write(toFile: "\(folder)/htpasswd", atomically: true, encoding: .utf8)
            }
            auth = """
                auth:
                  htpasswd:
                    realm: agnost-test
                    path: \(folder)/htpasswd
                """
        }
        try """
        version: 0.1
        log:
          level: info
          accesslog:
            disabled: false
        storage:
          filesystem:
            rootdirectory: \(folder)/storage
        http:
          addr: 127.0.0.1:0
          secret: agnost-test
        \(auth)
        """.write(toFile: "\(folder)/config.yml", atomically: true, encoding: .utf8)
        // docker-registry does not watch its stdin, so a shell does: EOF there, when this process is gone, ends it.
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c", #"/usr/bin/docker-registry serve "$1" </dev/null & registry=$!; cat >/dev/null; kill -9 $registry"#,
            "sh", "\(folder)/config.yml",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = lifeline()
        try process.run()
        let log = self.log
        // A blocking reader thread: Foundation's readabilityHandler crashes libdispatch when the pipe closes.
        Thread.detachNewThread {
            while case let data = output.fileHandleForReading.availableData, !data.isEmpty {
                log.append(data)
            }
        }
        try waitUntilServing()
    }

    deinit {
        // Closing the lifelines stops both children, as when this process dies: no signal is needed, which matters
        // because the test runner's threads block SIGTERM and children keep that mask across exec.
        for lifeline in lifelines { try? lifeline.fileHandleForWriting.close() }
        issuer?.waitUntilExit()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A pipe for a child's stdin whose write end only this fixture holds.
    private func lifeline() -> Pipe {
        let pipe = Pipe()
        lifelines.append(pipe)
        return pipe
    }

    private static func firstLine(of handle: FileHandle) -> String {
        var bytes: [UInt8] = []
        while bytes.count < 200, case let data = handle.readData(ofLength: 1), let byte = data.first, byte != 10 {
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The access log's request lines so far, such as `PATCH /v2/probe/blobs/uploads/…`.
    ///
    /// The registry writes a request's line after it has sent the response, so the client may be done before the
    /// line is: this waits until the log has been quiet for 150 ms (at most 3 s).
    public var requests: [String] {
        var seen = log.contents.count
        var quietSince = ContinuousClock.now
        let deadline = quietSince + .seconds(3)
        while ContinuousClock.now - quietSince < .milliseconds(150) && ContinuousClock.now < deadline {
            usleep(10_000)
            let count = log.contents.count
            if count != seen { (seen, quietSince) = (count, ContinuousClock.now) }
        }
        let text = String(decoding: log.contents, as: UTF8.self)
        return text.split(separator: "\n").compactMap { line in
            guard let match = line.firstMatch(of: /"(GET|HEAD|POST|PUT|PATCH|DELETE) ([^ ]+) HTTP/) else { return nil }
            return "\(match.1) \(match.2)"
        }
    }

    /// Waits for the registry's `listening on 127.0.0.1:PORT` line, which names the port it bound, then for it to
    /// answer.
    private func waitUntilServing() throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while port == 0 && ContinuousClock.now < deadline {
            let text = String(decoding: log.contents, as: UTF8.self)
            if let match = text.firstMatch(of: /listening on 127\.0\.0\.1:(\d+)/) { port = Int(match.1) ?? 0 }
            if port == 0 { usleep(20_000) }
        }
        do {
            guard port != 0 else { throw FixtureFailure("docker-registry did not say where it listens") }
            try Self.waitUntilAnswering("http://\(host)/v2/", what: "docker-registry")
        } catch {
            throw FixtureFailure("\(error): \(String(decoding: log.contents, as: UTF8.self))")
        }
    }

    /// Waits until `url` answers 200 or 401, which both mean the server is up.
    private static func waitUntilAnswering(_ url: String, what: String) throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let status = try? Tool.output("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", url])
            if status == "200" || status == "401" { return }
            usleep(50_000)
        }
        throw FixtureFailure("\(what) did not start")
    }

}

/// A tool run to the end, its stdout and stderr together.
public enum Tool {
    /// Runs `executable`, returning its status and output whatever the status; past `timeout` it is killed and
    /// that is an error.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        timeout: Duration = .seconds(120)
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ProcessDeadline(process, after: timeout)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if deadline.cancel() {
            throw FixtureFailure("\(executable) \(arguments) did not finish within \(timeout) and was killed")
        }
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs `executable` and returns its output, throwing when it fails.
    @discardableResult
    public static func output(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        timeout: Duration = .seconds(120)
    ) throws -> String {
        let (status, output) = try run(executable, arguments, environment: environment, timeout: timeout)
        guard status == 0 else { throw FixtureFailure("\(executable) \(arguments) failed: \(output)") }
        return output
    }
}

/// Bytes appended by one thread and read by another.
public final class LockedData: Sendable {
    private let data = Mutex(Data())

    public init() {}

    public func append(_ more: Data) { data.withLock { $0.append(more) } }

    public var contents: Data { data.withLock { $0 } }
}

public struct FixtureFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
