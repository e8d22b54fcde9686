import AgnostDigest

/// What a push or a pull looks like on screen: a line per blob in flight, with its bytes so far and the rate, and a
/// line for good when a blob or a manifest is done. It only keeps the state and words the lines; the caller decides where they
/// go: redrawn in place on a terminal, or the finished ones alone into a log.
///
/// ```swift
/// var board = TransferProgressBoard()
/// let done = board.apply(.progress(digest, done: 4_000_000, size: 8_800_000), at: .now)   // []
/// board.activeLines   // ["  blob 3f2a9c1b0d4e   4.0 MB / 8.8 MB  12.1 MB/s"]
/// ```
public struct TransferProgressBoard: Sendable {
    private struct Transfer: Sendable {
        var digest: SHA256Digest
        var done: Int64
        var size: Int64
        var start: ContinuousClock.Instant
        var latest: ContinuousClock.Instant
    }

    /// In the order the blobs started.
    private var transfers: [Transfer] = []

    public init() {}

    /// Takes an event; returns the lines it finished, to print for good.
    public mutating func apply(_ event: TransferEvent, at now: ContinuousClock.Instant) -> [String] {
        switch event {
        case .progress(let digest, let done, let size):
            if let index = transfers.firstIndex(where: { $0.digest == digest }) {
                transfers[index].done = done
                transfers[index].latest = now
            } else {
                transfers.append(Transfer(digest: digest, done: done, size: size, start: now, latest: now))
            }
            return []
        case .blob(let digest, let size, let outcome, let elapsed):
            transfers.removeAll { $0.digest == digest }
            let timing = "in \(DisplayFormat.format(elapsed))\(Self.rate(size, in: elapsed).map { " at \($0)" } ?? "")"
            let what =
                switch outcome {
                case .present: "already there"
                case .mounted: "mounted from another repository"
                case .downloaded: "downloaded \(timing)"
                case .uploaded: "uploaded \(timing)"
                }
            return ["  blob \(digest.hexString.prefix(12)) \(DisplayFormat.format(bytes: size)) \(what)"]
        case .manifest(let digest, let reference):
            return ["  manifest \(digest.hexString.prefix(12)) as \(reference)"]
        }
    }

    /// A line per blob whose bytes are on the way: how far it is and how fast it goes.
    public var activeLines: [String] {
        transfers.map { transfer in
            let rate = Self.rate(transfer.done, in: transfer.latest - transfer.start).map { "  \($0)" } ?? ""
            return "  blob \(transfer.digest.hexString.prefix(12)) "
                + "\(DisplayFormat.format(bytes: transfer.done)) / \(DisplayFormat.format(bytes: transfer.size))\(rate)"
        }
    }

    /// `12.1 MB/s`, or nil before there is time enough to tell.
    private static func rate(_ bytes: Int64, in elapsed: Duration) -> String? {
        guard elapsed >= .milliseconds(1) else { return nil }
        return DisplayFormat.format(bytes: Int64(Double(bytes) / (elapsed / .seconds(1)))) + "/s"
    }
}
