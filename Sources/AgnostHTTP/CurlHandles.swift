internal import CCurl
internal import Synchronization

/// A libcurl multi handle: the connection cache of one client, and what its transfers wait in.
final class CurlMulti: @unchecked Sendable {
    /// Used by one transfer at a time, except ``wakeUp()``, which libcurl allows from any thread.
    let pointer: UnsafeMutableRawPointer

    init?() {
        guard let pointer = curl_multi_init() else { return nil }
        self.pointer = pointer
    }

    deinit {
        curl_multi_cleanup(pointer)
    }

    /// Makes a transfer waiting in `curl_multi_poll` return at once.
    func wakeUp() {
        _ = curl_multi_wakeup(pointer)
    }
}

/// The cancellation of one transfer: set from any thread by a task's cancellation handler, read by the transfer
/// between its waits, which the setter cuts short.
final class TransferCancellation: Sendable {
    private let cancelled = Atomic<Bool>(false)
    private let multi: CurlMulti

    init(multi: CurlMulti) {
        self.multi = multi
    }

    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    func cancel() {
        cancelled.store(true, ordering: .releasing)
        multi.wakeUp()
    }
}

/// A URL parsed by libcurl's URL API, so that its parts are exactly those libcurl connects to.
final class CurlURL {
    private let handle: OpaquePointer

    init?(_ text: String) {
        guard let handle = curl_url() else { return nil }
        self.handle = handle
        guard curl_url_set(handle, CURLUPART_URL, text, 0) == CURLUE_OK else { return nil }
    }

    deinit {
        curl_url_cleanup(handle)
    }

    /// The part, or nil when the URL has none; `defaultPort` gives the scheme's port for a URL that names none.
    func get(_ part: CURLUPart, defaultPort: Bool = false) -> String? {
        var value: UnsafeMutablePointer<CChar>? = nil
        let flags = defaultPort ? UInt32(CURLU_DEFAULT_PORT) : 0
        guard curl_url_get(handle, part, &value, flags) == CURLUE_OK, let value else { return nil }
        defer { curl_free(value) }
        return String(cString: value)
    }

    func set(_ part: CURLUPart, _ value: String) -> Bool {
        curl_url_set(handle, part, value, 0) == CURLUE_OK
    }
}
