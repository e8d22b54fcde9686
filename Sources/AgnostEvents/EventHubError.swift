/// A failure of the event hub or its store.
///
/// ```swift
/// do { try await withEventHub(configuration) { hub in … } } catch let error as EventHubError {
///     print(error.code, error.message)   // storage "cannot write /…/events.log: No space left on device"
/// }
/// ```
public struct EventHubError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The state directory or its log could not be read, written or synced.
        case storage
        /// A cron job's time zone is unknown, or its schedule does not parse.
        case invalidSchedule
        /// The ingress could not listen.
        case cannotListen
        /// No queue, cron job or dead letter by that name or number.
        case notFound
        /// Another process holds the state directory's log.
        case locked
        /// The hub of a running server could not be reached or refused the request.
        case unreachable
    }

    public let code: Code
    public let message: String
    /// The file, queue or job the failure is about.
    public let context: String
    /// The error that caused this one, when there is one.
    public let underlying: (any Error & Sendable)?

    init(_ code: Code, _ message: String, context: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.context = context
        self.underlying = underlying
    }

    public var description: String { message }
}
