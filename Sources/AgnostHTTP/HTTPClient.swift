internal import CCurl
internal import Dispatch
internal import Synchronization

/// libcurl must be initialised once per process before its first handle. Swift runs the initialiser of a global
/// exactly once, thread-safely, on first use.
private let curlGlobalInitResult = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// An HTTP/1.1 and HTTP/2 client over one libcurl easy handle, reused across requests so that connections are kept
/// alive. It does not follow redirects and never prints anything.
///
/// One client runs one transfer at a time: a second one started while the first runs fails with
/// ``HTTPClientError/Code/busy``. For requests in parallel, use a client per task.
///
/// ```swift
/// let client = try HTTPClient()
/// let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:8080/agnost/health"))
/// print(response.status, response.bodyText)
/// ```
public final class HTTPClient: @unchecked Sendable {
    // Sendable because `busy` admits one transfer at a time to everything below, the only mutable state.
    private let handle: UnsafeMutableRawPointer
    /// Holds the connections between transfers, and lets a cancellation wake a waiting transfer.
    private let multi: CurlMulti
    /// libcurl writes the detail of a failure here during a transfer, so it lives as long as the handle.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let busy = Atomic<Bool>(false)
    /// Where transfers block in libcurl: never the cooperative pool, whose threads are as many as the cores, so a
    /// transfer waiting there would stall unrelated tasks. A serial queue targets libdispatch's overcommitting pool,
    /// which adds a thread rather than wait, and keeps it between transfers: a client that sends many requests
    /// (the event hub's deliveries) starts no thread per request.
    private let transfers = DispatchQueue(label: "agnost.http.transfer")
    /// What every request of this client shares.
    public let configuration: Configuration

    /// Creates a client whose responses may carry at most `maximumResponseSize` bytes of body; a larger one fails
    /// with ``HTTPClientError/Code/tooLarge`` as soon as that is known.
    ///
    /// ```swift
    /// let client = try HTTPClient(maximumResponseSize: 1 << 20)
    /// ```
    public convenience init(maximumResponseSize: Int = 64 << 20) throws(HTTPClientError) {
        try self.init(configuration: Configuration(maximumResponseSize: maximumResponseSize))
    }

