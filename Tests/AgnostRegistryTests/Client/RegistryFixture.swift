import AgnostImage
import Foundation
import Synchronization

/// A real registry (Debian's `docker-registry`) on a free loopback port, storing into a temporary folder, optionally
/// behind htpasswd authentication; stopped and removed on deinit. Its access log counts what clients really sent.
final class RegistryFixture: @unchecked Sendable {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-registry-\(UUID().uuidString)")
        .path
    let port: Int
    private let process = Process()
    private let log = LockedData()

    var host: String { "127.0.0.1:\(port)" }

    /// - Parameter users: htpasswd users (name → password); none for an open registry.
    init(users: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(atPath: "\(folder)/storage", withIntermediateDirectories: true)
        port = try Self.freePort()
        var auth = ""
        if !users.isEmpty {
            for (user, password) in users {
                let entry = try Self.run("/usr/bin/htpasswd", ["-Bbn", user, password])
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
          addr: 127.0.0.1:\(port)
          secret: agnost-test
        \(auth)
        """.write(toFile: "\(folder)/config.yml", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", "\(folder)/config.yml"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
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
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The access log's request lines so far, such as `PATCH /v2/probe/blobs/uploads/…`.
    var requests: [String] {
        let text = String(decoding: log.contents, as: UTF8.self)
        return text.split(separator: "\n").compactMap { line in
            guard let match = line.firstMatch(of: /"(GET|HEAD|POST|PUT|PATCH|DELETE) ([^ ]+) HTTP/) else { return nil }
            return "\(match.1) \(match.2)"
        }
    }

    private func waitUntilServing() throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let status = try? Self.run(
                "/usr/bin/curl",
                ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://\(host)/v2/"]
            ),
                status == "200" || status == "401"
            {
                return
            }
            usleep(50_000)
        }
        throw FixtureFailure("docker-registry did not start: \(String(decoding: log.contents, as: UTF8.self))")
    }

    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw FixtureFailure("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw FixtureFailure("\(executable) \(arguments) failed: \(text)") }
        return text
    }
}

/// Bytes appended by one thread and read by another.
final class LockedData: Sendable {
    private let data = Mutex(Data())

    func append(_ more: Data) { data.withLock { $0.append(more) } }

    var contents: Data { data.withLock { $0 } }
}

struct FixtureFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A small image in a layout: `/usr/bin/env` as the server, packaged by AgnostImage.
final class ImageFixture {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-push-\(UUID().uuidString)").path
    var layout: String { "\(folder)/layout" }
    let image: PackagedImage

    init() throws {
        try FileManager.default.createDirectory(atPath: "\(folder)/bundle", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/usr/bin/env", toPath: "\(folder)/bundle/server")
        try Data(#"{"app":"probe"}"#.utf8).write(to: URL(fileURLWithPath: "\(folder)/bundle/bundle.json"))
        image = try ImagePackager().package(
            ImagePackageRequest(
                bundleDirectory: "\(folder)/bundle",
                title: "probe",
                version: "v1",
                output: LayoutReference(transport: .layout, path: "\(folder)/layout"),
                cacheDirectory: "\(folder)/cache"
            )
        )
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }
}
