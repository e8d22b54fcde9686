import AgnostDigest
import Foundation
import Testing

@testable import AgnostRegistry

struct BlobLocationCacheTests {
    let digest = SHA256.hash("layer".utf8)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-locations-\(UUID().uuidString)")
        .path

    @Test func repositoriesComeMostRecentFirstPerRegistryAndAreBounded() {
        let cache = BlobLocationCache(file: nil)
        for name in ["a", "b", "c", "b", "d", "e"] {
            cache.record(digest, registry: "r.example", repository: name)
        }
        cache.record(digest, registry: "other.example", repository: "z")
        #expect(cache.repositories(holding: digest, registry: "r.example") == ["e", "d", "b", "c"])
        #expect(cache.repositories(holding: digest, registry: "other.example") == ["z"])
        #expect(cache.repositories(holding: SHA256.hash("other".utf8), registry: "r.example").isEmpty)
    }

    @Test func savedLocationsAreReadBackAndTheOldestBlobsAreDroppedPastTheLimit() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = "\(folder)/nested/blob-locations.json"
        let cache = BlobLocationCache(file: file)
        let old = SHA256.hash("old".utf8)
        cache.record(old, registry: "r", repository: "x", at: Date(timeIntervalSince1970: 1))
        for index in 0..<BlobLocationCache.blobLimit {
            cache.record(
                SHA256.hash("\(index)".utf8),
                registry: "r",
                repository: "y",
                at: Date(timeIntervalSince1970: 2)
            )
        }
        try cache.save()

        let reloaded = BlobLocationCache(file: file)
        #expect(reloaded.repositories(holding: SHA256.hash("7".utf8), registry: "r") == ["y"])
        #expect(reloaded.repositories(holding: old, registry: "r").isEmpty)
    }

    @Test func anUnreadableFileGivesAnEmptyCacheAndAnUnwritableOneSaysWhere() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data("not json".utf8).write(to: URL(fileURLWithPath: "\(folder)/cache.json"))
        let cache = BlobLocationCache(file: "\(folder)/cache.json")
        #expect(cache.repositories(holding: digest, registry: "r").isEmpty)

        try Data().write(to: URL(fileURLWithPath: "\(folder)/file"))
        let blocked = BlobLocationCache(file: "\(folder)/file/cache.json")
        blocked.record(digest, registry: "r", repository: "x")
        #expect {
            try blocked.save()
        } throws: { error in
            let error = error as? RegistryError
            return error?.code == .fileSystem && error?.context == "\(folder)/file/cache.json"
        }
    }

    @Test func theDefaultPathFollowsXDGThenHome() {
        #expect(
            BlobLocationCache.defaultPath(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"])
                == "/c/agnost-fn/blob-locations.json"
        )
        #expect(
            BlobLocationCache.defaultPath(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/h"])
                == "/h/.cache/agnost-fn/blob-locations.json"
        )
        #expect(BlobLocationCache.defaultPath(environment: [:]) == nil)
    }
}