    /// Creates a client with TLS settings and limits. PEM fields are checked here, so a wrong one fails now,
    /// naming the field, rather than at the first request.
    ///
    /// ```swift
    /// let client = try HTTPClient(
    ///     configuration: .init(tls: .init(trustedCertificates: .pem(caData), serverName: "kubernetes"))
    /// )
    /// ```
    public init(configuration: Configuration) throws(HTTPClientError) {
        guard curlGlobalInitResult == CURLE_OK else {
            let reason = String(cString: curl_easy_strerror(curlGlobalInitResult))
            throw HTTPClientError(code: .other, url: "", message: "could not initialise libcurl: \(reason)")
        }
        try configuration.tls.validate()
        guard let multi = CurlMulti(), let handle = curl_easy_init() else {
            throw HTTPClientError(
                code: .other,
                url: "",
                message: "could not create a libcurl handle; the process may be out of memory"
            )
        }
        self.handle = handle
        self.multi = multi
        var configuration = configuration
        configuration.maximumResponseSize = max(0, configuration.maximumResponseSize)
        self.configuration = configuration
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// The largest response body kept in memory.
    public var maximumResponseSize: Int { configuration.maximumResponseSize }

    /// Sends `request` and waits for the whole response, blocking the calling thread. Any status, including 3xx, 4xx
    /// and 5xx, is returned. In async code use ``execute(_:uploadProgress:successfulBody:)``, which does not block a
    /// thread of Swift's pool and can be cancelled.
    ///
    /// ```swift
    /// let response = try client.send(
    ///     HTTPClientRequest(method: "DELETE", url: "http://127.0.0.1:8080/todos/1", timeout: .seconds(5))
    /// )
    /// guard response.status == 200 else { … }
    /// ```
    ///
    /// - Parameters:
    ///   - uploadProgress: called with the number of body bytes handed to the connection so far, as a
    ///     ``HTTPClientRequest/Body/file(path:range:)`` body is read; it may go back when libcurl resends the body.
    ///   - successfulBody: takes the body of a `2xx` response piece by piece as it arrives, which then stays out of
    ///     memory and of the response; returning false stops the transfer, which then fails. Other statuses keep their
    ///     body in the response, for the error it explains.
    public func send(
        _ request: HTTPClientRequest,
        uploadProgress: ((Int64) -> Void)? = nil,
        successfulBody: ((UnsafeRawBufferPointer) -> Bool)? = nil
    ) throws(HTTPClientError) -> HTTPClientResponse {
        // The closures live in objects libcurl's callbacks reach during the transfer alone, which ends before this does.
        try withoutActuallyEscaping(uploadProgress ?? { _ in }) { progress throws(HTTPClientError) in
            try withoutActuallyEscaping(successfulBody ?? { _ in true }) { sink throws(HTTPClientError) in
                try transfer(request, progress: progress, sink: successfulBody == nil ? nil : sink, cancellation: nil)
            }
        }
    }

    /// Sends `request` from the client's transfer queue and returns the response, whatever its status. Cancelling the
    /// task stops the transfer at once, even while the server sends nothing, and fails with
    /// ``HTTPClientError/Code/cancelled``.
    ///
    /// ```swift
    /// let watch = HTTPClientRequest(url: podsURL + "?watch=true", timeout: nil, idleTimeout: .seconds(90))
    /// let response = try await client.execute(watch, successfulBody: { bytes in
    ///     decoder.feed(bytes)
    ///     return true
    /// })
    /// ```
    ///
    /// - Parameters:
    ///   - uploadProgress: as for ``send(_:uploadProgress:successfulBody:)``, called on the transfer's thread.
    ///   - successfulBody: as for ``send(_:uploadProgress:successfulBody:)``, called on the transfer's thread.
    public func execute(
        _ request: HTTPClientRequest,
        uploadProgress: (@Sendable (Int64) -> Void)? = nil,
        successfulBody: (@Sendable (UnsafeRawBufferPointer) -> Bool)? = nil
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        // Claimed before the transfer queues, so that a second concurrent use fails at once as busy rather than
        // waiting behind the first.
        try claim(RedactedURL(request.url))
        let cancellation = TransferCancellation(multi: multi)
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation {
                (continuation: CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>) in
                transfers.async { [self] in
                    continuation.resume(
                        returning: Result { () throws(HTTPClientError) in
                            try transfer(
                                request,
                                progress: uploadProgress ?? { _ in },
                                sink: successfulBody,
                                cancellation: cancellation,
                                claimed: true
                            )
                        }
                    )
                }
            }
        } onCancel: {
            cancellation.cancel()
        }
        return try result.get()
    }

    /// One transfer, holding the handle for its whole duration; `claimed` when the caller already holds it.
    private func transfer(
        _ request: HTTPClientRequest,
        progress: @escaping (Int64) -> Void,
        sink: ((UnsafeRawBufferPointer) -> Bool)?,
        cancellation: TransferCancellation?,
        claimed: Bool = false
    ) throws(HTTPClientError) -> HTTPClientResponse {
        let url = RedactedURL(request.url)
        if !claimed { try claim(url) }
        defer { busy.store(false, ordering: .releasing) }
        try Self.validate(request, url)
        return try perform(
            request,
            url: url,
            reader: try request.body?.fileReader(url: url, progress: progress),
            accumulator: ResponseAccumulator(limit: maximumResponseSize, sink: sink),
            cancellation: cancellation
        )
    }

