import AgnostBundle
import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import AgnostRuntime

/// The runtime against the CloudEvents Python SDK: events the SDK sends are delivered, and events the runtime
/// sends are ones the SDK parses.
@Suite(.serialized)
struct CloudEventsInteropTests {
    private static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("CloudEventsInterop")
    private let token = "interop-internal-token"

    private func python(_ script: String, _ arguments: [String] = []) throws -> ServerProcess {
        try ServerProcess(
            environment: ProcessInfo.processInfo.environment,
            lifetime: .seconds(60),
            program: ["/usr/bin/env", "python3", Self.scripts.appendingPathComponent(script).path] + arguments
        )
    }

    @Test func eventsTheSDKSendsInEitherModeRunTheirHandlerOnce() async throws {
        let record = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-rt-events-\(getpid())")
        try? FileManager.default.removeItem(at: record)
        defer { try? FileManager.default.removeItem(at: record) }
        let server = try ServerProcess(environment: [
            "PORT": "0", "AGNOST_HOST": "127.0.0.1", "AGNOST_BUNDLE": try writeFixtureBundle(),
            EventContract.internalTokenVariable: token, "AGNOST_FIXTURE_EVENTS": record.path,
        ])
        let port = try await server.waitForPort()
        let queueToken = SenderToken.derive(from: token, for: .queue)
        let cronToken = SenderToken.derive(from: token, for: .cron)
        func event(
            _ id: String,
            _ mode: String,
            _ data: String,
            path: String = "/agnost/queue/jobs",
            token: String?,
            extra: [String: Any] = [:],
            bytes: Bool = false
        ) -> [String: Any] {
            var attributes: [String: Any] = [
                "id": id, "source": "/interop", "type": EventContract.queueMessageType,
                "time": "2026-12-02T07:30:00Z", "datacontenttype": "text/plain",
            ]
            if let token { attributes[EventContract.Extension.token] = token }
            attributes.merge(extra) { _, new in new }
            // The SDK JSON-encodes a str in binary mode whatever the content type; bytes go as they are.
            return [
                "path": path, "mode": mode, "attributes": attributes, "data": data, "bytes": bytes || mode == "binary",
            ]
        }
        let cases: [([String: Any], Int)] = [
            (event("b-1", "binary", "hello", token: queueToken, extra: ["agnostattempt": "1"]), 200),
            (event("s-1", "structured", "world", token: queueToken, extra: ["agnostattempt": 2]), 200),
            (
                event(
                    "s-2",
                    "structured",
                    "raw bytes",
                    token: queueToken,
                    extra: ["datacontenttype": "application/octet-stream"],
                    bytes: true
                ), 200
            ),
            (event("p-1", "binary", "permanent", token: queueToken), 400),
            (event("r-1", "structured", "busy", token: queueToken), 429),
            (event("f-1", "binary", "fail", token: queueToken), 500),
            (event("h-1", "binary", "hang", token: queueToken), 504),
            (event("n-1", "binary", "hello", token: nil), 401),
            (event("c-q", "structured", "hello", token: cronToken), 401),
            (
                [
                    "path": "/agnost/queue/jobs", "mode": "raw", "authorization": "Bearer \(queueToken)",
                    "headers": ["ce-specversion": "1.0", "ce-source": "/interop", "ce-type": "t"], "body": "x",
                ], 400
            ),
            (event("c-1", "binary", "", path: "/agnost/cron/tick", token: cronToken), 200),
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: cases.map(\.0)), as: UTF8.self)
        let client = try python("send_events.py", ["http://127.0.0.1:\(port)", json])
        #expect(try await client.waitForExit(timeout: .seconds(60)) == 0, "\(client.standardError)")
        let statuses = client.lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Int])?["status"]
        }
        #expect(statuses == cases.map(\.1))
        let calls = try String(contentsOf: record, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(
            calls == [
                "b-1 hello 1796196600000 1", "s-1 world 1796196600000 2", "s-2 raw bytes 1796196600000 -",
                "p-1 permanent 1796196600000 -", "r-1 busy 1796196600000 -", "f-1 fail 1796196600000 -",
                "h-1 hang 1796196600000 -", "c-1 tick 1796196600000 -",
            ]
        )
        #expect(!server.lines.joined().contains(token))
        try await server.stop()
    }

    @Test func messagesSentAreValidCloudEventsAndEachFailureSaysWhy() async throws {
        let receiver = try python("broker_receiver.py")
        let first = try await receiver.waitForLine(containing: "\"port\"")
        let port = try #require(
            (try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Int])?["port"]
        )
        let queueToken = SenderToken.derive(from: token, for: .queue)
        func sender(_ path: String, port: Int = port, timeout: Duration = .seconds(2)) throws -> QueueSender {
            let address = try BrokerAddress.parse("http://agnost:s3cret@127.0.0.1:\(port)\(path)")
            let client = BrokerClient(address: address, group: MultiThreadedEventLoopGroup.singleton, timeout: timeout)
            let outbox = BrokerOutbox(client: client, service: "todo-v1", token: queueToken)
            return QueueSender(queue: "emails", sending: QueueSending(queues: ["emails"], outbox: outbox))
        }
        let accepting = try sender("/accept")
        try await accepting.send(["to": "ada@example.com"], delay: .seconds(10))
        try await accepting.send(ByteBuffer(string: "second"), contentType: "text/plain")

        func failure(_ sender: QueueSender) async -> QueueSendError? {
            await #expect(throws: QueueSendError.self) { try await sender.send(["n": 1]) }
        }
        let rejected = await failure(try sender("/reject"))
        #expect(rejected?.code == .rejected)
        #expect(rejected?.status == 500)
        #expect(
            rejected?.message
                == "the broker at http://127.0.0.1:\(port)/reject answered 500 for queue 'emails': broker overloaded"
        )
        let closed = await failure(try sender("/close"))
        #expect(closed?.code == .connectionFailed)
        let stalled = await failure(try sender("/stall", timeout: .milliseconds(500)))
        #expect(stalled?.code == .timedOut)
        let stalling = try sender("/stall", timeout: .seconds(30))
        let cancelledSend = Task { await failure(stalling) }
        try await Task.sleep(for: .milliseconds(300))
        cancelledSend.cancel()
        #expect(await cancelledSend.value?.code == .cancelled)
        let unused = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let freePort = try #require(unused.localAddress?.port)
        try await unused.close()
        let refused = await failure(try sender("/accept", port: freePort))
        #expect(refused?.code == .connectionFailed)
        #expect(
            refused?.message == "cannot reach the broker at http://127.0.0.1:\(freePort)/accept: connection refused"
        )
        for error in [rejected, closed, stalled, refused] {
            #expect(error.map { !$0.message.contains("s3cret") && !$0.message.contains(queueToken) } == true)
        }

        let received = try await receivedRecords(receiver, count: 6)
        #expect(received.allSatisfy { $0["error"] == nil }, "\(received)")
        let accepted = received.filter { $0["path"] as? String == "/accept" }
        #expect(accepted.count == 2)
        // Kept alive: the second message goes over the first one's connection.
        #expect(Set(accepted.compactMap { $0["clientPort"] as? Int }).count == 1)
        let attributes = accepted.compactMap { $0["attributes"] as? [String: String] }
        #expect(attributes.map { $0["specversion"] } == ["1.0", "1.0"])
        #expect(attributes.map { $0["type"] } == [EventContract.queueMessageType, EventContract.queueMessageType])
        #expect(attributes.map { $0["source"] } == ["/agnost/todo-v1", "/agnost/todo-v1"])
        #expect(attributes.map { $0["agnostqueue"] } == ["emails", "emails"])
        #expect(attributes.map { $0["agnostservice"] } == ["todo-v1", "todo-v1"])
        #expect(attributes.map { $0["agnosttoken"] } == [queueToken, queueToken])
        #expect(attributes.map { $0["id"]?.count } == [32, 32])
        #expect(Set(attributes.compactMap { $0["id"] }).count == 2)
        #expect(
            attributes[0]["agnostnotbefore"].flatMap { RFC3339.parse($0) }.map { $0.timeIntervalSinceNow > 5 } == true
        )
        #expect(attributes[1]["agnostnotbefore"] == nil)
        #expect(attributes.map { $0["time"] != nil } == [true, true])
        let bodies = accepted.compactMap { ($0["data"] as? String).flatMap { Data(base64Encoded: $0) } }
        #expect(try JSONSerialization.jsonObject(with: bodies[0]) as? [String: String] == ["to": "ada@example.com"])
        #expect(String(decoding: bodies[1], as: UTF8.self) == "second")
        #expect(
            accepted.map { $0["authorization"] as? String } == [
                "Basic YWdub3N0OnMzY3JldA==", "Basic YWdub3N0OnMzY3JldA==",
            ]
        )
    }

    @Test func aBrokerURLMustBePlainHTTPAndIsNeverEchoed() throws {
        #expect(throws: RuntimeStartupError.self) {
            try RuntimeConfiguration(environment: [EventContract.brokerURLVariable: "https://u:s3cret@broker"])
        }
        do {
            _ = try RuntimeConfiguration(environment: [EventContract.brokerURLVariable: "https://u:s3cret@broker"])
        } catch {
            #expect(error.message.contains("http://"))
            #expect(!error.message.contains("s3cret"))
        }
        let address = try BrokerAddress.parse("http://[::1]:8080/ns/default")
        #expect(address.host == "::1")
        #expect(address.port == 8080)
        #expect(address.target == "/ns/default")
    }

    private func receivedRecords(_ receiver: ServerProcess, count: Int) async throws -> [[String: Any]] {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let records = receiver.lines.dropFirst().compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            if records.count >= count { return records }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw WaitTimedOut(what: "\(count) requests at the receiver", output: receiver.lines.joined(separator: "\n"))
    }
}
