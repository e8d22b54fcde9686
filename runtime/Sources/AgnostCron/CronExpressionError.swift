/// Why a cron schedule could not be parsed, and where in its text the problem is.
///
/// ```swift
/// do {
///     _ = try CronExpression(parsing: "0 25 * * *")
/// } catch {
///     error.message  // "hour 25 is out of range 0-23"
///     error.offset   // 2
///     error.length   // 2
/// }
/// ```
public struct CronExpressionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A sentence that says what is wrong.
    public let message: String
    /// The 0-based offset, in `Character`s, of the offending token within the schedule's text.
    public let offset: Int
    /// The length of the offending token in `Character`s; at least 1.
    public let length: Int

    init(_ message: String, offset: Int, length: Int) {
        self.message = message
        self.offset = offset
        self.length = max(length, 1)
    }

    public var description: String { message }
}