    /// Takes the handle for one transfer, or fails as busy while another holds it.
    private func claim(_ url: RedactedURL) throws(HTTPClientError) {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            throw HTTPClientError(
                code: .busy,
                url: url.display,
                message: "the HTTP client is already running a transfer, so the request to \(url.display) was not "
                    + "sent; a client runs one transfer at a time, so use one client per concurrent task"
            )
        }
    }

    private func perform(
        _ request: HTTPClientRequest,
        url: RedactedURL,
        reader: FileBodyReader?,
        accumulator: ResponseAccumulator,
        cancellation: TransferCancellation?
    ) throws(HTTPClientError) -> HTTPClientResponse {
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        var connectTo: UnsafeMutablePointer<curl_slist>? = nil
        defer {
            curl_slist_free_all(headerList)
            curl_slist_free_all(connectTo)
        }
        // Runs before the lists are freed: between transfers the handle keeps no pointer into memory of this call.
        // Resetting also returns every option to its default, so no request inherits from the one before, while
        // the multi handle keeps the open connections.
        defer { curl_easy_reset(handle) }

        let options = Options(handle: handle, url: url)
        let route = try configuration.tls.route(request, url)
        var headers = request.headers
        if let hostHeader = route.hostHeader, !headers.contains(where: { $0.name.lowercased() == "host" }) {
            headers.insert((name: "Host", value: hostHeader), at: 0)
        }
        let body = request.body ?? (["POST", "PUT", "PATCH"].contains(request.method) ? .bytes([]) : nil)
        try Self.appendHeaders(headers, hasBody: body != nil, to: &headerList, url)
        try options.set(CURLOPT_URL, route.url)
        if let entry = route.connectTo {
            try Self.append([entry], to: &connectTo, url)
            try options.set(CURLOPT_CONNECT_TO, connectTo)
        }
        try options.apply(configuration.tls)
        try options.set(CURLOPT_NOSIGNAL, 1)
        try options.set(CURLOPT_ERRORBUFFER, errorBuffer)
        try options.set(CURLOPT_TIMEOUT_MS, request.timeout.map(milliseconds) ?? 0)
        if let connectTimeout = request.connectTimeout {
            try options.set(CURLOPT_CONNECTTIMEOUT_MS, milliseconds(connectTimeout))
        }
        try options.set(CURLOPT_HTTPHEADER, headerList)
        // Fails early when the Content-Length is known; the write callback enforces the limit otherwise. A streamed
        // body goes to its receiver, so the limit does not apply to it.
        if !accumulator.streamsSuccessfulBody {
            try options.set(CURLOPT_MAXFILESIZE_LARGE, size: curl_off_t(maximumResponseSize))
        }
        let context = Unmanaged.passUnretained(accumulator).toOpaque()
        try options.set(CURLOPT_WRITEFUNCTION, receiveBody)
        try options.set(CURLOPT_WRITEDATA, context)
        try options.set(CURLOPT_HEADERFUNCTION, receiveHeader)
        try options.set(CURLOPT_HEADERDATA, context)
        switch body {
        case _ where request.method == "HEAD":
            // Otherwise libcurl would wait for the body that the Content-Length announces.
            try options.set(CURLOPT_NOBODY, 1)
        case .bytes(let bytes):
            try options.set(CURLOPT_POSTFIELDSIZE_LARGE, size: curl_off_t(bytes.count))
            try options.setCopiedPostFields(bytes)
            if request.method != "POST" { try options.set(CURLOPT_CUSTOMREQUEST, request.method) }
        case .file(_, let range):
            try options.set(CURLOPT_UPLOAD, 1)
            try options.set(CURLOPT_INFILESIZE_LARGE, size: curl_off_t(range.count))
            try options.setReader(Unmanaged.passUnretained(reader!).toOpaque())
            if request.method != "PUT" { try options.set(CURLOPT_CUSTOMREQUEST, request.method) }
        case nil:
            if request.method != "GET" { try options.set(CURLOPT_CUSTOMREQUEST, request.method) }
        }

        errorBuffer[0] = 0
        let completion = withExtendedLifetime((accumulator, reader)) {
            run(cancellation: cancellation, idleTimeout: request.idleTimeout)
        }
        let result: CURLcode
        switch completion {
        case .finished(let code): result = code
        case .cancelled: throw .cancelled(url)
        case .idleTimedOut: throw .idleTimeout(url, request.idleTimeout ?? .zero)
        case .multiFailed(let code):
            throw HTTPClientError(
                code: .other,
                url: url.display,
                message: "the request to \(url.display) failed: \(String(cString: curl_multi_strerror(code)))"
            )
        }
        if let failure = reader?.failure {
            throw HTTPClientError(code: .other, url: url.display, message: failure)
        }
        if result == CURLE_FILESIZE_EXCEEDED || accumulator.exceededLimit {
            throw .tooLarge(url, limit: maximumResponseSize)
        }
        if accumulator.receiverStopped {
            throw HTTPClientError(
                code: .other,
                url: url.display,
                message: "the transfer from \(url.display) was stopped by its receiver"
            )
        }
        guard result == CURLE_OK else {
            var osErrno = 0
            _ = ccurl_easy_getinfo_long(handle, CURLINFO_OS_ERRNO, &osErrno)
            // For https, connecting ends with the TLS handshake.
            var connectedAt: curl_off_t = 0
            let isTLS = route.url.lowercased().hasPrefix("https:")
            _ = ccurl_easy_getinfo_off_t(
                handle,
                isTLS ? CURLINFO_APPCONNECT_TIME_T : CURLINFO_CONNECT_TIME_T,
                &connectedAt
            )
            throw HTTPClientError(
                curlCode: result,
                osErrno: osErrno,
                detail: String(cString: errorBuffer),
                url: url,
                request: request,
                connected: connectedAt > 0
            )
        }
        // libcurl takes a connection closed after a status line for a finished response; without its headers it is
        // not one, and a caller would act on a status whose Location, say, never came.
        guard accumulator.headersComplete else {
            throw HTTPClientError(
                code: .receiveFailed,
                url: url.display,
                message: "the connection to \(url.display) closed in the middle of the response headers"
            )
        }
        var status = 0
        _ = ccurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPClientResponse(
            status: status,
            reason: accumulator.reason,
            httpVersion: accumulator.httpVersion,
            headers: accumulator.headers,
            body: accumulator.body
        )
    }

    /// How a transfer in the multi handle ended.
    private enum Completion {
        case finished(CURLcode)
        case cancelled
        case idleTimedOut
        case multiFailed(CURLMcode)
    }

    /// Drives the configured transfer to its end. Waiting in `curl_multi_poll` rather than `curl_easy_perform` lets
    /// a cancellation wake the wait at once, and the idle limit be checked to the millisecond.
    private func run(cancellation: TransferCancellation?, idleTimeout: Duration?) -> Completion {
        let added = curl_multi_add_handle(multi.pointer, handle)
        guard added == CURLM_OK else { return .multiFailed(added) }
        // Removing a handle mid-transfer stops it and closes its connection, which is what cancelling means.
        defer { curl_multi_remove_handle(multi.pointer, handle) }
        let clock = ContinuousClock()
        var lastActivity = clock.now
        var bytesSeen: Int64 = 0
        while true {
            if cancellation?.isCancelled == true { return .cancelled }
            var running: Int32 = 0
            let performed = curl_multi_perform(multi.pointer, &running)
            guard performed == CURLM_OK else { return .multiFailed(performed) }
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi.pointer, &queued) {
                if message.pointee.msg == CURLMSG_DONE { return .finished(ccurl_multi_message_result(message)) }
            }
            // libcurl wakes up for its own timers within this wait; it is an upper bound.
            var wait = Duration.seconds(1)
            if let idleTimeout {
                let now = clock.now
                let moved = bytesMoved()
                if moved != bytesSeen {
                    bytesSeen = moved
                    lastActivity = now
                }
                let remaining = lastActivity + idleTimeout - now
                guard remaining > .zero else { return .idleTimedOut }
                wait = min(wait, remaining)
            }
            if cancellation?.isCancelled == true { return .cancelled }
            _ = curl_multi_poll(multi.pointer, nil, 0, Int32(milliseconds(wait)), nil)
        }
    }

    /// Header and body bytes received plus body bytes sent so far in the current transfer.
    private func bytesMoved() -> Int64 {
        var downloaded: curl_off_t = 0
        var uploaded: curl_off_t = 0
        var headerBytes = 0
        _ = ccurl_easy_getinfo_off_t(handle, CURLINFO_SIZE_DOWNLOAD_T, &downloaded)
        _ = ccurl_easy_getinfo_off_t(handle, CURLINFO_SIZE_UPLOAD_T, &uploaded)
        _ = ccurl_easy_getinfo_long(handle, CURLINFO_HEADER_SIZE, &headerBytes)
        return Int64(downloaded) + Int64(uploaded) + Int64(headerBytes)
    }

    /// Rejects what libcurl would send unchecked: text after a NUL is lost on the way to C, and a line break in the
    /// URL, the method or a header would let the caller's data write extra header lines.
    private static func validate(_ request: HTTPClientRequest, _ url: RedactedURL) throws(HTTPClientError) {
        let lowercased = request.url.lowercased()
        guard lowercased.hasPrefix("http://") || lowercased.hasPrefix("https://") else {
            throw HTTPClientError(
                code: .invalidURL,
                url: url.display,
                message: "invalid URL \(url.display): it must start with http:// or https://"
            )
        }
        guard !request.url.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw HTTPClientError(
                code: .invalidURL,
                url: url.display,
                message: "invalid URL \(url.display): it contains a control character; percent-encode it"
            )
        }
        guard isToken(request.method) else {
            throw HTTPClientError(
                code: .other,
                url: url.display,
                message: "\"\(request.method)\" is not a valid HTTP method for \(url.display)"
            )
        }
        for header in request.headers {
            guard isToken(header.name) else {
                throw HTTPClientError(
                    code: .other,
                    url: url.display,
                    message: "\"\(header.name)\" is not a valid HTTP header name for \(url.display)"
                )
            }
            // The value is left out of the message: it may be a credential.
            guard !header.value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw HTTPClientError(
                    code: .other,
                    url: url.display,
                    message: "the value of header \(header.name) for \(url.display) contains a line break or NUL"
                )
            }
        }
    }

    /// Whether `text` is an RFC 9110 token, the syntax of methods and header names.
    private static func isToken(_ text: String) -> Bool {
        !text.isEmpty
            && text.unicodeScalars.allSatisfy { scalar in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9": true
                default: "!#$%&'*+-.^_`|~".unicodeScalars.contains(scalar)
                }
            }
    }

    private static func appendHeaders(
        _ headers: [(name: String, value: String)],
        hasBody: Bool,
        to list: inout UnsafeMutablePointer<curl_slist>?,
        _ url: RedactedURL
    ) throws(HTTPClientError) {
        // For libcurl, `Name:` removes a header and `Name;` sends it with an empty value.
        var lines = headers.map { $0.value.isEmpty ? "\($0.name);" : "\($0.name): \($0.value)" }
        let names = Set(headers.map { $0.name.lowercased() })
        // libcurl would add `Expect: 100-continue` to larger bodies and wait for a reply many servers never send.
        if !names.contains("expect") { lines.append("Expect:") }
        // libcurl would label every body as a form; its type is for the caller to state.
        if hasBody && !names.contains("content-type") { lines.append("Content-Type:") }
        try append(lines, to: &list, url)
    }

    private static func append(
        _ lines: [String],
        to list: inout UnsafeMutablePointer<curl_slist>?,
        _ url: RedactedURL
    ) throws(HTTPClientError) {
        for line in lines {
            // On failure libcurl leaves the list as it was, for the caller to free.
            guard let extended = curl_slist_append(list, line) else {
                throw HTTPClientError(
                    code: .other,
                    url: url.display,
                    message: "could not build the headers for \(url.display); the process may be out of memory"
                )
            }
            list = extended
        }
    }
}

