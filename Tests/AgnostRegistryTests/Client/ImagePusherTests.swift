import AgnostDigest
import AgnostImage
import AgnostOCI
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

    @Test func skopeoSeesOurDigestAndCopiesTheSameImageBack() async throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        let destination = try ImageReference(parsing: "\(registry.host)/team/probe:v1")
        let pushed = try await ImagePusher().push(
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
        #expect(try image.copiedBack(from: "\(registry.host)/team/probe:v1") == image.image.manifestDigest.description)
    }

    @Test func aSecondPushSendsNoBlobBytes() async throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        let destination = try ImageReference(parsing: "\(registry.host)/probe:v1")
        let outcomes = Outcomes()
        _ = try await ImagePusher(report: outcomes.record).push(
            from: Self.source(image),
            to: destination,
            plainHTTP: true,
            credentials: nil
        )
        let first = registry.requests
        #expect(first.filter { $0.hasPrefix("POST /v2/probe/blobs/uploads/") }.count == 3)
        #expect(outcomes.all == [.uploaded, .uploaded, .uploaded])

        let again = Outcomes()
        _ = try await ImagePusher(report: again.record).push(
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

    @Test func aBlobLargerThanTheChunkSizeGoesInPatchChunks() async throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        let system = try #require(image.image.manifest.layers.first)
        let chunk: Int64 = 256 << 10
        #expect(system.size > 3 * chunk, "the system layer must span several chunks")
        _ = try await image.push(to: "\(registry.host)/chunked:v1", with: ImagePusher(chunkSize: chunk))
        let patches = registry.requests.filter { $0.hasPrefix("PATCH /v2/chunked/blobs/uploads/") }
        #expect(patches.count == Int((system.size + chunk - 1) / chunk))
        #expect(try image.copiedBack(from: "\(registry.host)/chunked:v1") == image.image.manifestDigest.description)
    }

    @Test func htpasswdAuthAcceptsTheRightPasswordAndNamesTheCredentialsOfAWrongOne() async throws {
        let registry = try RegistryFixture(users: ["alice": "correct horse"])
        let image = try ImageFixture()
        let destination = try ImageReference(parsing: "\(registry.host)/private:v1")
        let pushed = try await ImagePusher().push(
            from: Self.source(image),
            to: destination,
            plainHTTP: true,
            credentials: (RegistryCredentials(username: "alice", secret: "correct horse"), "a test")
        )
        #expect(pushed.digest == image.image.manifestDigest)

        await #expect {
            try await ImagePusher().push(
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
        await #expect {
            try await ImagePusher().push(from: Self.source(image), to: destination, plainHTTP: true, credentials: nil)
        } throws: { error in
            let error = error as? RegistryError
            return error?.message.contains("none were found; log in to it first") == true
                && error?.remedy == .logIn(registry: registry.host)
        }
    }

    @Test func bearerTokensFromTheRegistrysIssuerPushAndAWrongPasswordIsRefused() async throws {
        let registry = try RegistryFixture(users: ["carol": "token pass"], tokenAuth: true)
        let image = try ImageFixture()
        let destination = try ImageReference(parsing: "\(registry.host)/tokened:v1")
        let pushed = try await ImagePusher().push(
            from: Self.source(image),
            to: destination,
            plainHTTP: true,
            credentials: (RegistryCredentials(username: "carol", secret: "token pass"), "a test")
        )
        #expect(pushed.digest == image.image.manifestDigest)
        let pulled = try await ImagePuller().pull(
            destination,
            into: LayoutReference(transport: .layout, path: "\(image.folder)/pulled-with-token"),
            platform: ImagePuller.hostPlatform,
            plainHTTP: true,
            credentials: (RegistryCredentials(username: "carol", secret: "token pass"), "a test")
        )
        #expect(pulled == image.image.manifestDigest)
        await #expect {
            try await ImagePusher().push(
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

    @Test(arguments: [false, true])
    func aBlobSeenInAnotherRepositoryIsMountedNotUploaded(tokenAuth: Bool) async throws {
        let registry = try RegistryFixture(users: tokenAuth ? ["erin": "pw"] : [:], tokenAuth: tokenAuth)
        let credentials = tokenAuth ? (RegistryCredentials(username: "erin", secret: "pw"), "a test") : nil
        let image = try ImageFixture()
        let locations = BlobLocationCache(file: nil)
        _ = try await image.push(
            to: "\(registry.host)/team/base:v1",
            with: ImagePusher(locations: locations),
            credentials: credentials
        )
        let first = registry.requests.count
        let outcomes = Outcomes()
        let pushed = try await image.push(
            to: "\(registry.host)/team/app:v1",
            with: ImagePusher(locations: locations, report: outcomes.record),
            credentials: credentials
        )
        #expect(pushed.digest == image.image.manifestDigest)
        #expect(outcomes.all == [.mounted, .mounted, .mounted])
        let second = Array(registry.requests.dropFirst(first))
        let mounts = second.filter { $0.hasPrefix("POST /v2/team/app/blobs/uploads/?mount=sha256:") }
        #expect(mounts.count == 3, "\(second)")
        #expect(mounts.allSatisfy { $0.hasSuffix("&from=team/base") })
        #expect(!second.contains { $0.hasPrefix("PATCH") || $0.hasPrefix("PUT /v2/team/app/blobs/") }, "\(second)")
        #expect(
            locations.repositories(holding: image.image.manifest.layers[0].digestValue, registry: registry.host) == [
                "team/app", "team/base",
            ]
        )
    }

    @Test func aStaleLocationFallsBackToAnUpload() async throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        let locations = BlobLocationCache(file: nil)
        for layer in image.image.manifest.layers {
            locations.record(layer.digestValue, registry: registry.host, repository: "gone")
        }
        let outcomes = Outcomes()
        let pushed = try await image.push(
            to: "\(registry.host)/fresh:v1",
            with: ImagePusher(locations: locations, report: outcomes.record)
        )
        #expect(pushed.digest == image.image.manifestDigest)
        #expect(outcomes.all == [.uploaded, .uploaded, .uploaded])
        #expect(registry.requests.filter { $0.contains("&from=gone") }.count == 2)
    }

    @Test func credentialsThatMayNotReadTheMountSourceUploadInstead() async throws {
        let registry = try RegistryFixture(
            users: ["ivan": "pw", "judy": "pw"],
            tokenAuth: true,
            noAccess: ["judy": ["team/base"]]
        )
        let image = try ImageFixture()
        let locations = BlobLocationCache(file: nil)
        _ = try await image.push(
            to: "\(registry.host)/team/base:v1",
            with: ImagePusher(locations: locations),
            credentials: (RegistryCredentials(username: "ivan", secret: "pw"), "a test")
        )
        let outcomes = Outcomes()
        let pushed = try await image.push(
            to: "\(registry.host)/judy/app:v1",
            with: ImagePusher(locations: locations, report: outcomes.record),
            credentials: (RegistryCredentials(username: "judy", secret: "pw"), "a test")
        )
        #expect(pushed.digest == image.image.manifestDigest)
        #expect(outcomes.all == [.uploaded, .uploaded, .uploaded])
        #expect(registry.requests.contains { $0.hasPrefix("POST /v2/judy/app/blobs/uploads/?mount=") })
        let pulled = try await ImagePuller().pull(
            try ImageReference(parsing: "\(registry.host)/judy/app:v1"),
            into: LayoutReference(transport: .layout, path: "\(image.folder)/judy"),
            platform: ImagePuller.hostPlatform,
            plainHTTP: true,
            credentials: (RegistryCredentials(username: "judy", secret: "pw"), "a test")
        )
        #expect(pulled == image.image.manifestDigest)
    }

    @Test func progressIsReportedForEveryUploadedBlobUpToItsSize() async throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        let events = Events()
        let chunk: Int64 = 256 << 10
        _ = try await image.push(
            to: "\(registry.host)/progress:v1",
            with: ImagePusher(chunkSize: chunk, report: events.record)
        )
        let descriptors = image.image.manifest.layers + [image.image.manifest.config]
        for descriptor in descriptors {
            let sent = events.progress(of: descriptor.digestValue)
            #expect(sent.last == descriptor.size, "\(descriptor.digest)")
            #expect(sent == sent.sorted(), "progress never goes back without a resend")
        }
        let system = image.image.manifest.layers[0]
        // Every chunk reports as it goes, so a blob of several chunks reports at least once per chunk.
        #expect(events.progress(of: system.digestValue).count >= Int((system.size + chunk - 1) / chunk))
    }

    @Test func aManifestTheRegistryRejectsNamesItsReason() async throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        // A Docker media type inside an OCI manifest: the registry refuses the mismatch.
        let layout = ImageLayout(directory: image.layout)
        let entry = try layout.entry(tag: "v1")
        var manifest = try JSONSerialization.jsonObject(with: Data(layout.read(entry))) as! [String: Any]
        manifest["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json"
        let bytes = Array(try JSONSerialization.data(withJSONObject: manifest, options: .sortedKeys))
        try layout.add(
            [Blob(bytes: bytes)],
            entry: Descriptor(
                mediaType: entry.mediaType,
                digest: Blob(bytes: bytes).digest,
                size: Int64(bytes.count),
                annotations: entry.annotations
            )
        )
        await #expect {
            try await image.push(to: "\(registry.host)/invalid:v1")
        } throws: { error in
            let error = error as? RegistryError
            return error?.code == .invalidContent && error?.context == "\(registry.host)/invalid:v1"
                && error?.message.hasPrefix("storing the manifest sha256:") == true
                && error?.message.contains("was rejected as invalid (400): MANIFEST_INVALID") == true
        }
    }

    @Test func aTokenThatGrantsOnlyPullIsDeniedNamingTheUserAndScope() async throws {
        let registry = try RegistryFixture(users: ["frank": "pw"], tokenAuth: true, pullOnly: ["frank"])
        let image = try ImageFixture()
        await #expect {
            try await image.push(
                to: "\(registry.host)/readonly:v1",
                credentials: (RegistryCredentials(username: "frank", secret: "pw"), "auths in config.json")
            )
        } throws: { error in
            let error = error as? RegistryError
            return error?.code == .forbidden && error?.context == "\(registry.host)/readonly"
                && error?.message.contains("credentials of user frank from auths in config.json") == true
                && error?.message.contains("the registry denied repository:readonly:") == true
                && error?.message.contains("insufficient_scope") == true
        }
    }

    @Test func anIdentityTokenIsExchangedThroughTheRefreshGrant() async throws {
        let registry = try RegistryFixture(users: [:], tokenAuth: true, identityTokens: ["refresh-123": "gina"])
        let image = try ImageFixture()
        let identity = RegistryCredentials(username: RegistryCredentials.identityTokenUsername, secret: "refresh-123")
        let pushed = try await image.push(
            to: "\(registry.host)/identity:v1",
            credentials: (identity, "credential helper docker-credential-desktop")
        )
        #expect(pushed.digest == image.image.manifestDigest)

        let stale = RegistryCredentials(username: RegistryCredentials.identityTokenUsername, secret: "refresh-old")
        await #expect {
            try await image.push(
                to: "\(registry.host)/identity:v1",
                credentials: (stale, "credential helper docker-credential-desktop")
            )
        } throws: { error in
            let error = error as? RegistryError
            return error?.code == .unauthorized
                && error?.message.contains("an identity token from credential helper docker-credential-desktop") == true
                && error?.description.contains("refresh-old") == false
        }
    }

    @Test func anIdentityTokenForABasicAuthRegistrySaysToLogInWithAPassword() async throws {
        let registry = try RegistryFixture(users: ["alice": "pw"])
        let image = try ImageFixture()
        let identity = RegistryCredentials(username: RegistryCredentials.identityTokenUsername, secret: "secret-token")
        await #expect {
            try await image.push(to: "\(registry.host)/identity:v1", credentials: (identity, "auths in config.json"))
        } throws: { error in
            let error = error as? RegistryError
            return error?.code == .unauthorized && error?.message.contains("are an identity token") == true
                && error?.remedy == .logIn(registry: registry.host)
                && error?.description.contains("secret-token") == false
        }
    }

    @Test func aMultiPlatformIndexGoesAfterItsManifestsAndComesBackWhole() async throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        let (index, arm64) = try image.addMultiPlatformIndex(tag: "multi")
        let pushed = try await image.push(to: "\(registry.host)/multi:v1", tag: "multi")
        #expect(pushed.digest == index)
        let manifests = registry.requests.filter { $0.hasPrefix("PUT /v2/multi/manifests/") }
        #expect(
            manifests == [
                "PUT /v2/multi/manifests/\(image.image.manifestDigest)", "PUT /v2/multi/manifests/\(arm64)",
                "PUT /v2/multi/manifests/v1",
            ]
        )
        #expect(
            registry.requests.filter { $0.hasPrefix("POST /v2/multi/blobs/uploads/") }.count == 4,
            "3 + arm64's config"
        )
        let copy = "\(image.folder)/all"
        try Tool.output(
            "/usr/bin/skopeo",
            [
                "--insecure-policy", "copy", "--all", "--src-tls-verify=false", "docker://\(registry.host)/multi:v1",
                "oci:\(copy):all",
            ]
        )
        #expect(try ImageLayout(directory: copy).entry(tag: "all").digest == index.description)
        let pulled = try await ImagePuller().pull(
            try ImageReference(parsing: "\(registry.host)/multi:v1"),
            into: LayoutReference(transport: .layout, path: "\(image.folder)/arm64"),
            platform: Platform(architecture: "arm64", os: "linux"),
            plainHTTP: true,
            credentials: nil
        )
        #expect(pulled == arm64)
    }

    @Test func aRegistryThatIsNotThereIsNamed() async throws {
        let image = try ImageFixture()
        let closed = try ClosedPort()
        let port = closed.port
        await #expect {
            try await image.push(to: "127.0.0.1:\(port)/probe:v1")
        } throws: { error in
            let error = error as? RegistryError
            return error?.code == .unavailable && error?.context == "127.0.0.1:\(port)"
                && error?.message.hasPrefix("cannot reach the registry") == true
        }
    }
}

/// The outcomes a pusher reports, in order.
final class Outcomes: Sendable {
    private let outcomes = Mutex<[TransferEvent.Outcome]>([])

    var all: [TransferEvent.Outcome] { outcomes.withLock { $0 } }

    func record(_ event: TransferEvent) {
        if case .blob(_, _, let outcome, _) = event { outcomes.withLock { $0.append(outcome) } }
    }
}

/// Every event a pusher or puller reports, in order.
final class Events: Sendable {
    private let events = Mutex<[TransferEvent]>([])

    func record(_ event: TransferEvent) { events.withLock { $0.append(event) } }

    /// The `done` of each progress event of a blob.
    func progress(of digest: SHA256Digest) -> [Int64] {
        events.withLock { events in
            events.compactMap { event in
                guard case .progress(digest, let done, _) = event else { return nil }
                return done
            }
        }
    }
}

extension Descriptor {
    var digestValue: SHA256Digest { try! validatedDigest() }
}
