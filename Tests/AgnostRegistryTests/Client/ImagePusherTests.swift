import AgnostImage
import AgnostTestSupport
import Foundation
import Synchronization
import Testing

@testable import AgnostRegistry

/// Pushing to the real registry, checked with skopeo and the registry's own access log.
@Suite(.serialized)
struct ImagePusherTests {
    static func source(_ fixture: ImageFixture) -> LayoutReference {
        LayoutReference(transport: .layout, path: fixture.layout, tag: "v1")
    }

    @Test func skopeoSeesOurDigestAndCopiesTheSameImageBack() throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        let destination = try ImageReference(parsing: "\(registry.host)/team/probe:v1")
        let pushed = try ImagePusher().push(
            from: Self.source(image),
            to: destination,
            plainHTTP: true,
            credentials: nil
        )
        #expect(pushed.digest == image.image.manifestDigest)
        #expect(pushed.description == "\(registry.host)/team/probe:v1@\(image.image.manifestDigest)")
        let inspected = try Tool.output(
            "/usr/bin/skopeo",
            ["inspect", "--tls-verify=false", "docker://\(registry.host)/team/probe:v1"]
        )
        #expect(inspected.contains(#""Digest": "\#(image.image.manifestDigest)""#), "\(inspected)")
        try Tool.output(
            "/usr/bin/skopeo",
            [
                "--insecure-policy", "copy", "--src-tls-verify=false", "docker://\(registry.host)/team/probe:v1",
                "oci:\(image.folder)/copied:v1",
            ]
        )
        let copied = try ImageLayout(directory: "\(image.folder)/copied").entry(tag: "v1")
        #expect(copied.digest == image.image.manifestDigest.description)
    }

    @Test func aSecondPushSendsNoBlobBytes() throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        let destination = try ImageReference(parsing: "\(registry.host)/probe:v1")
        let outcomes = Outcomes()
        _ = try ImagePusher(report: outcomes.record).push(
            from: Self.source(image),
            to: destination,
            plainHTTP: true,
            credentials: nil
        )
        let first = registry.requests
        #expect(first.filter { $0.hasPrefix("POST /v2/probe/blobs/uploads/") }.count == 3)
        #expect(outcomes.all == [.uploaded, .uploaded, .uploaded])

        let again = Outcomes()
        _ = try ImagePusher(report: again.record).push(
            from: Self.source(image),
            to: destination,
            plainHTTP: true,
            credentials: nil
        )
        let second = Array(registry.requests.dropFirst(first.count))
        #expect(
            !second.contains { $0.hasPrefix("POST") || $0.hasPrefix("PATCH") || $0.contains("/blobs/uploads/") },
            "\(second)"
        )
        #expect(second.filter { $0.hasPrefix("HEAD /v2/probe/blobs/sha256:") }.count == 3)
        #expect(again.all == [.present, .present, .present])
    }

    @Test func aBlobLargerThanTheChunkSizeGoesInPatchChunks() throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        let system = try #require(image.image.manifest.layers.first)
        let chunk: Int64 = 256 << 10
        #expect(system.size > 3 * chunk, "the system layer must span several chunks")
        _ = try ImagePusher(chunkSize: chunk).push(
            from: Self.source(image),
            to: try ImageReference(parsing: "\(registry.host)/chunked:v1"),
            plainHTTP: true,
            credentials: nil
        )
        let patches = registry.requests.filter { $0.hasPrefix("PATCH /v2/chunked/blobs/uploads/") }
        #expect(patches.count == Int((system.size + chunk - 1) / chunk))
        try Tool.output(
            "/usr/bin/skopeo",
            [
                "--insecure-policy", "copy", "--src-tls-verify=false", "docker://\(registry.host)/chunked:v1",
                "oci:\(image.folder)/chunked:v1",
            ]
        )
        #expect(
            try ImageLayout(directory: "\(image.folder)/chunked").entry(tag: "v1").digest
                == image.image.manifestDigest.description
        )
    }

    @Test func htpasswdAuthAcceptsTheRightPasswordAndNamesTheCredentialsOfAWrongOne() throws {
        let registry = try RegistryFixture(users: ["alice": "correct horse"])
        let image = try ImageFixture()
        let destination = try ImageReference(parsing: "\(registry.host)/private:v1")
        let pushed = try ImagePusher().push(
            from: Self.source(image),
            to: destination,
            plainHTTP: true,
            credentials: (RegistryCredentials(username: "alice", secret: "correct horse"), "a test")
        )
        #expect(pushed.digest == image.image.manifestDigest)

        #expect {
            try ImagePusher().push(
                from: Self.source(image),
                to: destination,
                plainHTTP: true,
                credentials: (
                    RegistryCredentials(username: "alice", secret: "wrong battery"), "auths in /tmp/config.json"
                )
            )
        } throws: { error in
            let error = error as? RegistryError
            return error?.code == .unauthorized && error?.context == registry.host
                && error?.message.contains("user alice from auths in /tmp/config.json") == true
                && error?.description.contains("wrong battery") == false
        }
        #expect {
            try ImagePusher().push(from: Self.source(image), to: destination, plainHTTP: true, credentials: nil)
        } throws: { error in
            (error as? RegistryError)?.message.contains("run 'agnost-fn login \(registry.host)") == true
        }
    }

    @Test func bearerTokensFromTheRegistrysIssuerPushAndAWrongPasswordIsRefused() throws {
        let registry = try RegistryFixture(users: ["carol": "token pass"], tokenAuth: true)
        let image = try ImageFixture()
        let destination = try ImageReference(parsing: "\(registry.host)/tokened:v1")
        let pushed = try ImagePusher().push(
            from: Self.source(image),
            to: destination,
            plainHTTP: true,
            credentials: (RegistryCredentials(username: "carol", secret: "token pass"), "a test")
        )
        #expect(pushed.digest == image.image.manifestDigest)
        let pulled = try ImagePuller().pull(
            destination,
            into: LayoutReference(transport: .layout, path: "\(image.folder)/pulled-with-token"),
            platform: Platform(architecture: "amd64", os: "linux"),
            plainHTTP: true,
            credentials: (RegistryCredentials(username: "carol", secret: "token pass"), "a test")
        )
        #expect(pulled == image.image.manifestDigest)
        #expect {
            try ImagePusher().push(
                from: Self.source(image),
                to: destination,
                plainHTTP: true,
                credentials: (
                    RegistryCredentials(username: "carol", secret: "nope"), "credential helper docker-credential-x"
                )
            )
        } throws: { error in
            let error = error as? RegistryError
            return error?.code == .unauthorized
                && error?.message.contains("user carol from credential helper docker-credential-x") == true
                && error?.description.contains("nope") == false
        }
    }

    @Test func aRegistryThatIsNotThereIsNamed() throws {
        let image = try ImageFixture()
        let port = try RegistryFixture.freePort()
        #expect {
            try ImagePusher().push(
                from: Self.source(image),
                to: try ImageReference(parsing: "127.0.0.1:\(port)/probe:v1"),
                plainHTTP: true,
                credentials: nil
            )
        } throws: { error in
            let error = error as? RegistryError
            return error?.code == .unavailable && error?.context == "127.0.0.1:\(port)"
                && error?.message.hasPrefix("cannot reach the registry") == true
        }
    }
}

/// The outcomes a pusher reports, in order.
final class Outcomes: Sendable {
    private let outcomes = Mutex<[BlobUpload.Outcome]>([])

    var all: [BlobUpload.Outcome] { outcomes.withLock { $0 } }

    func record(_ event: PushEvent) {
        if case .blob(_, _, let outcome, _) = event { outcomes.withLock { $0.append(outcome) } }
    }
}
