import AgnostBundle
import AgnostDigest
import Foundation

/// Reads a CloudEvent POSTed to the broker ingress, in binary mode (`ce-` headers, the body is the data) or
/// structured mode (`application/cloudevents+json`), and checks it as the hub's broker: without I/O.
struct IngressRequest: Sendable {
    /// Why a request is refused, and with which status.
    struct Rejection: Error, Sendable, Hashable {
        var status: Int
        var reason: String
    }

    /// The message for the hub's store and its own not-before time, if it names one.
    var message: QueueMessage
    var notBefore: Date?

    /// The context attributes every event needs.
    static let requiredAttributes = ["specversion", "id", "source", "type"]

    /// Parses `body` and its headers (any case) into a message for one of `queues` of `service`, authenticated by
    /// the queue sender token whose SHA-256 is `tokenDigest`: digests compare in constant time whatever the lengths.
    init(
        headers: [(name: String, value: String)],
        body: [UInt8],
        service: String,
        queues: [String],
        tokenDigest: SHA256Digest
    ) throws(Rejection) {
        var attributes: [String: String] = [:]
        var contentType: String?
        var data = body
        let mediaType = headers.first { $0.name.lowercased() == "content-type" }?.value
        let essence = mediaType.map(Self.essence(of:))
        if essence == "application/cloudevents+json" {
            (attributes, contentType, data) = try Self.structured(body)
        } else if essence == "application/cloudevents-batch+json" {
            throw Rejection(status: 400, reason: "batched events are not accepted; send one event per request")
        } else {
            for (name, value) in headers {
                let lowered = name.lowercased()
                guard lowered.hasPrefix("ce-") else { continue }
                attributes[String(lowered.dropFirst(3))] = value
            }
            contentType = mediaType
        }
        for name in Self.requiredAttributes where (attributes[name] ?? "").isEmpty {
            throw Rejection(status: 400, reason: "the event has no '\(name)' attribute")
        }
        guard attributes["specversion"] == "1.0" else {
            throw Rejection(status: 400, reason: "specversion '\(attributes["specversion"]!)' is not 1.0")
        }
        if let invalid = attributes.keys.filter({ !Self.isValidName($0) }).min() {
            throw Rejection(
                status: 400,
                reason: "attribute name '\(invalid)' must be lowercase letters and digits (CloudEvents 1.0)"
            )
        }
        let presented = attributes.removeValue(forKey: EventContract.Extension.token) ?? ""
        guard SHA256.hash(Array(presented.utf8)).constantTimeEquals(tokenDigest) else {
            throw Rejection(status: 401, reason: "the event does not carry this version's queue sender token")
        }
        attributes[EventContract.Extension.attempt] = nil
        guard let target = attributes[EventContract.Extension.service], target == service else {
            throw Rejection(
                status: 400,
                reason:
                    "attribute '\(EventContract.Extension.service)' must be '\(service)', the version this hub serves"
            )
        }
        guard let queue = attributes[EventContract.Extension.queue], !queue.isEmpty else {
            throw Rejection(status: 400, reason: "the event has no '\(EventContract.Extension.queue)' attribute")
        }
        guard queues.contains(queue) else {
            let known = queues.isEmpty ? "it has none" : "its queues are " + queues.joined(separator: ", ")
            throw Rejection(status: 404, reason: "\(service) has no queue '\(queue)'; \(known)")
        }
        if let text = attributes[EventContract.Extension.notBefore] {
            guard let date = Self.parseTimestamp(text) else {
                throw Rejection(
                    status: 400,
                    reason: "attribute '\(EventContract.Extension.notBefore)' is not an RFC 3339 time: '\(text)'"
                )
            }
            notBefore = date
        }
        message = QueueMessage(queue: queue, attributes: attributes, contentType: contentType, body: data)
    }

    /// A structured-mode event: a JSON object of attributes whose `data` or `data_base64` is the payload.
    private static func structured(
        _ body: [UInt8]
    ) throws(Rejection) -> (attributes: [String: String], contentType: String?, data: [UInt8]) {
        guard
            let object = (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]))
                as? [String: Any]
        else {
            throw Rejection(status: 400, reason: "the structured event is not a JSON object")
        }
        var attributes: [String: String] = [:]
        var contentType: String?
        var data: [UInt8] = []
        for (name, value) in object {
            switch name {
            case "data": continue
            case "data_base64":
                guard let text = value as? String, let decoded = Data(base64Encoded: text) else {
                    throw Rejection(status: 400, reason: "data_base64 is not base64 text")
                }
                data = Array(decoded)
            case "datacontenttype":
                contentType = value as? String
            default:
                switch value {
                case let text as String: attributes[name] = text
                case let number as NSNumber: attributes[name] = number.stringValue
                default: throw Rejection(status: 400, reason: "attribute '\(name)' is not a string, number or boolean")
                }
            }
        }
        if let value = object["data"] {
            let isJSON = contentType.map { essence(of: $0).hasSuffix("json") } ?? true
            if let text = value as? String, !isJSON {
                data = Array(text.utf8)
            } else {
                guard let encoded = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])
                else {
                    throw Rejection(status: 400, reason: "data cannot be encoded as JSON")
                }
                data = Array(encoded)
                if contentType == nil { contentType = "application/json" }
            }
        }
        return (attributes, contentType, data)
    }

    /// The media type without parameters, lowercased: `application/json` of `Application/JSON; charset=utf-8`.
    static func essence(of mediaType: String) -> String {
        let type = mediaType.utf8.prefix { $0 != UInt8(ascii: ";") }
        let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let trimmed = type.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
        return String(decoding: trimmed, as: UTF8.self).lowercased()
    }

    private static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }
    }

    /// An RFC 3339 timestamp, with or without fractional seconds.
    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// `date` in RFC 3339 with milliseconds, UTC, as CloudEvents' `time`.
    static func formatTimestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
