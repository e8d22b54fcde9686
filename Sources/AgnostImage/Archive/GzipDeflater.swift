internal import CZlib

/// A gzip compressor over one zlib stream. Its header depends on nothing but the compression level: no file name,
/// modification time 0, and the Unix OS byte even where zlib was built for another system.
final class GzipDeflater {
    /// zlib's state points back at the stream, so the stream must not move: it lives in its own allocation.
    private let stream: UnsafeMutablePointer<z_stream>
    /// zlib keeps a pointer to the header until it writes it, on the first call to `deflate`.
    private let header: UnsafeMutablePointer<gz_header>
    private let output: UnsafeMutableRawBufferPointer

    /// - Throws: ``ImageError/Code/invalidArgument`` for a level outside 0…9.
    init(level: Int32) throws(ImageError) {
        guard (0...9).contains(level) else {
            throw ImageError(
                .invalidArgument,
                "gzip level \(level) is out of range; use 1 (fastest) to 9 (smallest), or 0 to store uncompressed"
            )
        }
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        header = .allocate(capacity: 1)
        header.initialize(to: gz_header())
        header.pointee.os = 3  // Unix, in RFC 1952's table
        output = .allocate(byteCount: 256 << 10, alignment: 16)
        // 15 + 16 window bits: the largest window, with a gzip wrapper instead of a zlib one.
        var status = czlib_deflate_init2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        if status == Z_OK { status = deflateSetHeader(stream, header) }
        guard status == Z_OK else { throw failure(status) }
    }

    deinit {
        // Harmless on a stream whose initialisation failed: zlib then finds no state to free.
        deflateEnd(stream)
        stream.deallocate()
        header.deallocate()
        output.deallocate()
    }

    /// Compresses `input`, handing each piece of output to `emit` as it is produced.
    func compress(
        _ input: UnsafeRawBufferPointer,
        emit: (UnsafeRawBufferPointer) throws(ImageError) -> Void
    ) throws(ImageError) {
        var rest = input
        while !rest.isEmpty {
            // avail_in is 32 bits wide.
            let piece = UnsafeRawBufferPointer(rebasing: rest.prefix(Int(UInt32.max)))
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(piece.count))
            try run(piece, flush: Z_NO_FLUSH, emit: emit)
        }
    }

    /// Ends the stream: emits what zlib still holds and the gzip trailer.
    func finish(emit: (UnsafeRawBufferPointer) throws(ImageError) -> Void) throws(ImageError) {
        try run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH, emit: emit)
    }

    private func run(
        _ input: UnsafeRawBufferPointer,
        flush: Int32,
        emit: (UnsafeRawBufferPointer) throws(ImageError) -> Void
    ) throws(ImageError) {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        // zlib must not be left holding a pointer into the caller's buffer.
        defer { stream.pointee.next_in = nil }
        var status: Int32
        repeat {
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(output.count)
            status = deflate(stream, flush)
            // Z_BUF_ERROR only says that no progress was possible, which the loop condition accounts for.
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { throw failure(status) }
            let produced = output.count - Int(stream.pointee.avail_out)
            if produced > 0 { try emit(UnsafeRawBufferPointer(rebasing: output[..<produced])) }
            // A full output buffer may mean more is pending; with room left, zlib has taken all the input.
        } while stream.pointee.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END)
    }

    private func failure(_ status: Int32) -> ImageError {
        let reason = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
        return ImageError(.archiveFailed, "zlib could not compress the layer: \(reason)")
    }
}
