import AgnostBundle
import AgnostRuntimeTesting
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import AgnostRuntime

private struct Email: Codable, Equatable {
    var to: String
}

/// What the handlers of these tests were called with, per test instance.
private final class Calls: Sendable {
    let messages = Mutex<[QueueMessage]>([])
    let ticks = Mutex<[CronTick]>([])
    let requestIds = Mutex<[String]>([])
}

private struct Unreachable: Error {}

private func header(_ name: String) -> HTTPField.Name { HTTPField.Name(name)! }

/// In-memory log lines, to check that tokens never reach the log.
private final class Lines: LogOutput {
    let storage = Mutex<[String]>([])
    func write(line: [UInt8]) { storage.withLock { $0.append(String(decoding: line, as: UTF8.self)) } }
}

struct EventDeliveryTests {
    private let calls = Calls()
    private let token = "internal-token-for-tests"
    private let log = Lines()

    private func manifest() -> BundleManifest {
        BundleManifest(
            app: "todo",
            version: "v1",
            specDigest: "",
            build: BuildInfo(configuration: "debug", toolchain: "", inputDigest: ""),
            endpoints: [
                EndpointPlan(
                    name: "signup",
                    method: "POST",
                    path: "/signup",
                    handler: "signup",
                    timeoutMilliseconds: 2000
                )
            ],
            queues: [
                QueuePlan(
                    name: "emails",
                    handler: "sendEmail",
                    retries: 3,
                    delayMilliseconds: 0,
                    timeoutMilliseconds: 300
                )
            ],
            cronJobs: [
                CronJobPlan(
                    name: "cleanup",
                    schedule: "0 3 * * *",
                    timezone: "UTC",
                    handler: "cleanup",
                    enabled: false,
                    timeoutMilliseconds: 2000
                )
            ]
        )
    }

    private func dispatcher(token: String?, outbox: (any QueueOutbox)? = nil) throws -> Dispatcher {
        let calls = self.calls
        var handlers = HandlerRegistry()
        handlers.register(queue: "sendEmail") { message, context in
            calls.messages.withLock { $0.append(message) }
            calls.requestIds.withLock { $0.append(context.requestId + " " + context.endpoint) }
            switch message.text {
            case "permanent": throw PermanentFailure("never")
            case "busy": throw HTTPError(.tooManyRequests, "later")
            case "fail": throw Unreachable()
            case "hang": try await Task.sleep(for: .seconds(10))
            default: _ = try message.decode(Email.self)
            }
        }
        handlers.register(cron: "cleanup") { tick, _ in calls.ticks.withLock { $0.append(tick) } }
        handlers.register(endpoint: "signup") { request, context in
            try await context.queue(request.query["queue"] ?? "emails").send(
                Email(to: "ada@example.com"),
                delay: .seconds(10)
            )
            return Response(status: .accepted)
        }
        var configuration = RuntimeConfiguration()
        configuration.internalToken = token.map { InternalToken($0) }
        return try Dispatcher(
            manifest: manifest(),
            handlers: handlers,
            configuration: configuration,
            processEnvironment: [:],
            logOutput: log,
            timers: MultiThreadedEventLoopGroup.singleton,
            outbox: outbox
        )
    }

    private func event(id: String = "event-1", extra: HTTPFields = [:]) -> HTTPFields {
        var headers: HTTPFields = [
            header("ce-specversion"): "1.0",
            header("ce-id"): id,
            header("ce-source"): "/test",
            header("ce-type"): EventContract.queueMessageType,
            header("ce-time"): "2026-12-02T07:30:00Z",
            .contentType: "application/json",
        ]
        headers.append(contentsOf: extra)
        return headers
    }

    private func post(
        _ dispatcher: Dispatcher,
        _ path: String,
        _ headers: HTTPFields,
        _ body: String = #"{"to":"ada@example.com"}"#
    ) async -> Response {
        await dispatcher.respond(method: .post, target: path, headers: headers, body: ByteBuffer(string: body))
    }

    private var queueToken: String { SenderToken.derive(from: token, for: .queue) }
    private var cronToken: String { SenderToken.derive(from: token, for: .cron) }

