import AgnostHTTP
import AgnostTestSupport
import Foundation
import Testing

/// The suite's folder, removed after it (a file-level constant, so that the suite's own attribute can name it).
private let imageEndToEndWorkspace = FileManager.default.temporaryDirectory.appendingPathComponent(
    "agnost-image-e2e-\(UUID().uuidString)"
)

/// Images as a user gets them from `agnost-fn build`, checked with the tools that will consume them: skopeo reads
/// them, umoci unpacks them, and the unpacked root file system serves `samples/todo` under `chroot` with nothing
/// from the host.
///
/// One release build of a copy of `samples/todo` is shared by the tests, made by whichever needs it first.
@Suite(.serialized, .removedAfterwards(imageEndToEndWorkspace))
struct ImageEndToEndTests {
    static let workspace = imageEndToEndWorkspace
    static let project = workspace.appendingPathComponent("todo")
    static let layout = project.appendingPathComponent(".agnost/image").path

    /// The copy of `samples/todo`, built once; its runtime dependency points back into this checkout.
    static let built: Result<String, E2EFailure> = {
        do {
            try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
            try SampleProject.copy("todo", to: project)
            let outcome = try Commands.agnost("build", "--path", project.path)
            guard outcome.status == 0 else { return .failure(E2EFailure("build failed:\n\(outcome.standardError)")) }
            return .success(try lastLine(outcome))
        } catch {
            return .failure(E2EFailure("cannot prepare the project: \(error)"))
        }
    }()

    static func lastLine(_ outcome: Commands.Outcome) throws -> String {
        guard let line = outcome.standardOutput.split(separator: "\n").last.map(String.init), line.hasPrefix("sha256:")
        else {
            throw E2EFailure("no digest printed; stdout:\n\(outcome.standardOutput)\nstderr:\n\(outcome.standardError)")
        }
        return line
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// The manifest a layout's tag names, read straight from its files.
    static func manifest(layout: String, tag: String) throws -> [String: Any] {
        let index = try json(String(contentsOfFile: "\(layout)/index.json", encoding: .utf8))
        let entries = try #require(index["manifests"] as? [[String: Any]])
        let entry = try #require(
            entries.first { ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == tag }
        )
        let digest = try #require(entry["digest"] as? String)
        return try json(String(contentsOfFile: "\(layout)/blobs/sha256/\(digest.dropFirst(7))", encoding: .utf8))
    }

