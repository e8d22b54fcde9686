#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file on the packaging machine, read front to back in chunks so that a 40 MB binary never sits in memory
/// whole, and refused if its size turns out to differ from the one it had when opened.
package final class ChunkedFileReader {
    private static let chunkSize = 1 << 20

    package let path: String
    /// The size when opened: a tar header announces it before the first byte is read.
    package let size: Int64
    private let descriptor: Int32

    package init(path: String) throws(ImageError) {
        // O_NONBLOCK keeps a named pipe from hanging the open; it changes nothing for the regular files accepted.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw .system(.unreadableInput, "cannot open it for reading", context: path)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let error = ImageError.system(.unreadableInput, "cannot read its size", context: path)
            close(descriptor)
            throw error
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw ImageError(.unreadableInput, "not a regular file; give the path of a file", context: path)
        }
        self.path = path
        self.size = Int64(status.st_size)
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Hands the file's bytes to `body` in order, never more of them than ``size``.
    package func forEachChunk(_ body: (UnsafeRawBufferPointer) throws(ImageError) -> Void) throws(ImageError) {
        // One byte more than a small file holds, so that a file that grew shows in the first read.
        let buffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Int(min(Int64(Self.chunkSize), size + 1)),
            alignment: 16
        )
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw .system(.unreadableInput, "cannot read it", context: path)
            }
            guard count > 0 else { break }
            total += Int64(count)
            guard total <= size else { throw changedSize() }
            try body(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
        guard total == size else { throw changedSize() }
    }

    private func changedSize() -> ImageError {
        ImageError(
            .unreadableInput,
            "its size changed from \(size) bytes while it was read; wait until whatever writes it has finished",
            context: path
        )
    }
}
