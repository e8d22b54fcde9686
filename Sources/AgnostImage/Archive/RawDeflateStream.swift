import AgnostOCI
internal import CZlib

/// A block's deflate output with what the gzip trailer needs to know of its input.
struct DeflatedBlock: Sendable {
    let bytes: [UInt8]
    /// CRC-32 of the block's input alone, to be combined with those before it.
    let checksum: UInt
    let inputCount: Int
}

/// One zlib stream that compresses blocks as raw deflate, without a wrapper, so that the blocks' outputs concatenate
/// into one deflate stream. It is reset for every block, so its output depends on nothing but the block, its
/// dictionary and the level, whichever worker compresses it and whatever that worker compressed before.
///
/// One thread uses it at a time: the pool creates it and hands it to the one worker thread that keeps it; that hand-off
/// is what makes it `Sendable`.
final class RawDeflateStream: @unchecked Sendable {
    /// zlib's state points back at the stream, so the stream must not move: it lives in its own allocation.
    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutableRawBufferPointer

    init(level: Int32) throws(ImageError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = .allocate(byteCount: 256 << 10, alignment: 16)
        // -15 window bits: the largest window, and raw deflate with no zlib or gzip wrapper.
        let status = czlib_deflate_init2(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY)
        guard status == Z_OK else { throw failure(status) }
    }

    deinit {
        // Harmless on a stream whose initialisation failed: zlib then finds no state to free.
        deflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    /// Compresses `block` after its dictionary. All but the last block end with a sync flush: an empty stored block
    /// that brings the output to a byte boundary without ending the deflate stream, so the next block's output can
    /// follow it directly. The last ends the stream.
    func deflate(_ block: DeflateBlock, isLast: Bool) throws(ImageError) -> DeflatedBlock {
        var status = deflateReset(stream)
        let dictionary = block.dictionary
        if status == Z_OK, let base = dictionary.baseAddress, !dictionary.isEmpty {
            status = deflateSetDictionary(stream, base.assumingMemoryBound(to: Bytef.self), uInt(dictionary.count))
        }
        guard status == Z_OK else { throw failure(status) }
        let input = block.input
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        // zlib must not be left holding a pointer into the block, which goes away once compressed.
        defer { stream.pointee.next_in = nil }
        let flush = isLast ? Z_FINISH : Z_SYNC_FLUSH
        var bytes: [UInt8] = []
        repeat {
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(output.count)
            status = CZlib.deflate(stream, flush)
            // Z_BUF_ERROR only says that no progress was possible, which the loop condition accounts for.
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { throw failure(status) }
            bytes.append(contentsOf: output[..<(output.count - Int(stream.pointee.avail_out))])
            // A full output buffer may mean more is pending; with room left, the flush is complete.
        } while stream.pointee.avail_out == 0 || (isLast && status != Z_STREAM_END)
        let checksum = crc32(0, input.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(input.count))
        return DeflatedBlock(bytes: bytes, checksum: checksum, inputCount: input.count)
    }

    private func failure(_ status: Int32) -> ImageError {
        let reason = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
        return ImageError(.archiveFailed, "zlib could not compress the layer: \(reason)")
    }
}
