import AgnostRuntime
import AgnostRuntimeTesting
import Handlers
import Testing

/// The endpoints as `agnost.yaml` declares them, served in-process.
private func makeApp() throws -> TestApplication {
    try TestApplication(
        endpoints: [
            .init(.get, "/hello/:name", handler: hello, middlewares: [serverTiming]),
            .init(.post, "/echo", handler: echo, middlewares: [serverTiming]),
        ],
        env: ["GREETING": "merhaba"]
    )
}

@Test func helloGreetsByNameWithTheConfiguredGreeting() async throws {
    let response = try await makeApp().request(.get, "/hello/ada")
    #expect(response.status == .ok)
    #expect(response.bodyText == "merhaba, ada!")
    #expect(response.headers[HTTPField.Name("Server-Timing")!]?.hasPrefix("handler;dur=") == true)
}

@Test func echoAnswersWithTheMessageAndItsLength() async throws {
    let response = try await makeApp().request(.post, "/echo", json: #"{"message":"héllo"}"#)
    #expect(response.status == .ok)
    let echoed = try response.decode(EchoResponse.self)
    #expect(echoed.message == "héllo")
    #expect(echoed.length == 5)
}

@Test func echoRejectsAnEmptyMessage() async throws {
    let response = try await makeApp().request(.post, "/echo", json: #"{"message":""}"#)
    #expect(response.status == .unprocessableContent)
}

@Test func echoRejectsABodyWithoutMessage() async throws {
    let response = try await makeApp().request(.post, "/echo", json: #"{"text":"hi"}"#)
    #expect(response.status == .badRequest)
}
