import Foundation

/// The binary form of ``EventRecord`` in the event log's frames: a tag byte, then the fields in order. Integers are
/// LEB128 varints, strings and byte strings a varint length and their bytes, dates the bits of their
/// `timeIntervalSinceReferenceDate`, optionals a 0 or 1 byte before the value. Encoding each record by hand, not with
/// `JSONEncoder`, takes a share of the hub's time per message off it.
extension EventRecord {
    private enum Tag: UInt8 {
        case accepted = 1
        case failed, acknowledged, deadLettered, replayed
    }

    /// Appends the record's binary form to `bytes`.
    func encode(into bytes: inout [UInt8]) {
        // Moved into the writer and back, so that the array is never copied.
        var writer = RecordWriter(bytes: bytes)
        bytes = []
        switch self {
        case .accepted(let sequence, let message, let attempt, let dueAt):
            writer.tag(Tag.accepted.rawValue)
            writer.integer(sequence)
            writer.message(message)
            writer.integer(attempt)
            writer.date(dueAt)
        case .failed(let sequence, let attempt, let failure, let retryAt):
            writer.tag(Tag.failed.rawValue)
            writer.integer(sequence)
            writer.integer(attempt)
            writer.failure(failure)
            writer.date(retryAt)
        case .acknowledged(let sequence):
            writer.tag(Tag.acknowledged.rawValue)
            writer.integer(sequence)
        case .deadLettered(let sequence, let attempts, let failure, let at, let movedTo):
            writer.tag(Tag.deadLettered.rawValue)
            writer.integer(sequence)
            writer.integer(attempts)
            writer.failure(failure)
            writer.date(at)
            writer.optional(movedTo) { $0.integer($1) }
        case .replayed(let sequence, let dueAt):
            writer.tag(Tag.replayed.rawValue)
            writer.integer(sequence)
            writer.date(dueAt)
        }
        bytes = writer.bytes
    }

    /// The record whose binary form is `bytes`, all of them; nil when they are not one.
    init?(binary bytes: ArraySlice<UInt8>) {
        var reader = RecordReader(bytes: bytes)
        guard let record = Self.read(&reader), reader.isAtEnd else { return nil }
        self = record
    }

    private static func read(_ reader: inout RecordReader) -> EventRecord? {
        guard let tag = reader.byte().flatMap(Tag.init(rawValue:)), let sequence = reader.integer(UInt64.self) else {
            return nil
        }
        switch tag {
        case .accepted:
            guard let message = reader.message(), let attempt = reader.integer(Int.self), let dueAt = reader.date()
            else { return nil }
            return .accepted(sequence: sequence, message: message, attempt: attempt, dueAt: dueAt)
        case .failed:
            guard let attempt = reader.integer(Int.self), let failure = reader.failure(), let retryAt = reader.date()
            else { return nil }
            return .failed(sequence: sequence, attempt: attempt, failure: failure, retryAt: retryAt)
        case .acknowledged:
            return .acknowledged(sequence: sequence)
        case .deadLettered:
            guard let attempts = reader.integer(Int.self), let failure = reader.failure(), let at = reader.date(),
                let movedTo = reader.optional({ $0.integer(UInt64.self) })
            else { return nil }
            return .deadLettered(sequence: sequence, attempts: attempts, failure: failure, at: at, movedTo: movedTo)
        case .replayed:
            guard let dueAt = reader.date() else { return nil }
            return .replayed(sequence: sequence, dueAt: dueAt)
        }
    }
}

private struct RecordWriter {
    var bytes: [UInt8]

    mutating func tag(_ value: UInt8) { bytes.append(value) }

    mutating func integer<T: BinaryInteger>(_ value: T) {
        // Counts and sequence numbers are never negative; a negative one would be a bug upstream, kept as 0.
        var remaining = UInt64(clamping: value)
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    mutating func data<C: Collection<UInt8>>(_ value: C) {
        integer(value.count)
        bytes.append(contentsOf: value)
    }

    mutating func string(_ value: String) { data(value.utf8) }

    mutating func date(_ value: Date) {
        let bits = value.timeIntervalSinceReferenceDate.bitPattern
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> shift)) }
    }

    mutating func optional<T>(_ value: T?, _ write: (inout RecordWriter, T) -> Void) {
        guard let value else { return bytes.append(0) }
        bytes.append(1)
        write(&self, value)
    }

    mutating func failure(_ value: DeliveryFailure) {
        switch value {
        case .status(let status):
            bytes.append(0)
            integer(status)
        case .transport(let reason):
            bytes.append(1)
            string(reason)
        }
    }

    mutating func message(_ value: QueueMessage) {
        string(value.queue)
        integer(value.attributes.count)
        // In name order, so that one message always encodes to the same bytes.
        for (name, attribute) in value.attributes.sorted(by: { $0.key < $1.key }) {
            string(name)
            string(attribute)
        }
        optional(value.contentType) { $0.string($1) }
        data(value.body)
        optional(value.origin) { writer, origin in
            writer.string(origin.queue)
            writer.integer(origin.attempts)
            writer.failure(origin.lastFailure)
        }
    }
}

private struct RecordReader {
    let bytes: ArraySlice<UInt8>
    var offset: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        offset = bytes.startIndex
    }

    var isAtEnd: Bool { offset == bytes.endIndex }

    mutating func byte() -> UInt8? {
        guard offset < bytes.endIndex else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            guard let byte = byte() else { return nil }
            value |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return T(exactly: value) }
        }
        return nil
    }

    mutating func data() -> ArraySlice<UInt8>? {
        guard let count = integer(Int.self), count <= bytes.endIndex - offset else { return nil }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func string() -> String? {
        data().flatMap { String(validating: $0, as: UTF8.self) }
    }

    mutating func date() -> Date? {
        guard bytes.endIndex - offset >= 8 else { return nil }
        defer { offset += 8 }
        let bits = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
        return Date(timeIntervalSinceReferenceDate: Double(bitPattern: bits))
    }

    /// nil when the bytes are not an optional; `.some(nil)` for an absent value.
    mutating func optional<T>(_ read: (inout RecordReader) -> T?) -> T?? {
        switch byte() {
        case 0: return .some(nil)
        case 1: return read(&self).map { .some($0) }
        default: return nil
        }
    }

    mutating func failure() -> DeliveryFailure? {
        switch byte() {
        case 0: return integer(Int.self).map { .status($0) }
        case 1: return string().map { .transport($0) }
        default: return nil
        }
    }

    mutating func message() -> QueueMessage? {
        guard let queue = string(), let count = integer(Int.self), count <= bytes.endIndex - offset else { return nil }
        var attributes: [String: String] = [:]
        attributes.reserveCapacity(count)
        for _ in 0..<count {
            guard let name = string(), let value = string() else { return nil }
            attributes[name] = value
        }
        guard let contentType = optional({ $0.string() }), let body = data() else { return nil }
        let origin = optional { reader -> DeadLetterOrigin? in
            guard let queue = reader.string(), let attempts = reader.integer(Int.self),
                let failure = reader.failure()
            else { return nil }
            return DeadLetterOrigin(queue: queue, attempts: attempts, lastFailure: failure)
        }
        guard let origin else { return nil }
        return QueueMessage(
            queue: queue,
            attributes: attributes,
            contentType: contentType,
            body: Array(body),
            origin: origin
        )
    }
}
