import AgnostOCI
import Foundation

/// Compresses the blocks of one gzip member on threads of its own, one ``RawDeflateStream`` each, and hands the
/// results back by block number, whatever order they finish in.
///
/// The threads are plain threads rather than Dispatch work: the writer that waits for them may itself run on a
/// Dispatch worker (layers are written side by side with `concurrentPerform`), and blocking one of Dispatch's
/// limited threads on work queued behind it could deadlock. Every writer has its own pool, so two layers never wait
/// on each other. All state is guarded by ``condition``, which is what makes the pool `Sendable`.
final class DeflateWorkerPool: @unchecked Sendable {
    private struct Job {
        let number: Int
        let block: DeflateBlock
        let isLast: Bool
    }

    private let condition = NSCondition()
    /// Submitted and not yet taken by a worker, oldest first.
    private var jobs: [Job] = []
    /// Compressed and not yet collected, by block number.
    private var results: [Int: Result<DeflatedBlock, ImageError>] = [:]
    private var isShutDown = false
    private var runningWorkers = 0

    /// Starts `workers` threads, once every one of their zlib streams exists.
    init(level: Int32, workers: Int) throws(ImageError) {
        let streams = try (0..<max(workers, 1)).map { _ throws(ImageError) in try RawDeflateStream(level: level) }
        runningWorkers = streams.count
        for stream in streams {
            let thread = Thread { [self] in work(with: stream) }
            thread.name = "agnost-deflate"
            thread.start()
        }
    }

    /// Queues `block` for compression as block `number` of the member.
    func submit(_ block: DeflateBlock, number: Int, isLast: Bool) {
        condition.lock()
        defer { condition.unlock() }
        jobs.append(Job(number: number, block: block, isLast: isLast))
        condition.broadcast()
    }

    /// Waits for block `number` to be compressed and takes its result.
    func result(of number: Int) -> Result<DeflatedBlock, ImageError> {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let result = results.removeValue(forKey: number) { return result }
            condition.wait()
        }
    }

    /// Drops the blocks not yet started and waits for the workers to finish the ones they have and stop, so that no
    /// compression outlives the writer that asked for it.
    func shutDown() {
        condition.lock()
        defer { condition.unlock() }
        isShutDown = true
        jobs.removeAll()
        condition.broadcast()
        while runningWorkers > 0 { condition.wait() }
    }

    private func work(with stream: RawDeflateStream) {
        while let job = nextJob() {
            let result = Result { () throws(ImageError) in try stream.deflate(job.block, isLast: job.isLast) }
            condition.lock()
            results[job.number] = result
            condition.broadcast()
            condition.unlock()
        }
        condition.lock()
        runningWorkers -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// The oldest job waiting, or nil once the pool is shut down.
    private func nextJob() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty && !isShutDown { condition.wait() }
        return isShutDown ? nil : jobs.removeFirst()
    }
}
