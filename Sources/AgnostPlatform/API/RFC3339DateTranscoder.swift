import Foundation
import OpenAPIRuntime

/// Dates of the API as `format: date-time` (RFC 3339) has them: any such time is read, with or without fractional
/// seconds and in any offset, and every date is written in UTC to the millisecond, as the records keep it.
///
/// The runtime's `.iso8601WithFractionalSeconds` refuses `2026-12-31T00:00:00Z`, a valid RFC 3339 time a client
/// may well send as a key's `expiresAt`; `.iso8601` would refuse the platform's own times with milliseconds.
struct RFC3339DateTranscoder: DateTranscoder {
    func encode(_ date: Date) throws -> String {
        RecordCoding.format(date)
    }

    func decode(_ text: String) throws -> Date {
        guard let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: [],
                    debugDescription: "'\(text)' is not an RFC 3339 time, such as 2026-12-31T00:00:00Z"
                )
            )
        }
        return date
    }
}
