import AgnostImage
import AgnostRegistry
import AgnostTestSupport
import Foundation
import Testing

/// `agnost-fn login`, `push` and `logout` as a user runs them, against the real registry with htpasswd auth, with a
/// private `DOCKER_CONFIG` so that nothing of the machine's own Docker configuration is read or touched.
@Suite(.serialized)
struct CommandLineTests {
    static let agnostFn = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("agnost-fn").path

    struct Outcome {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    static func agnost(
        _ arguments: [String],
        input: String = "",
        environment: [String: String],
        executable: String = agnostFn,
        arguments toolArguments: [String]? = nil
    ) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = toolArguments ?? arguments
        process.environment = environment
        let (stdin, stdout, stderr) = (Pipe(), Pipe(), Pipe())
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let errors = LockedData()
        let reader = Thread { errors.append(stderr.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return Outcome(
            status: process.terminationStatus,
            standardOutput: String(decoding: output, as: UTF8.self),
            standardError: String(decoding: errors.contents, as: UTF8.self)
        )
    }

    @Test func loginPushAndLogoutWithHtpasswd() throws {
        let registry = try RegistryFixture(users: ["alice": "s3cret pass"])
        let image = try ImageFixture()
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_CONFIG"] = "\(image.folder)/docker"
        environment["XDG_CACHE_HOME"] = "\(image.folder)/xdg-cache"
        let config = "\(image.folder)/docker/config.json"

        let wrong = try Self.agnost(
            ["login", registry.host, "-u", "alice", "--password-stdin"],
            input: "not it\n",
            environment: environment
        )
        #expect(wrong.status == 1)
        #expect(
            wrong.standardError.contains("error: \(registry.host): the registry refused the credentials of user alice")
        )
        #expect(!wrong.standardError.contains("not it"))
        #expect(!FileManager.default.fileExists(atPath: config), "wrong credentials are not stored")

        let login = try Self.agnost(
            ["login", registry.host, "-u", "alice", "--password-stdin"],
            input: "s3cret pass\n",
            environment: environment
        )
        #expect(login.status == 0, "\(login.standardError)")
        let stored = try String(contentsOfFile: config, encoding: .utf8)
        #expect(stored.contains(Data("alice:s3cret pass".utf8).base64EncodedString()))

        let push = try Self.agnost(
            ["push", "--from", "oci:\(image.layout):v1", "--image", "\(registry.host)/cli/probe"],
            environment: environment
        )
        #expect(push.status == 0, "\(push.standardError)")
        #expect(push.standardOutput == "\(registry.host)/cli/probe:v1@\(image.image.manifestDigest)\n")
        #expect(push.standardError.contains("uploaded"))
        #expect(!push.standardError.contains("\u{1B}["), "no terminal, so no cursor movement")
        let locations = try String(
            contentsOfFile: "\(image.folder)/xdg-cache/agnost-fn/blob-locations.json",
            encoding: .utf8
        )
        #expect(locations.contains("cli/probe"), "the push recorded where its blobs are")

        let logout = try Self.agnost(["logout", registry.host], environment: environment)
        #expect(logout.status == 0)
        #expect(!(try String(contentsOfFile: config, encoding: .utf8)).contains(registry.host))
        let refused = try Self.agnost(
            ["push", "--from", "oci:\(image.layout):v1", "--image", "\(registry.host)/cli/probe"],
            environment: environment
        )
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("needs credentials and none were found"))
    }

    @Test func pullWritesTheImageIntoALayoutAndPrintsItPinned() throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_CONFIG"] = "\(image.folder)/docker"
        environment["XDG_CACHE_HOME"] = "\(image.folder)/xdg-cache"
        let pushed = try Self.agnost(
            ["push", "--from", "oci:\(image.layout):v1", "--image", "\(registry.host)/cli/pulled:v1"],
            environment: environment
        )
        try #require(pushed.status == 0, "\(pushed.standardError)")