    static func layerDigests(_ manifest: [String: Any]) -> [String] {
        (manifest["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
    }

    static func skopeo(_ arguments: String...) throws -> String {
        let outcome = try Commands.run("/usr/bin/skopeo", ["--insecure-policy"] + arguments)
        guard outcome.status == 0 else { throw E2EFailure("skopeo \(arguments) failed: \(outcome.standardError)") }
        return outcome.standardOutput
    }

    /// Unpacks an image with umoci and serves `GET /todos/1` from its root file system under `chroot`, as the
    /// image's own user, with only the image's environment.
    static func serveUnpacked(_ image: String, into folder: String) throws {
        let unpacked = try Commands.run("/usr/bin/umoci", ["unpack", "--image", image, folder])
        try #require(unpacked.status == 0, "umoci unpack failed: \(unpacked.standardError)")
        let runtimeSpec = try json(String(contentsOfFile: "\(folder)/config.json", encoding: .utf8))
        let process = try #require(runtimeSpec["process"] as? [String: Any])
        let user = try #require(process["user"] as? [String: Any])
        let arguments = try #require(process["args"] as? [String])
        #expect(arguments == ["/app/server"])
        #expect(user["uid"] as? Int == 65532)
        var environment = Dictionary(
            (process["env"] as? [String] ?? []).map { ($0.prefix { $0 != "=" }, $0.drop { $0 != "=" }.dropFirst()) }
        ) { $1 }.reduce(into: [String: String]()) { $0[String($1.key)] = String($1.value) }
        #expect(environment["AGNOST_BUNDLE"] == "/app/bundle.json")
        environment["PORT"] = "0"
        environment["AGNOST_HOST"] = "127.0.0.1"
        let server = try BackgroundProcess(
            "/usr/sbin/chroot",
            ["--userspec=\(user["uid"] ?? 0):\(user["gid"] ?? 0)", "\(folder)/rootfs"] + arguments,
            environment: environment
        )
        let port = try server.waitForPort()
        let response = try withHTTPClient { client in
            try client.send(HTTPClientRequest(method: "GET", url: "http://127.0.0.1:\(port)/todos/1"))
        }
        #expect(response.status == 200)
        #expect(response.bodyText == #"{"done":false,"id":1,"title":"todo 1"}"#)
        #expect(try server.stop() == 0)
    }

    @Test func buildWritesAnImageThatSkopeoReads() throws {
        let digest = try Self.built.get()
        let manifest = try Self.manifest(layout: Self.layout, tag: "v1")
        let inspected = try Self.json(Self.skopeo("inspect", "oci:\(Self.layout):v1"))
        #expect(inspected["Digest"] as? String == digest)
        #expect(inspected["Layers"] as? [String] == Self.layerDigests(manifest))
        #expect(Self.layerDigests(manifest).count == 2)
        #expect(inspected["Architecture"] as? String == "amd64")
        let raw = try Self.skopeo("inspect", "--raw", "oci:\(Self.layout):v1")
        #expect("sha256:" + (try sha256(Data(raw.utf8))) == digest)

        let config = try Self.json(Self.skopeo("inspect", "--config", "oci:\(Self.layout):v1"))
        let run = try #require(config["config"] as? [String: Any])
        #expect(run["Entrypoint"] as? [String] == ["/app/server"])
        #expect(run["User"] as? String == "65532")
        #expect(run["WorkingDir"] as? String == "/app")
        #expect(run["Env"] as? [String] == ["PORT=8080", "AGNOST_BUNDLE=/app/bundle.json"])
        #expect((run["ExposedPorts"] as? [String: Any])?.keys.sorted() == ["8080/tcp"])
        #expect(config["created"] as? String == "1970-01-01T00:00:00Z")
        let annotations = try #require(manifest["annotations"] as? [String: String])
        #expect(annotations["org.opencontainers.image.title"] == "todo")
        #expect(annotations["org.opencontainers.image.version"] == "v1")
        #expect(annotations["org.opencontainers.image.revision"] == nil, "the copy is not a git checkout")
    }

    @Test(.enabled(if: TestConditions.runsRootChecks, TestConditions.rootComment))
    func theUnpackedImageServesTheAppUnderChroot() throws {
        _ = try Self.built.get()
        try Self.serveUnpacked("\(Self.layout):v1", into: Self.workspace.appendingPathComponent("unpacked").path)
    }

    @Test func aCleanRebuildAndAnArchiveGiveTheSameDigest() throws {
        let digest = try Self.built.get()
        try FileManager.default.removeItem(at: Self.project.appendingPathComponent(".agnost/cache"))
        let second = Self.workspace.appendingPathComponent("second").path
        let rebuilt = try Commands.agnost("build", "--path", Self.project.path, "--output", "oci:\(second)")
        #expect(rebuilt.status == 0, "\(rebuilt.standardError)")
        #expect(try Self.lastLine(rebuilt) == digest)
        #expect(!rebuilt.standardError.contains("(cached)"))

        let archive = Self.workspace.appendingPathComponent("out/todo.tar").path
        let archived = try Commands.agnost("build", "--path", Self.project.path, "--output", "oci-archive:\(archive)")
        #expect(archived.status == 0, "\(archived.standardError)")
        #expect(try Self.lastLine(archived) == digest)
        #expect(archived.standardError.contains("app layer") && archived.standardError.contains("(cached)"))
        #expect(try Self.json(Self.skopeo("inspect", "oci-archive:\(archive)"))["Digest"] as? String == digest)
    }

    @Test func sourceDateEpochSetsEveryTimeStamp() throws {
        let digest = try Self.built.get()
        let dated = Self.workspace.appendingPathComponent("dated").path
        var environment = ProcessInfo.processInfo.environment
        environment["SOURCE_DATE_EPOCH"] = "1700000000"
        let outcome = try Commands.run(
            Commands.agnostFn,
            ["build", "--path", Self.project.path, "--output", "oci:\(dated):v1"],
            environment: environment
        )
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(try Self.lastLine(outcome) != digest)
        let manifest = try Self.manifest(layout: dated, tag: "v1")
        #expect(
            (manifest["annotations"] as? [String: String])?["org.opencontainers.image.created"]
                == "2023-11-14T22:13:20Z"
        )
        let app = try #require(Self.layerDigests(manifest).last)
        let listing = try Commands.run(
            "/bin/tar",
            ["--numeric-owner", "--utc", "-tvzf", "\(dated)/blobs/sha256/\(app.dropFirst(7))"]
        )
        let lines = listing.standardOutput.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(
            lines.allSatisfy { $0.contains(" 0/0 ") && $0.contains("2023-11-14 22:13") },
            "\(listing.standardOutput)"
        )

        environment["SOURCE_DATE_EPOCH"] = "yesterday"
        let bad = try Commands.run(Commands.agnostFn, ["build", "--path", Self.project.path], environment: environment)
        #expect(bad.status == 1)
        #expect(bad.standardError.contains("error: SOURCE_DATE_EPOCH: 'yesterday' is not a time"))
    }

    /// An image built on a copy of the sample's own image as its base: the base layout, the output layout, and what
    /// the build printed.
    static let onBase: Result<(base: String, output: String, outcome: Commands.Outcome), E2EFailure> = {
        do {
            _ = try built.get()
            let base = workspace.appendingPathComponent("base").path
            _ = try skopeo("copy", "oci:\(layout):v1", "oci:\(base):stable")
            let output = workspace.appendingPathComponent("on-base").path
            let outcome = try Commands.agnost(
                "build",
                "--path",
                project.path,
                "--base",
                "oci:\(base):stable",
                "--output",
                "oci:\(output):v1"
            )
            guard outcome.status == 0 else {
                return .failure(E2EFailure("build on a base failed:\n\(outcome.standardError)"))
            }
            return .success((base, output, outcome))
        } catch let error as E2EFailure {
            return .failure(error)
        } catch {
            return .failure(E2EFailure("cannot build on a base: \(error)"))
        }
    }()

    @Test func aBaseImageKeepsItsLayersAndGetsOnlyTheAppLayer() throws {
        let (base, output, outcome) = try Self.onBase.get()
        let baseLayers = Self.layerDigests(try Self.manifest(layout: base, tag: "stable"))
        let manifest = try Self.manifest(layout: output, tag: "v1")
        let layers = Self.layerDigests(manifest)
        #expect(layers.count == baseLayers.count + 1, "the base has every library, so no system layer is added")
        #expect(Array(layers.prefix(baseLayers.count)) == baseLayers)
        let annotations = manifest["annotations"] as? [String: String]
        let baseDigest = try Self.json(Self.skopeo("inspect", "oci:\(base):stable"))["Digest"] as? String
        #expect(annotations?["org.opencontainers.image.base.digest"] == baseDigest)
        #expect(annotations?["org.opencontainers.image.base.name"] == nil, "a local path names nothing elsewhere")
        #expect(
            try Self.json(Self.skopeo("inspect", "oci:\(output):v1"))["Digest"] as? String
                == (try Self.lastLine(outcome))
        )
    }