/// Runs `body` with a new ``HTTPClient``, whose connections are closed when it returns.
///
/// ```swift
/// let status = try withHTTPClient { client in
///     try client.send(HTTPClientRequest(url: "http://127.0.0.1:8080/agnost/ready")).status
/// }
/// ```
public func withHTTPClient<T>(
    configuration: HTTPClient.Configuration = .init(),
    _ body: (HTTPClient) throws -> T
) throws -> T {
    try body(HTTPClient(configuration: configuration))
}

/// Runs `body` with a new ``HTTPClient``, whose connections are closed when it returns.
///
/// ```swift
/// let status = try await withHTTPClient(configuration: .init(tls: clusterTLS)) { client in
///     try await client.execute(HTTPClientRequest(url: apiServer + "/readyz")).status
/// }
/// ```
public func withHTTPClient<T>(
    configuration: HTTPClient.Configuration = .init(),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (HTTPClient) async throws -> T
) async throws -> T {
    try await body(HTTPClient(configuration: configuration))
}

/// Sets options on an easy handle, turning a refused option into an ``HTTPClientError``.
struct Options {
    let handle: UnsafeMutableRawPointer
    let url: RedactedURL

    func set(_ option: CURLoption, _ value: Int) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_long(handle, option, value), option)
    }

    func set(_ option: CURLoption, size value: curl_off_t) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_off_t(handle, option, value), option)
    }

    /// libcurl copies string options, so `value` need not outlive the call.
    func set(_ option: CURLoption, _ value: String) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_string(handle, option, value), option)
    }

    func set(_ option: CURLoption, _ value: UnsafeRawPointer) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_pointer(handle, option, value), option)
    }

    /// The callbacks that read a file body, and the reader they reach through `context`.
    func setReader(_ context: UnsafeMutableRawPointer) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_read_callback(handle, readBody), CURLOPT_READFUNCTION)
        try check(ccurl_easy_setopt_pointer(handle, CURLOPT_READDATA, context), CURLOPT_READDATA)
        try check(ccurl_easy_setopt_seek_callback(handle, seekBody), CURLOPT_SEEKFUNCTION)
        try check(ccurl_easy_setopt_pointer(handle, CURLOPT_SEEKDATA, context), CURLOPT_SEEKDATA)
    }

    func set(_ option: CURLoption, _ value: UnsafeMutablePointer<curl_slist>?) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_slist(handle, option, value), option)
    }

    func set(_ option: CURLoption, _ value: curl_write_callback) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_write_callback(handle, option, value), option)
    }

    /// `CURLOPT_COPYPOSTFIELDS` copies `CURLOPT_POSTFIELDSIZE_LARGE` bytes during the call, so a temporary pointer
    /// is enough. An empty body still needs a non-null pointer, or libcurl would send no body at all.
    func setCopiedPostFields(_ body: [UInt8]) throws(HTTPClientError) {
        let result =
            body.isEmpty
            ? ccurl_easy_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, "")
            : body.withUnsafeBytes { ccurl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
        try check(result, CURLOPT_COPYPOSTFIELDS)
    }

    /// Hands `bytes` to a blob option; libcurl copies them (`CURL_BLOB_COPY`), so they need not outlive the call.
    func setCopiedBlob(_ option: CURLoption, _ bytes: [UInt8]) throws(HTTPClientError) {
        try check(
            bytes.withUnsafeBytes { ccurl_easy_setopt_blob_copy(handle, option, $0.baseAddress, $0.count) },
            option
        )
    }

    /// Clears a string option, such as a default that libcurl was built with.
    func clear(_ option: CURLoption) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_pointer(handle, option, nil), option)
    }

    private func check(_ result: CURLcode, _ option: CURLoption) throws(HTTPClientError) {
        guard result != CURLE_OK else { return }
        let reason = String(cString: curl_easy_strerror(result))
        throw HTTPClientError(
            code: .other,
            url: url.display,
            message: "could not set libcurl option \(option.rawValue) for \(url.display): \(reason)"
        )
    }
}

