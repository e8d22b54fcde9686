import AgnostOCI
internal import CZlib
import Foundation

/// A gzip compressor that uses every core, as pigz does, yet writes one gzip member whose bytes depend on nothing but
/// the input and the level: not on the number of cores, nor on how the input arrives.
///
/// The input is cut into blocks of a fixed size, each compressed as raw deflate with the 32 KiB before it as its
/// dictionary and ended on a byte boundary, so that their outputs, in order, form one deflate stream between a gzip
/// header and trailer. Input that fits in one block comes out exactly as a single zlib stream would write it. The
/// header depends on nothing but the level: no file name, modification time 0, and the Unix OS byte.
final class GzipDeflater {
    /// A constant, never derived from the core count, since block boundaries show in the output. Large enough that
    /// the sync flush at each boundary and the matches lost across it cost next to nothing: a 25 MB server binary
    /// comes out within 0.01% of one zlib stream's size.
    static let blockSize = 1 << 20

    private let level: Int32
    private let pool: DeflateWorkerPool
    /// How many blocks may be submitted and not yet written out, which bounds the memory held.
    private let maximumPending: Int
    /// The block being filled; submitted only once more input arrives or the stream finishes, so that the last
    /// block, full or not, is known to be the last.
    private var current: DeflateBlock
    private var submitted = 0
    private var emitted = 0
    private var checksum: UInt = 0
    private var inputCount: UInt64 = 0

    /// Past a handful of cores, the disk and the digests limit the rate, while each worker holds blocks in memory.
    static let defaultWorkers = min(ProcessInfo.processInfo.activeProcessorCount, 8)

    /// - Parameter workers: how many blocks are compressed at once; the output is the same whatever the number.
    /// - Throws: ``ImageError/Code/invalidArgument`` for a level outside 0…9.
    init(level: Int32, workers: Int = GzipDeflater.defaultWorkers) throws(ImageError) {
        guard (0...9).contains(level) else {
            throw ImageError(
                .invalidArgument,
                "gzip level \(level) is out of range; use 1 (fastest) to 9 (smallest), or 0 to store uncompressed"
            )
        }
        self.level = level
        pool = try DeflateWorkerPool(level: level, workers: workers)
        maximumPending = 2 * max(workers, 1)
        current = DeflateBlock(capacity: Self.blockSize, following: nil)
    }

    deinit {
        pool.shutDown()
    }

    /// Compresses `input`, handing output to `emit`, in order, as blocks before it are done.
    func compress(
        _ input: UnsafeRawBufferPointer,
        emit: (UnsafeRawBufferPointer) throws(ImageError) -> Void
    ) throws(ImageError) {
        var rest = input
        while !rest.isEmpty {
            if current.isFull {
                let next = DeflateBlock(capacity: Self.blockSize, following: current)
                try submit(isLast: false, emit: emit)
                current = next
            }
            rest = UnsafeRawBufferPointer(rebasing: rest[current.append(rest)...])
        }
    }

    /// Ends the stream: emits the remaining blocks and the gzip trailer. The deflater cannot be used after this.
    func finish(emit: (UnsafeRawBufferPointer) throws(ImageError) -> Void) throws(ImageError) {
        try submit(isLast: true, emit: emit)
        while emitted < submitted { try emitNext(emit) }
        var trailer: [UInt8] = []
        // CRC-32 and input length modulo 2^32, both little-endian (RFC 1952).
        for value in [UInt32(truncatingIfNeeded: checksum), UInt32(truncatingIfNeeded: inputCount)] {
            trailer += (0..<4).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
        }
        try emitBytes(trailer, emit)
    }

    private func submit(isLast: Bool, emit: (UnsafeRawBufferPointer) throws(ImageError) -> Void) throws(ImageError) {
        if submitted - emitted == maximumPending { try emitNext(emit) }
        pool.submit(current, number: submitted, isLast: isLast)
        submitted += 1
    }

    /// Waits for the oldest block not yet written and writes it, after the header if it is the first.
    private func emitNext(_ emit: (UnsafeRawBufferPointer) throws(ImageError) -> Void) throws(ImageError) {
        let block = try pool.result(of: emitted).get()
        if emitted == 0 { try emitBytes(header, emit) }
        try emitBytes(block.bytes, emit)
        checksum = crc32_combine(checksum, block.checksum, .init(block.inputCount))
        inputCount += UInt64(block.inputCount)
        emitted += 1
    }

    /// The 10 bytes zlib would write with the level: magic, deflate, no flags, modification time 0, its extra flags
    /// (2 for the slowest level, 4 for the fastest ones), and Unix, whatever system the zlib in use was built for.
    private var header: [UInt8] {
        let extraFlags: UInt8 = level == 9 ? 2 : level < 2 ? 4 : 0
        return [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extraFlags, 3]
    }

    private func emitBytes(
        _ bytes: [UInt8],
        _ emit: (UnsafeRawBufferPointer) throws(ImageError) -> Void
    ) throws(ImageError) {
        // Result carries the typed error across withUnsafeBytes, which only rethrows `any Error`.
        try bytes.withUnsafeBytes { buffer in Result { () throws(ImageError) in try emit(buffer) } }.get()
    }
}