    @Test func aQueueMessageReachesItsHandlerWithTheEventsAttributes() async throws {
        let app = try dispatcher(token: token)
        let response = await post(
            app,
            "/agnost/queue/emails",
            event(extra: [.authorization: "Bearer \(queueToken)", header("ce-agnostattempt"): "2"])
        )
        #expect(response.status == .ok)
        let message = try #require(calls.messages.withLock { $0.first })
        #expect(message.id == "event-1")
        #expect(message.queue == "emails")
        #expect(message.attempt == 2)
        #expect(message.source == "/test")
        #expect(message.contentType == "application/json")
        #expect(message.time == Date(timeIntervalSince1970: 1_796_196_600))
        #expect(try message.decode(Email.self) == Email(to: "ada@example.com"))
        #expect(calls.requestIds.withLock { $0 } == ["event-1 emails"])
        let line = try #require(log.storage.withLock { $0 }.first { $0.contains("\"delivery\"") })
        #expect(line.contains(#""queue":"emails","id":"event-1","attempt":2,"status":200"#))
        #expect(!log.storage.withLock { $0 }.joined().contains(token))
    }

    @Test func theTokenMayTravelAsTheExtensionAttributeInEitherMode() async throws {
        let app = try dispatcher(token: token)
        let binary = await post(app, "/agnost/queue/emails", event(extra: [header("ce-agnosttoken"): queueToken]))
        #expect(binary.status == .ok)
        let structured = await post(
            app,
            "/agnost/queue/emails",
            [.contentType: "application/cloudevents+json"],
            #"{"specversion":"1.0","id":"s-1","source":"/t","type":"t","agnosttoken":"\#(queueToken)","#
                + #""data":{"to":"x@example.com"}}"#
        )
        #expect(structured.status == .ok)
        #expect(calls.messages.withLock { $0.map(\.id) } == ["event-1", "s-1"])
    }

    @Test func eachPathTakesItsOwnSendersTokenOrTheInternalOne() async throws {
        let app = try dispatcher(token: token)
        let cases: [(path: String, token: String, status: HTTPResponse.Status)] = [
            ("/agnost/queue/emails", cronToken, .unauthorized),
            ("/agnost/cron/cleanup", queueToken, .unauthorized),
            ("/agnost/queue/emails", "wrong", .unauthorized),
            ("/agnost/queue/emails", "", .unauthorized),
            ("/agnost/queue/emails", token, .ok),
            ("/agnost/cron/cleanup", cronToken, .ok),
            ("/agnost/cron/cleanup", token, .ok),
        ]
        for item in cases {
            let response = await post(app, item.path, event(extra: [.authorization: "Bearer \(item.token)"]))
            #expect(response.status == item.status, "\(item.path) with \(item.token)")
            #expect(!response.bodyText.contains(token))
        }
        #expect(calls.messages.withLock { $0.count } == 1)
        // A disabled job still runs when called: only the schedulers skip it.
        #expect(calls.ticks.withLock { $0.map(\.job) } == ["cleanup", "cleanup"])
        #expect(calls.ticks.withLock { $0.first?.scheduledTime } == Date(timeIntervalSince1970: 1_796_196_600))
        #expect(calls.ticks.withLock { $0.first?.schedule } == "0 3 * * *")
    }

    @Test func withoutAConfiguredTokenEveryDeliveryIs401AndStartUpWarns() async throws {
        let app = try dispatcher(token: nil)
        let response = await post(app, "/agnost/queue/emails", event(extra: [.authorization: "Bearer "]))
        #expect(response.status == .unauthorized)
        #expect(calls.messages.withLock { $0.isEmpty })
        #expect(log.storage.withLock { $0 }.contains { $0.contains("AGNOST_INTERNAL_TOKEN is not set") })
    }

    @Test func theTokenIsReadFromTheEnvironmentAndNeverPrinted() throws {
        let configuration = try RuntimeConfiguration(environment: [EventContract.internalTokenVariable: token])
        #expect(configuration.internalToken?.value == token)
        #expect(!"\(configuration)".contains(token))
        #expect(!String(reflecting: configuration).contains(token))
    }

    @Test func anUnknownNameIs404OnlyForATokenHolder() async throws {
        let app = try dispatcher(token: token)
        let anonymous = await post(app, "/agnost/queue/nope", event())
        #expect(anonymous.status == .unauthorized)
        let known = await post(app, "/agnost/queue/emails", event())
        #expect(known.status == .unauthorized)
        let holder = await post(app, "/agnost/queue/nope", event(extra: [.authorization: "Bearer \(queueToken)"]))
        #expect(holder.status == .notFound)
        let job = await post(app, "/agnost/cron/nope", event(extra: [.authorization: "Bearer \(cronToken)"]))
        #expect(job.status == .notFound)
    }