        let output = "\(image.folder)/pulled"
        let pull = try Self.agnost(
            ["pull", "\(registry.host)/cli/pulled:v1", "--output", "oci:\(output):stable"],
            environment: environment
        )
        #expect(pull.status == 0, "\(pull.standardError)")
        #expect(pull.standardOutput == "\(registry.host)/cli/pulled:v1@\(image.image.manifestDigest)\n")
        #expect(pull.standardError.contains("pulled \(registry.host)/cli/pulled:v1 into oci:\(output):stable"))
        let inspected = try Tool.output("/usr/bin/skopeo", ["inspect", "oci:\(output):stable"])
        #expect(inspected.contains("\"Digest\": \"\(image.image.manifestDigest)\""), "\(inspected)")

        let missing = try Self.agnost(
            ["pull", "\(registry.host)/cli/none:v1", "--output", "oci:\(image.folder)/none"],
            environment: environment
        )
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("error: \(registry.host)/cli/none:v1: fetching manifest v1"))
        let wrongPlatform = try Self.agnost(
            ["pull", "\(registry.host)/cli/pulled:v1", "--output", "oci:\(output)", "--platform", "linux"],
            environment: environment
        )
        #expect(wrongPlatform.status != 0)
        #expect(wrongPlatform.standardError.contains("--platform 'linux' is not os/arch[/variant]"))
    }

    @Test func ctrlCStopsAHungPushWithinASecondLeavesNothingHalfWrittenAndTheNextPushCompletes() throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        // The network hangs in the middle of the first upload, as a push to a registry that stopped reading does.
        let proxy = try CuttingProxy(upstreamPort: registry.port, stallAfter: 200_000)
        defer { proxy.stop() }
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_CONFIG"] = "\(image.folder)/docker"
        environment["XDG_CACHE_HOME"] = "\(image.folder)/xdg-cache"
        let index = try Data(contentsOf: URL(fileURLWithPath: "\(image.layout)/index.json"))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.agnostFn)
        process.arguments = ["push", "--from", "oci:\(image.layout):v1", "--image", "127.0.0.1:\(proxy.port)/stall:v1"]
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ProcessDeadline(process, after: .seconds(60))
        let waitUntil = ContinuousClock.now + .seconds(30)
        while proxy.forwardedToUpstream < 200_000 && ContinuousClock.now < waitUntil { usleep(20_000) }
        try #require(proxy.forwardedToUpstream >= 200_000, "the push never reached the stall")
        usleep(300_000)
        #expect(process.isRunning, "the push is waiting on the hung connection")

        let interrupted = ContinuousClock.now
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let stopping = ContinuousClock.now - interrupted
        #expect(!deadline.cancel())
        #expect(stopping < .seconds(1), "the push took \(stopping) to stop")
        #expect(process.terminationStatus == 130)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(
            message.contains(
                "error: interrupted: the push stopped; nothing local was changed, and running the command again "
                    + "finishes it"
            ),
            "\(message)"
        )
        #expect(!FileManager.default.fileExists(atPath: "\(image.folder)/xdg-cache/agnost-fn/blob-locations.json"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(image.layout)/index.json")) == index)

        let again = try Self.agnost(
            ["push", "--from", "oci:\(image.layout):v1", "--image", "\(registry.host)/stall:v1"],
            environment: environment
        )
        #expect(again.status == 0, "\(again.standardError)")
        #expect(again.standardOutput == "\(registry.host)/stall:v1@\(image.image.manifestDigest)\n")
    }

    @Test func onATerminalBlobsShowBytesAndRateWhileTheyUpload() throws {
        let registry = try RegistryFixture()
        // A slow uplink, so that each blob is in flight for several redraws: on loopback an upload may otherwise
        // finish before the first one, and no line in flight would ever be drawn.
        let uplink = try CuttingProxy(upstreamPort: registry.port, uploadBytesPerSecond: 4 << 20)
        defer { uplink.stop() }
        let host = "127.0.0.1:\(uplink.port)"
        let image = try ImageFixture()
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_CONFIG"] = "\(image.folder)/docker"
        environment["XDG_CACHE_HOME"] = "\(image.folder)/xdg-cache"
        environment["TERM"] = "xterm"
        // script(1) runs the command on a pseudo-terminal, as a user's shell would.
        let command = [Self.agnostFn, "push", "--from", "oci:\(image.layout):v1", "--image", "\(host)/tty"]
            .map { "'\($0)'" }.joined(separator: " ")
        let run = try Self.agnost(
            [],
            environment: environment,
            executable: "/usr/bin/script",
            arguments: ["-qefc", command, "/dev/null"]
        )
        #expect(run.status == 0, "\(run.standardOutput)")
        let system = image.image.manifest.layers[0]
        let shown = "  blob \(system.digest.dropFirst(7).prefix(12)) "
        // A line in flight ("… 1.2 MB / 2.3 MB …"), erased and replaced by the finished one.
        #expect(run.standardOutput.contains("\u{1B}[2K\(shown)"), "\(run.standardOutput)")
        #expect(run.standardOutput.contains(" / \(DisplayFormat.format(bytes: system.size))"), "\(run.standardOutput)")
        #expect(run.standardOutput.contains("\(shown)\(DisplayFormat.format(bytes: system.size)) uploaded in "))
        #expect(run.standardOutput.contains("\(host)/tty:v1@\(image.image.manifestDigest)"))

        // On a narrow terminal the redrawn lines are cut to its width, so that none wraps. A cache of its own keeps
        // the blobs from being mounted from the push above, so that they upload and show lines in flight.
        environment["XDG_CACHE_HOME"] = "\(image.folder)/narrow-cache"
        let narrow = try Self.agnost(
            [],
            environment: environment,
            executable: "/usr/bin/script",
            arguments: [
                "-qefc", "stty cols 40; \(command.replacingOccurrences(of: "/tty'", with: "/narrow'"))", "/dev/null",
            ]
        )
        #expect(narrow.status == 0, "\(narrow.standardOutput)")
        let drawn = narrow.standardOutput.components(separatedBy: "\u{1B}[2K").dropFirst()
            .map { $0.prefix { !$0.isNewline && $0 != "\u{1B}" } }
        #expect(!drawn.isEmpty)
        #expect(drawn.allSatisfy { $0.count <= 39 }, "\(drawn)")
        #expect(drawn.contains { $0.count == 39 }, "the finished lines are longer than 39 columns, so some were cut")
        #expect(drawn.contains { $0.hasPrefix(shown) && $0.contains(" / ") }, "a line in flight")
    }

    @Test func aCredentialHelperSuppliesTheCredentials() throws {
        let registry = try RegistryFixture(users: ["bob": "from-helper"])
        let image = try ImageFixture()
        let bin = "\(image.folder)/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try """
        #!/bin/sh
        read server
        echo "$1 $server" >> "\(image.folder)/helper.log"
        printf '{"ServerURL":"%s","Username":"bob","Secret":"from-helper"}' "$server"

        """.write(toFile: "\(bin)/docker-credential-fixture", atomically: true, encoding: .utf8)
        chmod("\(bin)/docker-credential-fixture", 0o755)
        try FileManager.default.createDirectory(atPath: "\(image.folder)/docker", withIntermediateDirectories: true)
        try #"{"credHelpers":{"\#(registry.host)":"fixture"}}"#
            .write(toFile: "\(image.folder)/docker/config.json", atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_CONFIG"] = "\(image.folder)/docker"
        environment["XDG_CACHE_HOME"] = "\(image.folder)/xdg-cache"
        environment["PATH"] = "\(bin):\(environment["PATH"] ?? "/usr/bin:/bin")"

        let push = try Self.agnost(
            ["push", "--from", "oci:\(image.layout):v1", "--image", "\(registry.host)/helped:v1"],
            environment: environment
        )
        #expect(push.status == 0, "\(push.standardError)")
        #expect(push.standardOutput.hasSuffix("@\(image.image.manifestDigest)\n"))
        let log = try String(contentsOfFile: "\(image.folder)/helper.log", encoding: .utf8)
        #expect(log == "get \(registry.host)\n")
    }
}
