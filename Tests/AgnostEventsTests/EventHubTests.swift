import AgnostBundle
import AgnostHTTP
import Foundation
import Testing

@testable import AgnostEvents

@Suite struct EventHubTests {
    static let token = "internal-token-for-tests"
    static let queueToken = SenderToken.derive(from: token, for: .queue)

    static func manifest(
        queues: [QueuePlan] = [QueuePlan(name: "jobs", handler: "h", retries: 2, delayMilliseconds: 0)],
        cronJobs: [CronJobPlan] = []
    ) -> BundleManifest {
        BundleManifest(
            app: "shop",
            version: "v1",
            specDigest: "sha256:0",
            build: BuildInfo(configuration: "debug", toolchain: "swift", inputDigest: "sha256:0"),
            endpoints: [],
            queues: queues,
            cronJobs: cronJobs
        )
    }

    /// Runs a hub in a fresh state directory (or `directory`) for `body`.
    func withHub<T: Sendable>(
        manifest: BundleManifest = manifest(),
        server: String?,
        directory: URL? = nil,
        limits: EventHubLimits = EventHubLimits(backoff: Backoff(base: .milliseconds(50), cap: .milliseconds(200))),
        now: @escaping @Sendable () -> Date = { Date() },
        _ body: (EventHub) async throws -> T
    ) async throws -> T {
        let state = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("agnost-hub-\(UUID())")
        defer { if directory == nil { try? FileManager.default.removeItem(at: state) } }
        var configuration = EventHubConfiguration(
            manifest: manifest,
            stateDirectory: state,
            serverURL: server,
            internalToken: Self.token,
            limits: limits
        )
        configuration.now = now
        return try await withEventHub(configuration, body)
    }

    func send(
        to hub: EventHub,
        id: String = UUID().uuidString,
        queue: String = "jobs",
        extra: [(String, String)] = [],
        token: String = queueToken,
        body: String = #"{"n":1}"#,
        client: HTTPClient? = nil
    ) async throws -> HTTPClientResponse {
        var headers: [(name: String, value: String)] = [
            ("ce-specversion", "1.0"), ("ce-id", id), ("ce-source", "/agnost/shop-v1"),
            ("ce-type", EventContract.queueMessageType), ("ce-agnostservice", "shop-v1"), ("ce-agnostqueue", queue),
            ("ce-agnosttoken", token), ("Content-Type", "application/json"),
        ]
        headers += extra.map { (name: $0.0, value: $0.1) }
        return try await (client ?? HTTPClient()).execute(
            HTTPClientRequest(method: "POST", url: await hub.ingressURL, headers: headers, body: Array(body.utf8))
        )
    }

    @Test func anAcceptedMessageIsDeliveredInBinaryModeWithItsAttributes() async throws {
        let receiver = try await Receiver.start()
        try await withHub(server: receiver.url) { hub in
            let response = try await send(to: hub, id: "order-1", extra: [("ce-subject", "s1")])
            #expect(response.status == 202)
            let received = await receiver.waitFor(1)
            let request = try #require(received.first)
            #expect(request.path == "/agnost/queue/jobs")
            #expect(request.headers["ce-id"] == "order-1")
            #expect(request.headers["ce-subject"] == "s1")
            #expect(request.headers["ce-type"] == EventContract.queueMessageType)
            #expect(request.headers["ce-agnostattempt"] == "1")
            #expect(request.headers["ce-agnosttoken"] == Self.queueToken)
            #expect(request.headers["content-type"] == "application/json")
            #expect(request.body == Array(#"{"n":1}"#.utf8))
            var iterator = hub.events.makeAsyncIterator()
            guard case .accepted("jobs", "order-1", _) = await iterator.next() else {
                Issue.record("no accepted event")
                return
            }
            guard case .delivered("jobs", "order-1", 200, _, 1) = await iterator.next() else {
                Issue.record("no delivered event")
                return
            }
        }
        await receiver.stop()
    }

