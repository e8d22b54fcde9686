import AgnostBundle
import HTTPTypes
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A CloudEvent 1.0 received over HTTP, in binary or structured mode, as a value with no I/O.
///
/// Parsing follows the CloudEvents HTTP protocol binding: binary mode carries the attributes in `ce-` headers
/// (percent-encoded) and the data as the body; structured mode carries the whole event as one JSON object with
/// `data` or `data_base64`. Batches are not accepted: every delivery is one event, so that its status answers
/// for exactly one event.
struct CloudEvent: Sendable, Equatable {
    static let structuredMediaType = "application/cloudevents+json"
    static let batchMediaType = "application/cloudevents-batch+json"

    var id: String
    var source: String
    var type: String
    var time: Date?
    var dataContentType: String?
    var data: ByteBuffer
    /// Every other attribute, optional or extension, by lowercase name, as text.
    var extensions: [String: String]

    /// The event in `headers` and `body`, or the 400 or 415 that says what is wrong with it.
    static func parse(headers: HTTPFields, body: ByteBuffer) throws(HTTPError) -> CloudEvent {
        let contentType = headers[.contentType]
        let mediaType = contentType.map { mediaTypeOf($0) }
        if mediaType == batchMediaType {
            throw HTTPError(.unsupportedMediaType, "batched CloudEvents are not accepted: send one event per request")
        }
        if mediaType == structuredMediaType {
            return try structured(body)
        }
        if let mediaType, mediaType.hasPrefix("application/cloudevents") {
            throw HTTPError(
                .unsupportedMediaType,
                "the structured event format \(mediaType) is not supported: use \(structuredMediaType) or binary mode"
            )
        }
        return try binary(headers: headers, contentType: contentType, body: body)
    }

    /// The token the event carries as its ``EventContract/Extension/token`` attribute, read without parsing
    /// the whole event: the caller is authenticated before anything else about the event is answered.
    static func presentedToken(headers: HTTPFields, body: ByteBuffer) -> String? {
        if let value = headers[HTTPField.Name("ce-" + EventContract.Extension.token)!] {
            return PercentEncoding.decodeHeaderValue(value[...])
        }
        guard headers[.contentType].map({ mediaTypeOf($0) }) == structuredMediaType,
            let members = try? JSONObjectScanner.members(of: Array(body.readableBytesView))
        else { return nil }
        for member in members where member.name == EventContract.Extension.token {
            if case .string(let token) = member.value { return token }
        }
        return nil
    }

    private static func binary(
        headers: HTTPFields,
        contentType: String?,
        body: ByteBuffer
    ) throws(HTTPError)
        -> CloudEvent
    {
        var attributes: [String: String] = [:]
        for field in headers {
            let name = field.name.canonicalName
            guard name.hasPrefix("ce-"), name.count > 3 else { continue }
            let attribute = String(name.dropFirst(3))
            guard let value = PercentEncoding.decodeHeaderValue(field.value[...]) else {
                throw HTTPError(
                    .badRequest,
                    "header \(name) has an invalid percent-encoding or is not UTF-8 once decoded"
                )
            }
            attributes[attribute] = value
        }
        attributes["datacontenttype"] = contentType
        return try make(attributes, data: body)
    }

    private static func structured(_ body: ByteBuffer) throws(HTTPError) -> CloudEvent {
        let bytes = Array(body.readableBytesView)
        let members: [JSONObjectScanner.Member]
        do {
            members = try JSONObjectScanner.members(of: bytes)
        } catch {
            throw HTTPError(.badRequest, "the structured event is not a JSON object (at byte \(error.offset))")
        }
        var attributes: [String: String] = [:]
        var data: JSONObjectScanner.Member?
        var base64: String?
        for member in members {
            switch (member.name, member.value) {
            case ("data", _):
                data = member
            case ("data_base64", .string(let text)):
                base64 = text
            case ("data_base64", _):
                throw HTTPError(.badRequest, "data_base64 must be a string")
            case (_, .string(let text)):
                attributes[member.name] = text
            case (_, .literal(let text)):
                // Extensions may be integers or booleans; a null attribute is an absent one.
                if text != "null" { attributes[member.name] = text }
            case (_, .compound):
                throw HTTPError(.badRequest, "attribute '\(member.name)' must be a string, number or boolean")
            }
        }
        var payload = ByteBuffer()
        switch (data, base64) {
        case (.some, .some):
            throw HTTPError(.badRequest, "an event has data or data_base64, not both")
        case (.some(let member), nil):
            let contentType = attributes["datacontenttype"]
            if case .string(let text) = member.value, let contentType, !isJSON(contentType) {
                payload = ByteBuffer(string: text)
            } else {
                payload = ByteBuffer(bytes: bytes[member.span])
                if contentType == nil { attributes["datacontenttype"] = "application/json" }
            }
        case (nil, .some(let text)):
            guard let decoded = Data(base64Encoded: text) else {
                throw HTTPError(.badRequest, "data_base64 is not valid base64")
            }
            payload = ByteBuffer(bytes: decoded)
        case (nil, nil):
            break
        }
        return try make(attributes, data: payload)
    }

    private static func make(_ attributes: [String: String], data: ByteBuffer) throws(HTTPError) -> CloudEvent {
        var attributes = attributes
        guard let version = attributes.removeValue(forKey: "specversion"), !version.isEmpty else {
            throw HTTPError(.badRequest, "the event has no specversion: required attribute missing or empty")
        }
        guard version == "1.0" else {
            throw HTTPError(.badRequest, "specversion must be 1.0, got '\(version)'")
        }
        var required: [String] = []
        for name in ["id", "source", "type"] {
            guard let value = attributes.removeValue(forKey: name), !value.isEmpty else {
                throw HTTPError(.badRequest, "the event has no \(name): required attribute missing or empty")
            }
            required.append(value)
        }
        var time: Date?
        if let text = attributes.removeValue(forKey: "time") {
            guard let parsed = RFC3339.parse(text) else {
                throw HTTPError(.badRequest, "the event's time is not an RFC 3339 timestamp: '\(text)'")
            }
            time = parsed
        }
        let contentType = attributes.removeValue(forKey: "datacontenttype")
        return CloudEvent(
            id: required[0],
            source: required[1],
            type: required[2],
            time: time,
            dataContentType: contentType,
            data: data,
            extensions: attributes
        )
    }

    /// The media type alone, lowercased: `Application/JSON; charset=utf-8` is `application/json`.
    private static func mediaTypeOf(_ contentType: String) -> String {
        var type = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        while type.first == " " || type.first == "\t" { type.removeFirst() }
        while type.last == " " || type.last == "\t" { type.removeLast() }
        return type.lowercased()
    }

    /// `application/json`, `text/json` or any `+json` type: their `data` is JSON itself, not a string of it.
    private static func isJSON(_ contentType: String) -> Bool {
        let type = mediaTypeOf(contentType)
        return type == "application/json" || type == "text/json" || type.hasSuffix("+json")
    }
}
