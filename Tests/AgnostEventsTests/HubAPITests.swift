import AgnostBundle
import AgnostHTTP
import Foundation
import Testing

@testable import AgnostEvents

/// The hub's own API through ``HubClient``, and the store's refusals: a second hub on one log, a file that is not
/// a log.
@Suite struct HubAPITests {
    let hubs = EventHubTests()

    func client(_ hub: EventHub, token: String = EventHubTests.token) async -> HubClient {
        HubClient(ingressURL: await hub.ingressURL, service: "shop-v1", internalToken: token, timeout: .seconds(20))
    }

    @Test func aSentMessageReportsItsFirstDeliveryAndADelayHoldsItBack() async throws {
        let receiver = try await Receiver.start { _, earlier in earlier == 0 ? 200 : 503 }
        try await hubs.withHub(server: receiver.url) { hub in
            let hubClient = await client(hub)
            let first = try await hubClient.send(queue: "jobs", body: Array(#"{"n":1}"#.utf8))
            #expect(first.status == 200)
            #expect(first.attempt == 1)
            let request = try #require(await receiver.waitFor(1).first)
            #expect(request.headers["ce-id"] == first.id)
            #expect(request.headers["ce-agnostservice"] == "shop-v1")
            #expect(request.body == Array(#"{"n":1}"#.utf8))

            let started = ContinuousClock.now
            let delayed = try await hubClient.send(queue: "jobs", body: [], contentType: nil, delay: .seconds(1))
            #expect(ContinuousClock.now - started >= .milliseconds(900))
            #expect(delayed.status == 503)
            await #expect(throws: EventHubError.self) {
                try await hubClient.send(queue: "missing", body: [])
            }
        }
        await receiver.stop()
    }

    @Test func deadLettersAreListedAndReplayedThroughTheAPI() async throws {
        let receiver = try await Receiver.start { _, earlier in earlier < 2 ? 400 : 200 }
        try await hubs.withHub(server: receiver.url) { hub in
            let hubClient = await client(hub)
            let refused = try await hubClient.send(queue: "jobs", body: Array("{}".utf8))
            #expect(refused.status == 400)
            _ = try await hubClient.send(queue: "jobs", body: Array("{}".utf8))
            var letters: [DeadLetter] = []
            for _ in 0..<200 where letters.count < 2 {
                letters = try await hubClient.deadLetters()
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(letters.map(\.attempts) == [1, 1])
            #expect(letters.map(\.lastFailure) == [.status(400), .status(400)])
            #expect(letters.first?.message.id == refused.id)
            #expect(try await hubClient.replay(letters[0].sequence) == 1)
            #expect(try await hubClient.replay(nil) == 1)
            #expect(try await hubClient.deadLetters().isEmpty)
            #expect(await receiver.waitFor(4).count == 4)
            await #expect(throws: EventHubError.self) { try await hubClient.replay(letters[0].sequence) }
        }
        await receiver.stop()
    }

    @Test func aCronJobFiresOnRequestAsAPingSourceWithoutTheInternalToken() async throws {
        let receiver = try await Receiver.start()
        let manifest = EventHubTests.manifest(cronJobs: [
            CronJobPlan(name: "nightly", schedule: "0 3 * * *", timezone: "UTC", handler: "h", enabled: false)
        ])
        try await hubs.withHub(manifest: manifest, server: receiver.url) { hub in
            let outcome = try await client(hub).fire(cronJob: "nightly")
            #expect(outcome.result == .status(200))
            let request = try #require(await receiver.waitFor(1).first)
            #expect(request.path == "/agnost/cron/nightly")
            #expect(request.headers["ce-type"] == EventContract.cronTickType)
            #expect(request.headers["ce-agnosttoken"] == SenderToken.derive(from: EventHubTests.token, for: .cron))
            #expect(request.headers["authorization"] == nil)
            await #expect(throws: EventHubError.self) { try await client(hub).fire(cronJob: "hourly") }
        }
        await receiver.stop()
    }

    @Test func theAPIRefusesCallersWithoutTheInternalToken() async throws {
        try await hubs.withHub(server: nil) { hub in
            let stranger = await client(hub, token: EventHubTests.queueToken)
            let error = await #expect(throws: EventHubError.self) { try await stranger.deadLetters() }
            #expect(error?.message.contains("internal token") == true)
            #expect(error?.message.contains(EventHubTests.token) == false)
            let response = try await HTTPClient().execute(
                HTTPClientRequest(method: "POST", url: await hub.ingressURL + "agnost/hub/dead-letters/all/replay")
            )
            #expect(response.status == 401)
        }
    }

    @Test func aSecondHubOnTheSameStateIsRefusedUntilTheFirstStops() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-hub-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await hubs.withHub(server: nil, directory: directory) { _ in
            let error = await #expect(throws: EventHubError.self) {
                try await hubs.withHub(server: nil, directory: directory) { _ in }
            }
            #expect(error?.code == .locked)
            #expect(error?.message.contains("in use by another process") == true)
        }
        // Stopped, the first hub lets go of the log even while something still holds it.
        let stopped = try await hubs.withHub(server: nil, directory: directory) { hub in hub }
        try await hubs.withHub(server: nil, directory: directory) { hub in
            #expect(await hub.deadLetters().isEmpty)
        }
        _ = stopped
    }

    @Test func aFileThatIsNotALogIsRefusedAndKept() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-hub-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent(EventLog.fileName)
        let contents = Data("not a log at all, but someone's data".utf8)
        try contents.write(to: file)
        let error = #expect(throws: EventHubError.self) { _ = try EventLog.open(directory: directory) }
        #expect(error?.message.contains("is not an event log") == true)
        #expect(try Data(contentsOf: file) == contents)
        // A header torn while it was first written is only a new log.
        try Data("AGNEV".utf8).write(to: file)
        #expect(try EventLog.records(in: directory).isEmpty)
    }

    @Test func storedDeadLettersAreListedAndReplayedWithoutAHub() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-hub-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let receiver = try await Receiver.start { _, earlier in earlier == 0 ? 422 : 200 }
        try await hubs.withHub(server: receiver.url, directory: directory) { hub in
            _ = try await client(hub).send(queue: "jobs", body: Array("{}".utf8))
            for _ in 0..<200 where await hub.deadLetters().isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        }
        let manifest = EventHubTests.manifest()
        let letters = try await StoredDeadLetters.list(manifest: manifest, stateDirectory: directory)
        #expect(letters.map(\.lastFailure) == [.status(422)])
        #expect(try await StoredDeadLetters.replay(nil, manifest: manifest, stateDirectory: directory) == 1)
        #expect(try await StoredDeadLetters.list(manifest: manifest, stateDirectory: directory).isEmpty)
        try await hubs.withHub(server: receiver.url, directory: directory) { _ in
            let received = await receiver.waitFor(2)
            #expect(received.count == 2)
            #expect(received.last?.headers["ce-id"] == letters.first?.message.id)
            #expect(received.last?.attempt == 1)
        }
        await receiver.stop()
    }
}