/// Collects one response from libcurl's callbacks, which reach it through an unretained pointer that is valid
/// because `send` keeps it alive for the whole transfer.
private final class ResponseAccumulator {
    let limit: Int
    /// Where the body of a `2xx` response goes instead of ``body``.
    private let sink: ((UnsafeRawBufferPointer) -> Bool)?
    private var status = 0
    private(set) var exceededLimit = false
    private(set) var receiverStopped = false
    /// Whether the final response's header block arrived to its end.
    private(set) var headersComplete = false
    private(set) var body: [UInt8] = []
    private(set) var httpVersion = ""
    private(set) var reason = ""
    private(set) var headers: [(name: String, value: String)] = []

    init(limit: Int, sink: ((UnsafeRawBufferPointer) -> Bool)?) {
        self.limit = limit
        self.sink = sink
    }

    var streamsSuccessfulBody: Bool { sink != nil }

    /// Returns false, which aborts the transfer, once the body would grow past `limit` or the sink refuses it.
    func appendBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let sink, (200..<300).contains(status) {
            receiverStopped = !sink(bytes)
            return !receiverStopped
        }
        guard bytes.count <= limit - body.count else {
            exceededLimit = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    /// Takes one header line as libcurl delivers it: the status line, a field, or the empty line ending the block.
    func appendHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        // Read as bytes, not Characters: every delimiter is ASCII, and this runs for each line of each response.
        let content = bytes[...].trimmingHTTPWhitespace()
        if content.isEmpty {
            // The blank line that ends a header block; an interim 1xx response is followed by another.
            headersComplete = !(100..<200).contains(status)
        } else if bytes.starts(with: "HTTP/".utf8) {
            headersComplete = false
            // Every response, interim 1xx ones included, starts with a status line, and only the last one counts.
            let parts = content.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
            httpVersion = String(decoding: parts[0], as: UTF8.self)
            status = parts.count > 1 ? Int(String(decoding: parts[1], as: UTF8.self)) ?? 0 : 0
            reason = parts.count > 2 ? String(decoding: parts[2].trimmingHTTPWhitespace(), as: UTF8.self) : ""
            headers = []
        } else if bytes.first == UInt8(ascii: " ") || bytes.first == UInt8(ascii: "\t"), let folded = headers.popLast()
        {
            // An obsolete folded line continues the value of the field before it.
            headers.append((folded.name, folded.value + " " + String(decoding: content, as: UTF8.self)))
        } else if let colon = content.firstIndex(of: UInt8(ascii: ":")) {
            let name = content[..<colon].trimmingHTTPWhitespace()
            let value = content[content.index(after: colon)...].trimmingHTTPWhitespace()
            headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
    }
}

private func receiveBody(
    _ data: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ context: UnsafeMutableRawPointer?
) -> Int {
    let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context!).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
    // Taking fewer bytes than offered makes libcurl abort the transfer.
    return accumulator.appendBody(bytes) ? bytes.count : 0
}

private func receiveHeader(
    _ data: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ context: UnsafeMutableRawPointer?
) -> Int {
    let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context!).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
    accumulator.appendHeaderLine(bytes)
    return bytes.count
}

extension Slice<UnsafeRawBufferPointer> {
    fileprivate func trimmingHTTPWhitespace() -> Self {
        let isWhitespace: (UInt8) -> Bool = {
            $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n")
        }
        guard let first = firstIndex(where: { !isWhitespace($0) }) else { return self[endIndex...] }
        let last = lastIndex(where: { !isWhitespace($0) })!
        return self[first...last]
    }
}
