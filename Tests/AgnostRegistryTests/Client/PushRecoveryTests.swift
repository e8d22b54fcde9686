import AgnostImage
import AgnostOCI
import AgnostTestSupport
import Foundation
import Testing

@testable import AgnostRegistry

/// A push through a proxy that drops the connection in the middle of a chunk, as a flaky network does.
struct PushRecoveryTests {
    @Test func aConnectionCutMidChunkRecoversAndTheImageArrivesIntact() async throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        let chunk: Int64 = 256 << 10
        let system = image.image.manifest.layers[0]
        #expect(system.size > 3 * chunk, "the system layer must span several chunks")
        // Past the first chunk and a half of the biggest blob: the cut lands inside a PATCH.
        let proxy = try CuttingProxy(upstreamPort: registry.port, cutAfter: chunk * 3 / 2 + 20_000)
        defer { proxy.stop() }
        let destination = try ImageReference(parsing: "127.0.0.1:\(proxy.port)/flaky:v1")

        let pushed = try await ImagePusher(chunkSize: chunk).push(
            from: LayoutReference(transport: .layout, path: image.layout, tag: "v1"),
            to: destination,
            plainHTTP: true,
            credentials: nil
        )

        #expect(proxy.cuts == 1)
        #expect(pushed.digest == image.image.manifestDigest)
        // The request that was cut went again. The cut lands in the biggest blob's chunks almost always, but the
        // three blobs upload side by side, so it is counted over every request that carries blob bytes: without
        // a cut, that is one PATCH per chunk and a closing PUT, and one PUT for each of the two small blobs.
        // libcurl resends a request whose reused connection died before any answer, rewinding the file body; on
        // a fresh connection the pusher asks the session where it stands instead (the next test).
        let carryingBytes = registry.requests.filter {
            $0.hasPrefix("PATCH /v2/flaky/blobs/uploads/") || $0.hasPrefix("PUT /v2/flaky/blobs/uploads/")
        }
        #expect(carryingBytes.count > Int((system.size + chunk - 1) / chunk) + 3, "\(carryingBytes)")
        #expect(try image.copiedBack(from: "\(registry.host)/flaky:v1") == image.image.manifestDigest.description)
    }

    @Test func aReplyCutAfterAChunkArrivedAsksTheSessionAndStartsTheBlobOverWhenTheRegistryDroppedIt() async throws {
        let registry = try RegistryFixture()
        let image = try ImageFixture()
        let chunk: Int64 = 256 << 10
        // The second chunk of the biggest blob reaches the registry whole; its answer is cut after the status line,
        // so the pusher cannot know whether the chunk counted.
        let proxy = try CuttingProxy(upstreamPort: registry.port, cutReplyAfter: chunk * 3 / 2 + 20_000)
        defer { proxy.stop() }

        let pushed = try await image.push(
            to: "127.0.0.1:\(proxy.port)/replycut:v1",
            with: ImagePusher(chunkSize: chunk)
        )

        #expect(proxy.cuts == 1)
        #expect(pushed.digest == image.image.manifestDigest)
        let requests = registry.requests
        // It asked where the session stands; docker-registry, whose session state no longer matches its bytes,
        // dropped the session (404), and that one blob was uploaded again from a new session.
        #expect(requests.filter { $0.hasPrefix("GET /v2/replycut/blobs/uploads/") }.count == 1, "\(requests)")
        #expect(requests.filter { $0.hasPrefix("POST /v2/replycut/blobs/uploads/") }.count == 4, "\(requests)")
        #expect(try image.copiedBack(from: "\(registry.host)/replycut:v1") == image.image.manifestDigest.description)
    }
}
