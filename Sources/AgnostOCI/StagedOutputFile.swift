#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file a blob is written to. The bytes go to a temporary file in the destination's directory, which replaces the
/// destination in one `rename(2)` once complete: no reader ever sees half a blob, and a write that fails or is
/// abandoned leaves nothing behind.
package final class StagedOutputFile {
    private let destination: String
    private let temporaryPath: String
    private let descriptor: Int32
    private var isOpen = true
    private var isCommitted = false

    package init(destination: String) throws(ImageError) {
        let directoryEnd = destination.lastIndex(of: "/").map { destination.index(after: $0) } ?? destination.startIndex
        var template = Array(
            "\(destination[..<directoryEnd]).\(destination[directoryEnd...]).partial-XXXXXX".utf8CString
        )
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else {
            throw .system(.fileSystem, "cannot create a file next to it", context: destination)
        }
        self.destination = destination
        self.temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        self.descriptor = descriptor
        // mkstemp creates the file readable by its owner alone; blobs are public and other users' tools read them.
        fchmod(descriptor, 0o644)
    }

    deinit {
        if isOpen { close(descriptor) }
        if !isCommitted { unlink(temporaryPath) }
    }

    package func append(_ bytes: UnsafeRawBufferPointer) throws(ImageError) {
        var rest = bytes
        while let base = rest.baseAddress, !rest.isEmpty {
            let written = write(descriptor, base, rest.count)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                throw .system(.fileSystem, "cannot write it", context: destination)
            }
            rest = UnsafeRawBufferPointer(rebasing: rest[written...])
        }
    }

    /// Puts the complete file in place of the destination.
    package func commit() throws(ImageError) {
        isOpen = false
        // Some file systems report a failed write only when the file is closed.
        guard close(descriptor) == 0 else {
            throw .system(.fileSystem, "cannot write it", context: destination)
        }
        guard rename(temporaryPath, destination) == 0 else {
            throw .system(.fileSystem, "cannot move the written file into place", context: destination)
        }
        isCommitted = true
    }
}
