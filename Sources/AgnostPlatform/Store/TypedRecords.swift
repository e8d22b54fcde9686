import Foundation

/// A model the platform keeps as one record of a ``PlatformStore``, as JSON.
public protocol PlatformRecord: Codable, Sendable {
    static var kind: RecordKind { get }
    /// Where the record is kept; unique per record.
    var key: RecordKey { get }
}

/// A record's value and the revision it was read or written at, which an update must name (the API's ETag).
public struct Revisioned<Value: Sendable>: Sendable {
    public var value: Value
    public var revision: Int

    public init(value: Value, revision: Int) {
        self.value = value
        self.revision = revision
    }
}

extension Revisioned: Equatable where Value: Equatable {}

/// One page of typed records and the cursor of the next page, nil on the last.
public struct RecordPage<Value: Sendable>: Sendable {
    public var items: [Revisioned<Value>]
    public var next: String?
}

extension App: PlatformRecord {
    public static let kind = RecordKind.app
    public var key: RecordKey { RecordKey(.app, name: name) }
}

extension AppVersion: PlatformRecord {
    public static let kind = RecordKind.version
    public var key: RecordKey { RecordKey(.version, scope: app, name: name) }
}

extension Resource: PlatformRecord {
    public static let kind = RecordKind.resource
    public var key: RecordKey { RecordKey(.resource, scope: app ?? "", name: name) }
}

extension APIKey: PlatformRecord {
    public static let kind = RecordKind.apiKey
    public var key: RecordKey { RecordKey(.apiKey, scope: "\(app)/\(version)", name: name) }
}

extension AccessToken: PlatformRecord {
    public static let kind = RecordKind.accessToken
    public var key: RecordKey { RecordKey(.accessToken, name: id) }
}

extension Deployment: PlatformRecord {
    public static let kind = RecordKind.deployment
    public var key: RecordKey { RecordKey(.deployment, scope: "\(app)/\(version)", name: id) }
}

/// Typed access to a store's records, encoded as JSON with RFC 3339 dates to the millisecond.
///
/// ```swift
/// let created = try await store.create(App(name: "todo", description: "", createdAt: now, updatedAt: now))
/// var app = created.value
/// app.description = "Todos"
/// let updated = try await store.update(app, ifRevision: created.revision)
/// ```
extension PlatformStore {
    public func create<Value: PlatformRecord>(_ value: Value) async throws(StoreError) -> Revisioned<Value> {
        let stored = try await create(value.key, body: try RecordCoding.encode(value))
        return Revisioned(value: value, revision: stored.revision)
    }

    public func fetch<Value: PlatformRecord>(
        _ type: Value.Type,
        scope: String = "",
        name: String
    ) async throws(StoreError) -> Revisioned<Value>? {
        guard let stored = try await record(RecordKey(Value.kind, scope: scope, name: name)) else { return nil }
        return try RecordCoding.decode(stored)
    }

    public func update<Value: PlatformRecord>(
        _ value: Value,
        ifRevision revision: Int
    ) async throws(StoreError) -> Revisioned<Value> {
        let stored = try await update(value.key, body: try RecordCoding.encode(value), ifRevision: revision)
        return Revisioned(value: value, revision: stored.revision)
    }

    public func list<Value: PlatformRecord>(
        _ type: Value.Type,
        scope: String = "",
        after cursor: String? = nil,
        limit: Int
    ) async throws(StoreError) -> RecordPage<Value> {
        let page = try await list(Value.kind, scope: scope, after: cursor, limit: limit)
        var items: [Revisioned<Value>] = []
        for stored in page.records { items.append(try RecordCoding.decode(stored)) }
        return RecordPage(items: items, next: page.next)
    }
}

enum RecordCoding {
    /// Dates as the API shows them: RFC 3339 in UTC to the millisecond, `2026-12-03T12:18:57.426Z`.
    ///
    /// Written from whole milliseconds, not with `ISO8601FormatStyle`'s fractional seconds, which truncate the
    /// binary fraction and so do not read back to the date they wrote.
    static func format(_ date: Date) -> String {
        let milliseconds = Self.milliseconds(date)
        let (seconds, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let (wholeSeconds, positiveFraction) = fraction < 0 ? (seconds - 1, fraction + 1000) : (seconds, fraction)
        let base = Date(timeIntervalSince1970: Double(wholeSeconds)).formatted(.iso8601)
        let digits = String(positiveFraction)
        return base.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// The date of an RFC 3339 time in UTC, to the millisecond; nil when `text` is not one.
    static func parse(_ text: String) -> Date? {
        guard text.hasSuffix("Z") else { return nil }
        let parts = text.dropLast().split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let base = try? Date.ISO8601FormatStyle().parse(parts[0] + "Z") else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int64(digits.prefix(3)),
                digits.allSatisfy(\.isNumber)
            else { return nil }
            fraction = value * [100, 10, 1][digits.prefix(3).count - 1]
        }
        return date(milliseconds: Int64(base.timeIntervalSince1970.rounded()) * 1000 + fraction)
    }

    /// `date` as a record keeps it, to the millisecond, so that a value compares equal to itself stored and read.
    static func storable(_ date: Date) -> Date {
        Self.date(milliseconds: milliseconds(date))
    }

    private static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    private static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    static func encode<Value: Encodable>(_ value: Value) throws(StoreError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(format(date))
        }
        encoder.outputFormatting = [.sortedKeys]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw StoreError(.storage, "a \(Value.self) cannot be encoded: \(error)", context: "\(Value.self)")
        }
    }

    static func decode<Value: PlatformRecord>(_ stored: StoredRecord) throws(StoreError) -> Revisioned<Value> {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "'\(text)' is not an RFC 3339 time"
                )
            }
            return date
        }
        do {
            return Revisioned(value: try decoder.decode(Value.self, from: Data(stored.body)), revision: stored.revision)
        } catch {
            throw StoreError(
                .storage,
                "the stored \(stored.key) is not a \(Value.self) this platform can read: \(error)",
                context: stored.key.description
            )
        }
    }
}
