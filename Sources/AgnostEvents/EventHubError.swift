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
    }

    public let code: Code
    public let message: String
    /// The file, queue or job the failure is about.
    public let context: String

    init(_ code: Code, _ message: String, context: String) {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String { message }
}