    @Test func badEventsAreRefusedWithAReason() async throws {
        try await withHub(server: nil) { hub in
            let unknown = try await send(to: hub, queue: "nope")
            #expect(unknown.status == 404)
            #expect(unknown.bodyText.contains("jobs"))
            let wrongToken = try await send(to: hub, token: "guess")
            #expect(wrongToken.status == 401)
            #expect(!wrongToken.bodyText.contains(Self.queueToken))
            let wrongService = try await send(to: hub, extra: [("ce-agnostservice", "other-v2")])
            #expect(wrongService.status == 400)
            let badTime = try await send(to: hub, extra: [("ce-agnostnotbefore", "tomorrow")])
            #expect(badTime.status == 400)
            #expect(badTime.bodyText.contains("agnostnotbefore"))
            let client = try HTTPClient()
            let noID = try await client.execute(
                HTTPClientRequest(
                    method: "POST",
                    url: await hub.ingressURL,
                    headers: [("ce-specversion", "1.0"), ("ce-source", "/s"), ("ce-type", "t")],
                    body: []
                )
            )
            #expect(noID.status == 400)
            #expect(noID.bodyText.contains("'id'"))
        }
    }

    @Test func aStructuredEventIsAcceptedAndDeliveredWithItsData() async throws {
        let receiver = try await Receiver.start()
        try await withHub(server: receiver.url) { hub in
            let event = """
                {"specversion":"1.0","id":"s-1","source":"/x","type":"t","agnostservice":"shop-v1",
                "agnostqueue":"jobs","agnosttoken":"\(Self.queueToken)","datacontenttype":"text/plain","data":"hello"}
                """
            let client = try HTTPClient()
            let response = try await client.execute(
                HTTPClientRequest(
                    method: "POST",
                    url: await hub.ingressURL,
                    headers: [("Content-Type", "application/cloudevents+json")],
                    body: Array(event.utf8)
                )
            )
            #expect(response.status == 202)
            let request = try #require(await receiver.waitFor(1).first)
            #expect(request.headers["ce-id"] == "s-1")
            #expect(request.headers["content-type"] == "text/plain")
            #expect(request.body == Array("hello".utf8))
        }
        await receiver.stop()
    }

    @Test func failuresAreRetriedWithTheSameIdThenDeadLetteredAndReplayable() async throws {
        let receiver = try await Receiver.start { _, earlier in earlier < 3 ? 503 : 200 }
        try await withHub(server: receiver.url) { hub in
            #expect(try await send(to: hub, id: "flaky").status == 202)
            let received = await receiver.waitFor(3)
            #expect(received.map(\.attempt) == [1, 2, 3])
            #expect(Set(received.compactMap { $0.headers["ce-id"] }) == ["flaky"])
            var letters: [DeadLetter] = []
            for _ in 0..<200 where letters.isEmpty {
                letters = await hub.deadLetters()
                try await Task.sleep(for: .milliseconds(20))
            }
            let letter = try #require(letters.first)
            #expect(letter.attempts == 3)
            #expect(letter.lastFailure == .status(503))
            #expect(letter.message.id == "flaky")
            try await hub.replay(letter.sequence)
            #expect(await hub.deadLetters().isEmpty)
            let again = await receiver.waitFor(4)
            #expect(again.last?.attempt == 1)
            #expect(again.last?.headers["ce-id"] == "flaky")
            await #expect(throws: EventHubError.self) { try await hub.replay(letter.sequence) }
        }
        await receiver.stop()
    }

    @Test func theQueueDelayIsHonouredWithinASecond() async throws {
        let receiver = try await Receiver.start()
        let manifest = Self.manifest(queues: [
            QueuePlan(name: "jobs", handler: "h", retries: 0, delayMilliseconds: 2000)
        ])
        try await withHub(manifest: manifest, server: receiver.url) { hub in
            let sent = Date()
            #expect(try await send(to: hub).status == 202)
            let request = try #require(await receiver.waitFor(1).first)
            let waited = request.at.timeIntervalSince(sent)
            #expect(waited >= 1.9 && waited < 3, "delivered after \(waited) s")
        }
        await receiver.stop()
    }

    @Test func neverMoreDeliveriesInFlightThanTheBound() async throws {
        let receiver = try await Receiver.start(pause: .milliseconds(300))
        let limits = EventHubLimits(concurrency: 2)
        try await withHub(server: receiver.url, limits: limits) { hub in
            for index in 0..<8 {
                let response = try await send(to: hub, id: "c\(index)")
                #expect(response.status == 202)
            }
            let received = await receiver.waitFor(8)
            #expect(received.count == 8)
            #expect(receiver.mostInFlight == 2)
        }
        await receiver.stop()
    }

    @Test func aSenderMayWaitForTheFirstDeliverysOutcome() async throws {
        let receiver = try await Receiver.start { _, earlier in earlier == 0 ? 500 : 200 }
        try await withHub(server: receiver.url) { hub in
            let response = try await send(to: hub, id: "w1", extra: [("Agnost-Wait", "outcome")])
            #expect(response.status == 200)
            let answer = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            #expect(answer?["status"] as? Int == 500)
            #expect(answer?["attempt"] as? Int == 1)
            #expect(answer?["id"] as? String == "w1")
        }
        await receiver.stop()
    }

