import Synchronization

/// Request ids: the caller's `X-Request-Id` when it is safe to echo, else a fresh one.
///
/// Fresh ids are a random per-process prefix and a counter, 32 hex digits like a trace id: unique without a
/// random-number syscall per request.
package enum RequestID {
    private static let prefix = UInt64.random(in: .min ... .max)
    private static let counter = Atomic<UInt64>(0)

    static func make(propagating incoming: String?) -> String {
        if let incoming, isSafe(incoming) { return incoming }
        let sequence = counter.add(1, ordering: .relaxed).newValue
        var text = [UInt8](repeating: 0, count: 32)
        write(prefix, into: &text, at: 0)
        write(sequence, into: &text, at: 16)
        return String(decoding: text, as: UTF8.self)
    }

    /// 128 random bits as 32 hex digits: the id of a queue message, unique across every sender.
    package static func random() -> String {
        var text = [UInt8](repeating: 0, count: 32)
        write(UInt64.random(in: .min ... .max), into: &text, at: 0)
        write(UInt64.random(in: .min ... .max), into: &text, at: 16)
        return String(decoding: text, as: UTF8.self)
    }

    /// Printable ASCII without spaces or quotes, at most 128 characters: an id that cannot forge log lines.
    private static func isSafe(_ id: String) -> Bool {
        let utf8 = id.utf8
        return !utf8.isEmpty && utf8.count <= 128
            && utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }

    private static func write(_ value: UInt64, into text: inout [UInt8], at offset: Int) {
        let digits: StaticString = "0123456789abcdef"
        for index in 0..<16 {
            let nibble = Int((value >> UInt64(60 - index * 4)) & 0xf)
            text[offset + index] = digits.utf8Start[nibble]
        }
    }
}
