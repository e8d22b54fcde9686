import Foundation
import Synchronization

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
    /// binary fraction and so do not read back to the date they wrote; and by hand, as every record read and every
    /// answer has a few and the format style took a tenth of a version list's time.
    static func format(_ date: Date) -> String {
        let (days, millisecondOfDay) = milliseconds(date).floorDivided(by: 86_400_000)
        let (year, month, day) = civil(days: days)
        let fields: [(value: Int, digits: Int, then: UInt8)] = [
            (year, 4, UInt8(ascii: "-")), (month, 2, UInt8(ascii: "-")), (day, 2, UInt8(ascii: "T")),
            (millisecondOfDay / 3_600_000, 2, UInt8(ascii: ":")),
            (millisecondOfDay / 60_000 % 60, 2, UInt8(ascii: ":")),
            (millisecondOfDay / 1000 % 60, 2, UInt8(ascii: ".")), (millisecondOfDay % 1000, 3, UInt8(ascii: "Z")),
        ]
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        for field in fields {
            var divisor = [1, 10, 100, 1000][field.digits - 1]
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(field.value / divisor % 10))
                divisor /= 10
            }
            bytes.append(field.then)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The date of an RFC 3339 time in UTC (`2026-12-03T12:18:57Z`, with a fraction of any length or none), to the
    /// millisecond; nil when `text` is not one.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        let separators: [(Int, Character)] = [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")]
        guard separators.allSatisfy({ bytes[$0.0] == $0.1.asciiValue }),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var milliseconds = 0
        if bytes.count > 20 {
            // `.` and at least one digit before the Z.
            guard bytes[19] == UInt8(ascii: "."), bytes.count > 21, number(20..<(bytes.count - 1)) != nil,
                let leading = number(20..<min(23, bytes.count - 1))
            else { return nil }
            milliseconds = leading * [100, 10, 1][min(23, bytes.count - 1) - 21]
        }
        let seconds = days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return date(milliseconds: Int64(seconds) * 1000 + Int64(milliseconds))
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's `days_from_civil`).
    private static func days(year: Int, month: Int, day: Int) -> Int {
        let year = month <= 2 ? year - 1 : year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The calendar date `days` after 1970-01-01, the inverse of ``days(year:month:day:)``.
    private static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        guard month == 2 else { return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] }
        return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
    }

    /// `date` as a record keeps it, to the millisecond, so that a value compares equal to itself stored and read.
    static func storable(_ date: Date) -> Date {
        Self.date(milliseconds: Int64(milliseconds(date)))
    }

    private static func milliseconds(_ date: Date) -> Int {
        Int((date.timeIntervalSince1970 * 1000).rounded())
    }

    private static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// One for every record: made once, as a list decodes a record per row and a coder's set-up was a tenth of it.
    private static let encoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(format(date))
        }
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    private static let decoder = {
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
        return decoder
    }()

    static func encode<Value: Encodable>(_ value: Value) throws(StoreError) -> [UInt8] {
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw StoreError(.storage, "a \(Value.self) cannot be encoded: \(error)", context: "\(Value.self)")
        }
    }

    /// Records decoded lately, so that one read again unchanged is not decoded again.
    private static let decoded = DecodedRecords(byteBudget: 8 << 20)

    static func decode<Value: PlatformRecord>(_ stored: StoredRecord) throws(StoreError) -> Revisioned<Value> {
        if let value = decoded.value(of: stored, as: Value.self) {
            return Revisioned(value: value, revision: stored.revision)
        }
        do {
            let value = try decoder.decode(Value.self, from: Data(stored.body))
            decoded.remember(value, of: stored)
            return Revisioned(value: value, revision: stored.revision)
        } catch {
            throw StoreError(
                .storage,
                "the stored \(stored.key) is not a \(Value.self) this platform can read: \(error)",
                context: stored.key.description
            )
        }
    }
}

extension Int {
    /// The quotient rounded toward minus infinity and the remainder in `0..<divisor`, as dates before 1970 need.
    fileprivate func floorDivided(by divisor: Int) -> (quotient: Int, remainder: Int) {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}

/// The values that records' bodies decoded to, by key, each with the body it came from: a record read again is
/// decoded again only when its body changed. Decoding is a function of the body alone, so an entry can never be
/// stale: it is used only when the body just read is byte for byte the one it was decoded from (a record deleted and
/// made again, at revision 1 again, included). Reads outnumber writes by far in a control plane, and decoding the
/// JSON of every row was a fifth of a version list's time (benchmarks/platform).
final class DecodedRecords: Sendable {
    private struct Entry {
        var body: [UInt8]
        var value: any Sendable
    }

    private struct State {
        var entries: [RecordKey: Entry] = [:]
        var bytes = 0
    }

    /// The bodies kept, in bytes, past which the memory starts again empty.
    private let byteBudget: Int
    private let state = Mutex(State())

    init(byteBudget: Int) {
        self.byteBudget = byteBudget
    }

    func value<Value>(of stored: StoredRecord, as type: Value.Type) -> Value? {
        state.withLock { state in
            guard let entry = state.entries[stored.key], entry.body == stored.body else { return nil }
            return entry.value as? Value
        }
    }

    func remember(_ value: some Sendable, of stored: StoredRecord) {
        guard stored.body.count <= byteBudget / 16 else { return }
        state.withLock { state in
            if state.bytes + stored.body.count > byteBudget { state = State() }
            state.bytes += stored.body.count - (state.entries[stored.key]?.body.count ?? 0)
            state.entries[stored.key] = Entry(body: stored.body, value: value)
        }
    }
}
