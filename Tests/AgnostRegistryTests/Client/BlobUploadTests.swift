import AgnostDigest
import AgnostTestSupport
import Testing

@testable import AgnostRegistry

/// The upload state machine, driven by hand-written responses: no registry, no I/O.
struct BlobUploadTests {
    static let digest = SHA256.hash("blob".utf8)

    static func request(_ next: BlobUpload.Next) throws -> BlobUpload.Request {
        guard case .send(let request) = next else { throw FixtureFailure("expected a request, got \(next)") }
        return request
    }

    @Test func aBlobTheRepositoryHasIsSkipped() throws {
        var upload = BlobUpload(repository: "team/app", digest: Self.digest, size: 10, chunkSize: 100)
        let head = try Self.request(upload.start())
        #expect(head.method == .head)
        #expect(head.target == "/v2/team/app/blobs/\(Self.digest)")
        #expect(try upload.handle(.init(status: 200)) == .finished(.present))
    }

    @Test func aSmallBlobGoesInOnePut() throws {
        var upload = BlobUpload(repository: "app", digest: Self.digest, size: 10, chunkSize: 100)
        _ = upload.start()
        let post = try Self.request(try upload.handle(.init(status: 404)))
        #expect(post.method == .post && post.target == "/v2/app/blobs/uploads/")
        let put = try Self.request(
            try upload.handle(.init(status: 202, location: "http://r/v2/app/blobs/uploads/u1?state=s"))
        )
        #expect(put.method == .put)
        #expect(put.target == "http://r/v2/app/blobs/uploads/u1?state=s&digest=\(Self.digest)")
        #expect(put.body == 0..<10)
        #expect(try upload.handle(.init(status: 201)) == .finished(.uploaded))
    }

    @Test func aLargeBlobGoesInChunksFollowingEachNewLocation() throws {
        var upload = BlobUpload(repository: "app", digest: Self.digest, size: 250, chunkSize: 100)
        _ = upload.start()
        _ = try upload.handle(.init(status: 404))
        var patch = try Self.request(try upload.handle(.init(status: 202, location: "/u/1")))
        #expect(patch.method == .patch && patch.target == "/u/1" && patch.body == 0..<100)
        #expect(patch.headers["Content-Range"] == "0-99")
        patch = try Self.request(try upload.handle(.init(status: 202, location: "/u/2", range: "0-99")))
        #expect(patch.target == "/u/2" && patch.body == 100..<200)
        patch = try Self.request(try upload.handle(.init(status: 202, location: "/u/3", range: "0-199")))
        #expect(patch.body == 200..<250 && patch.headers["Content-Range"] == "200-249")
        let close = try Self.request(try upload.handle(.init(status: 202, location: "/u/4", range: "0-249")))
        #expect(close.method == .put && close.body == nil && close.target == "/u/4?digest=\(Self.digest)")
        #expect(try upload.handle(.init(status: 201)) == .finished(.uploaded))
    }

    @Test func aLostChunkResumesFromTheOffsetTheRegistryReports() throws {
        var upload = BlobUpload(repository: "app", digest: Self.digest, size: 250, chunkSize: 100)
        _ = upload.start()
        _ = try upload.handle(.init(status: 404))
        _ = try upload.handle(.init(status: 202, location: "/u/1"))
        _ = try upload.handle(.init(status: 202, location: "/u/2", range: "0-99"))
        // The connection dropped during the second chunk, after the registry had taken 30 more bytes of it.
        let recovery = upload.recover()
        let status = try #require(recovery)
        #expect(status.method == .get && status.target == "/u/2")
        let resumed = try Self.request(try upload.handle(.init(status: 204, location: "/u/3", range: "0-129")))
        #expect(resumed.method == .patch && resumed.target == "/u/3" && resumed.body == 130..<230)
    }

    @Test func aChunkAtTheWrongOffsetAsksWhereTheSessionStands() throws {
        var upload = BlobUpload(repository: "app", digest: Self.digest, size: 250, chunkSize: 100)
        _ = upload.start()
        _ = try upload.handle(.init(status: 404))
        _ = try upload.handle(.init(status: 202, location: "/u/1"))
        let status = try Self.request(try upload.handle(.init(status: 416, location: nil)))
        #expect(status.method == .get && status.target == "/u/1")
        let resumed = try Self.request(try upload.handle(.init(status: 204, location: "/u/2", range: "0-99")))
        #expect(resumed.method == .patch && resumed.body == 100..<200)
    }

    @Test func aSessionTheRegistryDroppedStartsOverAFewTimesAtMost() throws {
        var upload = BlobUpload(repository: "app", digest: Self.digest, size: 250, chunkSize: 100)
        _ = upload.start()
        _ = try upload.handle(.init(status: 404))
        for attempt in 1...BlobUpload.maximumRestarts {
            let first = try Self.request(try upload.handle(.init(status: 202, location: "/u/\(attempt)")))
            #expect(first.body == 0..<100)
            let recovery = upload.recover()
            #expect(recovery?.method == .get)
            // The distribution registry answers a session whose state and bytes disagree with 404, and cancels it.
            let post = try Self.request(try upload.handle(.init(status: 404)))
            #expect(post.method == .post && post.target == "/v2/app/blobs/uploads/" && post.body == nil)
        }
        _ = try upload.handle(.init(status: 202, location: "/u/last"))
        #expect {
            try upload.handle(.init(status: 404))
        } throws: { error in
            (error as? RegistryError)?.message.contains("dropped the upload session of \(Self.digest) 4 times") == true
        }
    }

    @Test func aMountSkipsTheUploadAndARefusedMountFallsBackToOne() throws {
        var mounted = BlobUpload(repository: "app", digest: Self.digest, size: 10, chunkSize: 100, mountFrom: "base")
        _ = mounted.start()
        let mount = try Self.request(try mounted.handle(.init(status: 404)))
        #expect(mount.target == "/v2/app/blobs/uploads/?mount=\(Self.digest)&from=base")
        #expect(try mounted.handle(.init(status: 201)) == .finished(.mounted))

        var refused = BlobUpload(repository: "app", digest: Self.digest, size: 10, chunkSize: 100, mountFrom: "base")
        _ = refused.start()
        _ = try refused.handle(.init(status: 404))
        let put = try Self.request(try refused.handle(.init(status: 202, location: "/u/1")))
        #expect(put.method == .put && put.body == 0..<10)
    }

    @Test func aStatusTheAPIDoesNotAllowIsAnErrorNamingTheBlob() throws {
        var upload = BlobUpload(repository: "app", digest: Self.digest, size: 10, chunkSize: 100)
        _ = upload.start()
        #expect {
            try upload.handle(.init(status: 302))
        } throws: { error in
            (error as? RegistryError)?.message.contains("answered 302 while uploading \(Self.digest)") == true
        }
        var noLocation = BlobUpload(repository: "app", digest: Self.digest, size: 10, chunkSize: 100)
        _ = noLocation.start()
        _ = try noLocation.handle(.init(status: 404))
        #expect(throws: RegistryError.self) { try noLocation.handle(.init(status: 202)) }
        let recovery = noLocation.recover()
        #expect(recovery == nil, "no session is open, so there is nothing to resume")
    }
}
