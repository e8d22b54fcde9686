/// A failure of a ``PlatformStore``, with what the REST API answers for it.
///
/// ```swift
/// do { _ = try await store.create(record) } catch {
///     if error.code == .duplicate { … }   // 409: "an app named todo exists already"
/// }
/// ```
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A record with that key exists already.
        case duplicate
        /// No record has that key.
        case notFound
        /// The record has changed since the revision the caller read.
        case revisionConflict
        /// The store cannot be reached or is busy; trying again later may succeed.
        case unavailable
        /// The store's file or server failed, or holds something that is not a record.
        case storage
    }

    public let code: Code
    public let message: String
    /// The record key, file or server the failure is about.
    public let context: String
    /// The error that caused this one, when there is one.
    public let underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, context: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.context = context
        self.underlying = underlying
    }

    public var description: String { message }
}

extension StoreError {
    /// Why an update or delete of `key` from revision `expected` changed nothing: the record is gone (`current`
    /// nil) or at another revision.
    static func unchanged(_ key: RecordKey, at current: Int?, expected: Int?) -> StoreError {
        guard let current else { return StoreError(.notFound, "no \(key)", context: key.description) }
        return StoreError(
            .revisionConflict,
            "\(key) is at revision \(current), not \(expected ?? 0): read it again and retry",
            context: key.description
        )
    }
}
