import AgnostRuntime
import Foundation
import NIOCore
import Testing

@testable import AgnostRuntime

private func header(_ name: String) -> HTTPField.Name { HTTPField.Name(name)! }

private let binaryHeaders: HTTPFields = [
    header("ce-specversion"): "1.0",
    header("ce-id"): "event-1",
    header("ce-source"): "/apis/v1/namespaces/default/pingsources/tick",
    header("ce-type"): "dev.knative.sources.ping",
    header("ce-time"): "2026-12-02T07:30:00.250Z",
    header("ce-agnostattempt"): "2",
    .contentType: "text/plain",
]

struct CloudEventParsingTests {
    private func parse(_ headers: HTTPFields, _ body: String = "") throws(HTTPError) -> CloudEvent {
        try CloudEvent.parse(headers: headers, body: ByteBuffer(string: body))
    }

    private func rejection(_ headers: HTTPFields, _ body: String = "") -> HTTPError? {
        do {
            _ = try parse(headers, body)
            return nil
        } catch {
            return error
        }
    }

    private func structured(_ json: String) -> HTTPError? {
        rejection([.contentType: "application/cloudevents+json; charset=utf-8"], json)
    }

    @Test func binaryModeTakesAttributesFromHeadersAndDataFromTheBody() throws {
        let event = try parse(binaryHeaders, "hello")
        #expect(event.id == "event-1")
        #expect(event.source == "/apis/v1/namespaces/default/pingsources/tick")
        #expect(event.type == "dev.knative.sources.ping")
        #expect(event.time == Date(timeIntervalSince1970: 1_796_196_600.25))
        #expect(event.dataContentType == "text/plain")
        #expect(String(buffer: event.data) == "hello")
        #expect(event.extensions == ["agnostattempt": "2"])
    }

    @Test func binaryHeaderValuesArePercentDecoded() throws {
        var headers = binaryHeaders
        headers[header("ce-source")] = "/caf%C3%A9%20bar"
        headers[header("ce-subject")] = "100%25%22done%22"
        let event = try parse(headers)
        #expect(event.source == "/café bar")
        #expect(event.extensions["subject"] == "100%\"done\"")
    }

    @Test func aQuotedHeaderValueIsUnquotedBeforeDecoding() throws {
        var headers = binaryHeaders
        headers[header("ce-subject")] = #""say \"hi\" 100%25""#
        #expect(try parse(headers).extensions["subject"] == #"say "hi" 100%"#)
    }

    @Test(arguments: ["%zz", "50%", "%C3", "%FF%FE", "%C0%A0"])
    func invalidPercentEncodingOrUTF8Is400(_ value: String) {
        var headers = binaryHeaders
        headers[header("ce-source")] = value
        let error = rejection(headers)
        #expect(error?.status == .badRequest)
        #expect(error?.message.contains("ce-source") == true)
    }

    @Test(arguments: ["specversion", "id", "source", "type"])
    func aMissingOrEmptyRequiredAttributeIs400NamingIt(_ attribute: String) {
        var missing = binaryHeaders
        missing[header("ce-" + attribute)] = nil
        var empty = binaryHeaders
        empty[header("ce-" + attribute)] = ""
        for headers in [missing, empty] {
            let error = rejection(headers)
            #expect(error?.status == .badRequest)
            #expect(error?.message.contains("no \(attribute)") == true)
        }
    }

    @Test func anotherSpecVersionIs400() {
        var headers = binaryHeaders
        headers[header("ce-specversion")] = "0.3"
        #expect(rejection(headers)?.message == "specversion must be 1.0, got '0.3'")
    }

    @Test func aTimeThatIsNotRFC3339Is400() {
        var headers = binaryHeaders
        headers[header("ce-time")] = "yesterday"
        #expect(rejection(headers)?.status == .badRequest)
    }

    @Test func structuredModeKeepsJSONDataAsWritten() throws {
        let event = try parse(
            [.contentType: "application/cloudevents+json"],
            #"{"specversion":"1.0","id":"m-1","source":"/agnost/todo-v1","type":"dev.agnost.queue.message","#
                + #""agnostattempt":3,"data":{"n": 12345678901234567890, "s":"\u00e9"}}"#
        )
        #expect(event.id == "m-1")
        #expect(event.dataContentType == "application/json")
        #expect(String(buffer: event.data) == #"{"n": 12345678901234567890, "s":"\u00e9"}"#)
        #expect(event.extensions["agnostattempt"] == "3")
    }

    @Test func structuredModeStringDataOfATextTypeIsTheText() throws {
        let event = try parse(
            [.contentType: "application/cloudevents+json"],
            #"{"specversion":"1.0","id":"m","source":"s","type":"t","datacontenttype":"text/plain","data":"hi\n"}"#
        )
        #expect(String(buffer: event.data) == "hi\n")
        #expect(event.dataContentType == "text/plain")
    }

    @Test func structuredModeDecodesDataBase64() throws {
        let event = try parse(
            [.contentType: "application/cloudevents+json"],
            #"{"specversion":"1.0","id":"m","source":"s","type":"t","datacontenttype":"application/octet-stream","#
                + #""data_base64":"AAEC/w=="}"#
        )
        #expect(Array(event.data.readableBytesView) == [0, 1, 2, 255])
    }

    @Test func structuredModeRejectsMalformedEvents() {
        let base = #""specversion":"1.0","id":"m","source":"s","type":"t""#
        #expect(structured("{\(base),\"data\":1,\"data_base64\":\"AA==\"}")?.status == .badRequest)
        #expect(structured("{\(base),\"data_base64\":\"@@@\"}")?.status == .badRequest)
        #expect(structured("{\(base),\"subject\":{\"a\":1}}")?.status == .badRequest)
        #expect(structured("{\(base),\"data\":[1,2}")?.status == .badRequest)
        #expect(structured("[\(base)]")?.status == .badRequest)
        #expect(structured(#"{"id":"m","source":"s","type":"t"}"#)?.message.contains("no specversion") == true)
        #expect(
            structured(#"{"specversion":"1.0","source":"s","type":"t","id":""}"#)?.message.contains("no id") == true
        )
    }

    @Test func aBatchIs415() {
        let error = rejection([.contentType: "application/cloudevents-batch+json"], "[]")
        #expect(error?.status == .unsupportedMediaType)
    }

    @Test func theTokenIsFoundInEitherMode() {
        var headers = binaryHeaders
        headers[header("ce-agnosttoken")] = "t%20ok"
        #expect(CloudEvent.presentedToken(headers: headers, body: ByteBuffer()) == "t ok")
        let json = #"{"specversion":"1.0","agnosttoken":"abc","id":"m"}"#
        #expect(
            CloudEvent.presentedToken(
                headers: [.contentType: "application/cloudevents+json"],
                body: ByteBuffer(string: json)
            ) == "abc"
        )
        #expect(CloudEvent.presentedToken(headers: binaryHeaders, body: ByteBuffer(string: json)) == nil)
    }

    @Test func rfc3339RoundTripsAndAcceptsOffsetsAndFractions() throws {
        let date = try #require(RFC3339.parse("2026-12-02T10:30:00.123456+03:00"))
        #expect(abs(date.timeIntervalSince1970 - 1_796_196_600.123456) < 1e-5)
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_796_196_600.25)) == "2026-12-02T07:30:00.250Z")
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") == Date(timeIntervalSince1970: 1_709_164_800))
        #expect(RFC3339.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59.000Z")
        for bad in ["2023-02-29T00:00:00Z", "2026-12-02 07:30:00Z", "2026-12-02T07:30:00", "2026-12-02T07:30:00.Z"] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
    }
}