    @Test func malformedEventsFromATokenHolderAre400And415AndRunNothing() async throws {
        let app = try dispatcher(token: token)
        let auth: HTTPFields = [.authorization: "Bearer \(queueToken)"]
        var noId = event(extra: auth)
        noId[header("ce-id")] = nil
        #expect(await post(app, "/agnost/queue/emails", noId).status == .badRequest)
        var batch = auth
        batch[.contentType] = "application/cloudevents-batch+json"
        #expect(await post(app, "/agnost/queue/emails", batch, "[]").status == .unsupportedMediaType)
        #expect(calls.messages.withLock { $0.isEmpty })
    }

    @Test func otherMethodsAre405WithAllow() async throws {
        let app = try dispatcher(token: token)
        let response = await app.respond(method: .get, target: "/agnost/cron/cleanup", headers: [:], body: ByteBuffer())
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers[.allow] == "OPTIONS, POST")
    }

    @Test(arguments: [
        ("{\"to\":\"a@b\"}", HTTPResponse.Status.ok),
        ("permanent", .badRequest),
        ("not json", .badRequest),
        ("busy", .tooManyRequests),
        ("fail", .internalServerError),
        ("hang", .gatewayTimeout),
    ])
    func outcomesFollowTheDeliveryContract(body: String, status: HTTPResponse.Status) async throws {
        let app = try dispatcher(token: token)
        let response = await post(
            app,
            "/agnost/queue/emails",
            event(extra: [.authorization: "Bearer \(queueToken)"]),
            body
        )
        #expect(response.status == status)
        #expect(response.headers[header("x-request-id")] == "event-1")
        if status == .internalServerError {
            #expect(
                log.storage.withLock { $0 }.contains { $0.contains("handler threw an error") && $0.contains("event-1") }
            )
        }
    }

    @Test func sendingNeedsAKnownQueueAndABroker() async throws {
        let sending = QueueSending(queues: ["emails", "audit"], outbox: nil)
        let sender = QueueSender(queue: "emials", sending: sending)
        let unknown = await #expect(throws: QueueSendError.self) { try await sender.send(Email(to: "x")) }
        #expect(unknown?.code == .unknownQueue)
        #expect(unknown?.message == "no queue named 'emials' in agnost.yaml; its queues are 'audit', 'emails'")
        let unconfigured = await #expect(throws: QueueSendError.self) {
            try await QueueSender(queue: "emails", sending: sending).send(Email(to: "x"))
        }
        #expect(unconfigured?.code == .brokerNotConfigured)
        #expect(unconfigured?.message.contains("AGNOST_BROKER_URL") == true)
    }

    @Test func testApplicationDeliversFiresAndKeepsWhatHandlersSent() async throws {
        let calls = self.calls
        let app = try TestApplication(
            endpoints: [
                .init(.post, "/signup") { _, context in
                    try await context.queue("emails").send(Email(to: "ada@example.com"), delay: .seconds(5))
                    return Response(status: .accepted)
                }
            ],
            queues: [.init("emails") { message, _ in calls.messages.withLock { $0.append(message) } }],
            cronJobs: [.init("nightly") { tick, _ in calls.ticks.withLock { $0.append(tick) } }]
        )
        #expect(await app.request(.post, "/signup").status == .accepted)
        let sent = try #require(app.sentMessages.first)
        #expect(sent.queue == "emails")
        #expect(try sent.decode(Email.self) == Email(to: "ada@example.com"))
        #expect(sent.contentType == "application/json")
        #expect(sent.notBefore.map { $0.timeIntervalSinceNow > 3 } == true)
        #expect(await app.deliverSentMessages().map(\.status) == [.ok])
        #expect(calls.messages.withLock { $0.map(\.id) } == [sent.id])
        #expect(await app.fire(cron: "nightly").status == .ok)
        #expect(calls.ticks.withLock { $0.map(\.job) } == ["nightly"])
        #expect(await app.deliver(queue: "nope", body: ByteBuffer()).status == .notFound)
    }
}
