import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where finished log lines go; one call per line, so concurrent lines never interleave.
///
/// The server writes to ``StandardOutputLog``; tests collect lines in memory to assert on them.
public protocol LogOutput: Sendable {
    func write(line: [UInt8])
}

/// Writes each line to stdout with a single `write(2)`, so lines from concurrent requests stay whole.
public struct StandardOutputLog: LogOutput {
    public init() {}

    public func write(line: [UInt8]) {
        line.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}

/// `json`: one JSON object per line, for log collectors. `text`: aligned and short, for a terminal.
public enum LogFormat: String, Sendable, CaseIterable {
    case json
    case text
}

/// A value of a log field; numbers stay numbers in JSON.
enum LogValue: Sendable {
    case string(String)
    case int(Int)
    case milliseconds(Double)
}

/// Renders log records in one of the ``LogFormat``s.
struct LogRenderer: Sendable {
    let format: LogFormat

    func render(level: Logger.Level, message: String, fields: [(String, LogValue)]) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(192)
        switch format {
        case .json:
            line.append(contentsOf: "{\"time\":\"".utf8)
            appendTimestamp(to: &line, timeOnly: false)
            line.append(contentsOf: "\",\"level\":\"".utf8)
            line.append(contentsOf: level.rawValue.utf8)
            line.append(contentsOf: "\",\"message\":".utf8)
            JSONText.appendString(message, to: &line)
            for (key, value) in fields {
                line.append(UInt8(ascii: ","))
                JSONText.appendString(key, to: &line)
                line.append(UInt8(ascii: ":"))
                switch value {
                case .string(let text): JSONText.appendString(text, to: &line)
                case .int(let number): line.append(contentsOf: String(number).utf8)
                case .milliseconds(let value): line.append(contentsOf: Self.formatMilliseconds(value).utf8)
                }
            }
            line.append(UInt8(ascii: "}"))
        case .text:
            appendTimestamp(to: &line, timeOnly: true)
            line.append(UInt8(ascii: " "))
            let name = level.rawValue.uppercased()
            line.append(contentsOf: name.utf8)
            line.append(contentsOf: repeatElement(UInt8(ascii: " "), count: max(1, 9 - name.utf8.count)))
            line.append(contentsOf: message.utf8)
            for (key, value) in fields {
                line.append(UInt8(ascii: " "))
                line.append(contentsOf: key.utf8)
                line.append(UInt8(ascii: "="))
                switch value {
                case .string(let text): line.append(contentsOf: text.utf8)
                case .int(let number): line.append(contentsOf: String(number).utf8)
                case .milliseconds(let value): line.append(contentsOf: "\(Self.formatMilliseconds(value))ms".utf8)
                }
            }
        }
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// Three decimals: microsecond resolution without float noise in the logs.
    static func formatMilliseconds(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// UTC, `2026-11-26T10:30:00.123Z` (or just the time for terminals).
    private func appendTimestamp(to line: inout [UInt8], timeOnly: Bool) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func append(_ value: Int32, digits: Int) {
            var divisor: Int32 = 1
            for _ in 1..<digits { divisor *= 10 }
            var remaining = value
            while divisor > 0 {
                line.append(UInt8(ascii: "0") + UInt8(remaining / divisor))
                remaining %= divisor
                divisor /= 10
            }
        }
        if !timeOnly {
            append(parts.tm_year + 1900, digits: 4)
            line.append(UInt8(ascii: "-"))
            append(parts.tm_mon + 1, digits: 2)
            line.append(UInt8(ascii: "-"))
            append(parts.tm_mday, digits: 2)
            line.append(UInt8(ascii: "T"))
        }
        append(parts.tm_hour, digits: 2)
        line.append(UInt8(ascii: ":"))
        append(parts.tm_min, digits: 2)
        line.append(UInt8(ascii: ":"))
        append(parts.tm_sec, digits: 2)
        line.append(UInt8(ascii: "."))
        append(Int32(now.tv_nsec / 1_000_000), digits: 3)
        if !timeOnly { line.append(UInt8(ascii: "Z")) }
    }
}

/// JSON string escaping for log lines and error bodies, without an encoder.
enum JSONText {
    static func appendString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: "\\\\".utf8)
            case UInt8(ascii: "\n"): output.append(contentsOf: "\\n".utf8)
            case UInt8(ascii: "\r"): output.append(contentsOf: "\\r".utf8)
            case UInt8(ascii: "\t"): output.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                output.append(contentsOf: "\\u00".utf8)
                output.append(digits[Int(byte >> 4)])
                output.append(digits[Int(byte & 0x0f)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

/// The swift-log backend of the runtime: handlers' `context.logger` and the server's own messages.
struct RuntimeLogHandler: LogHandler {
    let output: any LogOutput
    let renderer: LogRenderer
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(output: any LogOutput, format: LogFormat, level: Logger.Level) {
        self.output = output
        self.renderer = LogRenderer(format: format)
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [(String, LogValue)] = []
        let merged = event.metadata.map { metadata.merging($0) { _, new in new } } ?? metadata
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            fields.append((key, .string(value.description)))
        }
        output.write(line: renderer.render(level: event.level, message: event.message.description, fields: fields))
    }
}
