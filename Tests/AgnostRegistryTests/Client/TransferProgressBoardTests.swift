import AgnostDigest
import Testing

@testable import AgnostRegistry

struct TransferProgressBoardTests {
    let layer = SHA256.hash("layer".utf8)
    let config = SHA256.hash("config".utf8)
    let start = ContinuousClock.now

    @Test func blobsInFlightShowBytesAndRateInTheOrderTheyStarted() {
        var board = TransferProgressBoard()
        #expect(board.apply(.progress(layer, done: 0, size: 8_800_000), at: start).isEmpty)
        #expect(board.apply(.progress(config, done: 500, size: 1_200), at: start + .milliseconds(10)).isEmpty)
        #expect(board.apply(.progress(layer, done: 4_000_000, size: 8_800_000), at: start + .seconds(2)).isEmpty)
        #expect(
            board.activeLines == [
                "  blob \(layer.hexString.prefix(12)) 4.0 MB / 8.8 MB  2.0 MB/s",
                "  blob \(config.hexString.prefix(12)) 0.5 kB / 1.2 kB",
            ]
        )
    }

    @Test func aFinishedBlobLeavesTheBoardWithALineForGood() {
        var board = TransferProgressBoard()
        _ = board.apply(.progress(layer, done: 100, size: 8_800_000), at: start)
        let uploaded = board.apply(.blob(layer, size: 8_800_000, .uploaded, .milliseconds(1_400)), at: start)
        #expect(uploaded == ["  blob \(layer.hexString.prefix(12)) 8.8 MB uploaded in 1.4 s at 6.3 MB/s"])
        #expect(board.activeLines.isEmpty)
        #expect(
            board.apply(.blob(config, size: 1_200, .present, .milliseconds(3)), at: start)
                == ["  blob \(config.hexString.prefix(12)) 1.2 kB already there"]
        )
        #expect(
            board.apply(.blob(config, size: 1_200, .mounted, .milliseconds(3)), at: start)
                == ["  blob \(config.hexString.prefix(12)) 1.2 kB mounted from another repository"]
        )
        #expect(
            board.apply(.blob(layer, size: 2_000_000, .downloaded, .seconds(2)), at: start)
                == ["  blob \(layer.hexString.prefix(12)) 2.0 MB downloaded in 2.0 s at 1.0 MB/s"]
        )
        #expect(
            board.apply(.manifest(layer, reference: "v1"), at: start) == [
                "  manifest \(layer.hexString.prefix(12)) as v1"
            ]
        )
    }

    @Test(arguments: [
        (Int64(0), "0.0 kB"), (999, "1.0 kB"), (999_949, "999.9 kB"), (1_000_000, "1.0 MB"), (8_849_999, "8.8 MB"),
    ])
    func sizesUseDecimalUnits(bytes: Int64, shown: String) {
        #expect(DisplayFormat.format(bytes: bytes) == shown)
    }

    @Test func durationsAreMillisecondsBelowASecond() {
        #expect(DisplayFormat.format(.milliseconds(312)) == "312 ms")
        #expect(DisplayFormat.format(.milliseconds(1_449)) == "1.4 s")
    }
}