    @Test func messagesWaitForAServerAndSurviveARestartOfTheHub() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-hub-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await withHub(server: nil, directory: directory) { hub in
            for index in 0..<3 {
                let response = try await send(to: hub, id: "k\(index)")
                #expect(response.status == 202)
            }
            var iterator = hub.events.makeAsyncIterator()
            var sawUnavailable = false
            while let event = await iterator.next() {
                if event == .serverUnavailable {
                    sawUnavailable = true
                    break
                }
            }
            #expect(sawUnavailable)
        }
        let receiver = try await Receiver.start()
        try await withHub(server: nil, directory: directory) { hub in
            await hub.setServerURL(receiver.url)
            let received = await receiver.waitFor(3)
            #expect(Set(received.compactMap { $0.headers["ce-id"] }) == ["k0", "k1", "k2"])
        }
        await receiver.stop()
    }

    @Test func aLogOfAcknowledgedMessagesIsCompacted() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-hub-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let receiver = try await Receiver.start { _, earlier in earlier == 0 ? 400 : 200 }
        let limits = EventHubLimits(compactionThreshold: 16)
        try await withHub(server: receiver.url, directory: directory, limits: limits) { hub in
            for index in 0..<40 {
                let response = try await send(to: hub, id: "p\(index)")
                #expect(response.status == 202)
            }
            // Each outcome is announced once it is on disk.
            var settled = 0
            for await event in hub.events {
                switch event {
                case .delivered, .deadLettered: settled += 1
                default: break
                }
                if settled == 40 { break }
            }
        }
        let records = try EventLog.records(in: directory)
        // 40 accepted and 40 settled records, less every compaction: far fewer remain.
        #expect(records.count < 40)
        let state = DeliveryMachine(queues: [QueueSettings(name: "jobs", retries: 2)], records: records)
        #expect(state.liveCount == 0)
        #expect(state.deadLetters.count == 1)
        await receiver.stop()
    }

    /// The hub's clock is moved to 1.5 s before a minute boundary, so an every-minute job fires without waiting a
    /// real minute.
    @Test func anEveryMinuteJobFiresAtTheMinuteAsAPingSource() async throws {
        let receiver = try await Receiver.start()
        let real = Date().timeIntervalSince1970
        let shift = (60 - real.truncatingRemainder(dividingBy: 60)) - 1.5
        let manifest = Self.manifest(
            queues: [],
            cronJobs: [
                CronJobPlan(
                    name: "tick",
                    schedule: "* * * * *",
                    timezone: "Europe/Berlin",
                    handler: "h",
                    enabled: true
                ),
                CronJobPlan(name: "off", schedule: "* * * * *", timezone: "UTC", handler: "h", enabled: false),
            ]
        )
        try await withHub(manifest: manifest, server: receiver.url, now: { Date().addingTimeInterval(shift) }) { hub in
            let request = try #require(await receiver.waitFor(1, timeout: .seconds(10)).first)
            #expect(request.path == "/agnost/cron/tick")
            #expect(request.headers["ce-type"] == EventContract.cronTickType)
            #expect(request.headers["ce-source"] == "/apis/v1/namespaces/local/pingsources/shop-v1-cron-tick")
            let time = try #require(request.headers["ce-time"].flatMap(IngressRequest.parseTimestamp))
            #expect(time.timeIntervalSince1970.truncatingRemainder(dividingBy: 60) == 0)
            // On the hub's clock: not before the minute, and soon after it (a wide margin for a loaded machine).
            let lateness = request.at.addingTimeInterval(shift).timeIntervalSince(time)
            #expect(lateness > -0.05 && lateness < 2, "fired \(lateness) s after the minute")
            // As a PingSource: the cron sender token, never the internal token.
            #expect(request.headers["authorization"] == nil)
            #expect(request.headers["ce-agnosttoken"] == SenderToken.derive(from: Self.token, for: .cron))
            #expect(request.body == Array(#"{"job":"tick"}"#.utf8))
            let now = try await hub.fire(cronJob: "off")
            #expect(now.result == .status(200))
            #expect(receiver.received.filter { $0.path == "/agnost/cron/off" }.count == 1)
            await #expect(throws: EventHubError.self) { try await hub.fire(cronJob: "missing") }
        }
        await receiver.stop()
    }
}
