internal import CCurl

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Reads a ``HTTPClientRequest/Body/file(path:range:)`` body for libcurl, from its own descriptor with `pread`, so
/// that a rewind for a resend is only a new position.
final class FileBodyReader {
    private let descriptor: Int32
    private let range: Range<Int64>
    private let path: String
    private let progress: (Int64) -> Void
    private var position: Int64
    /// Why reading stopped, for the error `send` throws.
    private(set) var failure: String?

    init(
        path: String,
        range: Range<Int64>,
        url: RedactedURL,
        progress: @escaping (Int64) -> Void
    ) throws(HTTPClientError) {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw HTTPClientError(
                code: .other,
                url: url.display,
                message: "cannot open \(path), the body for \(url.display): \(String(cString: strerror(errno)))"
            )
        }
        self.path = path
        self.range = range
        self.progress = progress
        position = range.lowerBound
    }

    deinit {
        close(descriptor)
    }

    /// Fills `buffer` with the next bytes; 0 at the end of the range, `CURL_READFUNC_ABORT` when the file fails.
    func read(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        let wanted = Int(min(Int64(capacity), range.upperBound - position))
        guard wanted > 0 else { return 0 }
        var count = pread(descriptor, buffer, wanted, off_t(position))
        while count < 0 && errno == EINTR { count = pread(descriptor, buffer, wanted, off_t(position)) }
        guard count > 0 else {
            let reason = count == 0 ? "it ended before byte \(range.upperBound)" : String(cString: strerror(errno))
            failure = "cannot read the request body from \(path): \(reason)"
            return Int(CURL_READFUNC_ABORT)
        }
        position += Int64(count)
        progress(position - range.lowerBound)
        return count
    }

    /// Moves to `offset` bytes into the range, where libcurl resends from after a reused connection failed.
    func seek(to offset: Int64) -> Bool {
        guard offset >= 0, offset <= Int64(range.count) else { return false }
        position = range.lowerBound + offset
        return true
    }
}

extension HTTPClientRequest.Body {
    func fileReader(
        url: RedactedURL,
        progress: @escaping (Int64) -> Void
    ) throws(HTTPClientError) -> FileBodyReader? {
        guard case .file(let path, let range) = self else { return nil }
        return try FileBodyReader(path: path, range: range, url: url, progress: progress)
    }
}

func readBody(
    _ buffer: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ context: UnsafeMutableRawPointer?
) -> Int {
    let reader = Unmanaged<FileBodyReader>.fromOpaque(context!).takeUnretainedValue()
    return reader.read(into: buffer!, capacity: size * count)
}

func seekBody(_ context: UnsafeMutableRawPointer?, _ offset: curl_off_t, _ origin: Int32) -> Int32 {
    let reader = Unmanaged<FileBodyReader>.fromOpaque(context!).takeUnretainedValue()
    // libcurl rewinds from the start only; anything else it can do without seeking.
    guard origin == SEEK_SET, reader.seek(to: Int64(offset)) else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
    return Int32(CURL_SEEKFUNC_OK)
}