    @Test(.enabled(if: TestConditions.runsRootChecks, TestConditions.rootComment))
    func theImageOnABaseServesTheAppUnderChroot() throws {
        let (_, output, _) = try Self.onBase.get()
        try Self.serveUnpacked("\(output):v1", into: Self.workspace.appendingPathComponent("unpacked-on-base").path)
    }

    @Test func badOutputsAndBasesAreNamedInTheError() throws {
        _ = try Self.built.get()
        let occupied = Self.workspace.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: occupied, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: occupied.appendingPathComponent("notes.txt"))
        let refused = try Commands.agnost("build", "--path", Self.project.path, "--output", "oci:\(occupied.path)")
        #expect(refused.status == 1)
        #expect(
            refused.standardError.contains("error: \(occupied.path): the folder exists and is not an OCI image layout")
        )
        #expect(try String(contentsOf: occupied.appendingPathComponent("notes.txt"), encoding: .utf8) == "keep me")

        let missing = Self.workspace.appendingPathComponent("missing").path
        let noBase = try Commands.agnost("build", "--path", Self.project.path, "--base", "oci:\(missing)")
        #expect(noBase.status == 1)
        #expect(noBase.standardError.contains("error: \(missing): not an OCI image layout"))

        let badOption = try Commands.agnost("build", "--path", Self.project.path, "--output", "docker://todo")
        #expect(badOption.status != 0)
        #expect(badOption.standardError.contains("'docker://todo' is not oci:DIR[:TAG] or oci-archive:FILE[:TAG]"))
    }

    @Test func buildPushesToARegistryAndBuildsOnABasePulledFromIt() throws {
        let digest = try Self.built.get()
        let registry = try RegistryFixture()
        let pushed = try Commands.agnost(
            "build",
            "--path",
            Self.project.path,
            "--image",
            "\(registry.host)/todo",
            "--push"
        )
        #expect(pushed.status == 0, "\(pushed.standardError)")
        #expect(pushed.standardOutput == "\(digest)\n\(registry.host)/todo:v1@\(digest)\n")
        let inspected = try Self.json(Self.skopeo("inspect", "--tls-verify=false", "docker://\(registry.host)/todo:v1"))
        #expect(inspected["Digest"] as? String == digest)

        let output = Self.workspace.appendingPathComponent("registry-base").path
        let buildOnBase = {
            try Commands.agnost(
                "build",
                "--path",
                Self.project.path,
                "--base",
                "\(registry.host)/todo:v1",
                "--output",
                "oci:\(output):v1"
            )
        }
        let onBase = try buildOnBase()
        #expect(onBase.status == 0, "\(onBase.standardError)")
        let manifest = try Self.manifest(layout: output, tag: "v1")
        let annotations = manifest["annotations"] as? [String: String]
        #expect(annotations?["org.opencontainers.image.base.name"] == "\(registry.host)/todo:v1")
        #expect(annotations?["org.opencontainers.image.base.digest"] == digest)
        #expect(Self.layerDigests(manifest).count == 3)

        // The base is in .agnost/cache/base now: building on it again fetches its manifest, and no blob.
        let fetched = registry.requests.count
        let again = try buildOnBase()
        #expect(again.status == 0, "\(again.standardError)")
        let requests = Array(registry.requests.dropFirst(fetched))
        #expect(requests.contains("GET /v2/todo/manifests/v1"), "\(requests)")
        #expect(!requests.contains { $0.contains("/blobs/") }, "\(requests)")
    }

    /// Last, because it edits the project: a handler change rebuilds the binary and only the app layer changes.
    @Test func changingAHandlerChangesOnlyTheAppLayer() throws {
        let digest = try Self.built.get()
        let before = Self.layerDigests(try Self.manifest(layout: Self.layout, tag: "v1"))
        let handlers = Self.project.appendingPathComponent("Sources/TodoHandlers/Handlers.swift")
        let source = try String(contentsOf: handlers, encoding: .utf8)
        try #require(source.contains("no todo with id"))
        try source.replacingOccurrences(of: "no todo with id", with: "there is no todo with id")
            .write(to: handlers, atomically: true, encoding: .utf8)
        let outcome = try Commands.agnost("build", "--path", Self.project.path)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        #expect(try Self.lastLine(outcome) != digest)
        let after = Self.layerDigests(try Self.manifest(layout: Self.layout, tag: "v1"))
        #expect(after.count == 2)
        #expect(after.first == before.first)
        #expect(after.last != before.last)
        let blobs = try FileManager.default.contentsOfDirectory(atPath: "\(Self.layout)/blobs/sha256")
        #expect(!blobs.contains(String(before.last?.dropFirst(7) ?? "")), "the replaced app layer is collected")
    }
}

private func sha256(_ data: Data) throws -> String {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-sha-\(UUID().uuidString)")
    try data.write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let outcome = try Commands.run("/usr/bin/sha256sum", [file.path])
    return String(outcome.standardOutput.prefix(64))
}
