import AgnostHTTP
import AgnostTestSupport
import Foundation
import Synchronization
import Testing

/// What a transfer's callbacks collect on its thread, read by the test once the transfer is over.
private final class Received: Sendable {
    private let storage = Mutex<[UInt8]>([])

    var bytes: [UInt8] { storage.withLock { $0 } }
    var text: String { String(decoding: bytes, as: UTF8.self) }

    func append(_ buffer: UnsafeRawBufferPointer) -> Bool {
        storage.withLock { $0.append(contentsOf: buffer) }
        return true
    }
}

/// `execute`: streaming with an idle timeout, cancellation, one transfer per client, and threads of its own.
@Suite struct HTTPClientAsyncTests {
    @Test func aStreamThatKeepsTricklingOutlivesItsIdleTimeout() async throws {
        try await withTestServer { server in
            let received = Received()
            let clock = ContinuousClock()
            let start = clock.now
            // 8 lines 300 ms apart: 2.1 s in all, more than twice the idle timeout, never silent for as long.
            let response = try await HTTPClient().execute(
                HTTPClientRequest(url: server.url("/trickle?chunks=8&ms=300"), timeout: nil, idleTimeout: .seconds(1)),
                successfulBody: received.append
            )
            #expect(clock.now - start > .seconds(2))
            #expect(response.status == 200)
            #expect(received.text == (0..<8).map { "tick \($0)\n" }.joined())
        }
    }

    @Test func aStreamThatStallsFailsAfterAboutItsIdleTimeout() async throws {
        try await withTestServer { server in
            let received = Received()
            let client = try HTTPClient()
            // Timed on an executor of its own: coming back to the global pool may wait for other tests' threads.
            let (error, elapsed) = try await onOwnExecutor { _ in
                let clock = ContinuousClock()
                let start = clock.now
                let error = await #expect(throws: HTTPClientError.self) {
                    try await client.execute(
                        HTTPClientRequest(url: server.url("/stall?ms=30000"), timeout: nil, idleTimeout: .seconds(1)),
                        successfulBody: received.append
                    )
                }
                return (error, clock.now - start)
            }
            #expect(elapsed >= .milliseconds(950))
            #expect(elapsed < .seconds(3))
            #expect(received.text == "first\n")
            #expect(error?.code == .timedOut)
            #expect(error?.isRetryable == true)
            #expect(error?.message.contains("for 1s, the request's idle timeout") == true)
            // The stalled connection was dropped; the client goes on.
            #expect(try await client.execute(HTTPClientRequest(url: server.url("/status/200"))).status == 200)
        }
    }

    @Test func cancellingTheTaskStopsATransferToAStalledServerAtOnce() async throws {
        try await withTestServer { server in
            let client = try HTTPClient()
            let (result, latency) = try await onOwnExecutor { executor in
                let task = Task(executorPreference: executor) {
                    try await client.execute(
                        HTTPClientRequest(url: server.url("/slow?ms=30000"), timeout: .seconds(60))
                    )
                }
                try await Task.sleep(for: .milliseconds(300))
                let clock = ContinuousClock()
                let cancelledAt = clock.now
                task.cancel()
                let result = await task.result
                return (result, clock.now - cancelledAt)
            }
            #expect(latency < .seconds(1))
            guard case .failure(let failure) = result else {
                Issue.record("a cancelled request succeeded")
                return
            }
            let error = failure as? HTTPClientError
            #expect(error?.code == .cancelled)
            #expect(error?.isRetryable == false)
            #expect(error?.message == "the request to \(server.url("/slow")) was cancelled")
            #expect(try await client.execute(HTTPClientRequest(url: server.url("/status/204"))).status == 204)
        }
    }

    @Test func aTaskCancelledBeforeTheRequestSendsNothing() async throws {
        try await withTestServer { server in
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await HTTPClient().execute(HTTPClientRequest(url: server.url("/slow?ms=30000")))
            }
            let result = await task.result
            guard case .failure(let failure) = result else {
                Issue.record("a cancelled request succeeded")
                return
            }
            #expect((failure as? HTTPClientError)?.code == .cancelled)
        }
    }

    @Test func aSecondTransferOnABusyClientFailsClearlyWithoutDisturbingTheFirst() async throws {
        try await withTestServer { server in
            let client = try HTTPClient()
            let first = Task { try await client.execute(HTTPClientRequest(url: server.url("/slow?ms=1000"))) }
            try await Task.sleep(for: .milliseconds(300))
            let error = await #expect(throws: HTTPClientError.self) {
                try await client.execute(HTTPClientRequest(url: server.url("/status/200")))
            }
            #expect(error?.code == .busy)
            #expect(error?.message.contains("one transfer at a time") == true)
            #expect(try await first.value.bodyText == "slow")
        }
    }

    @Test func transfersWaitOnThreadsOfTheirOwnNotOnTheCooperativePool() async throws {
        try await withTestServer { server in
            let count = 4
            // On an executor with a single thread, a transfer that blocked it would hold up every other one.
            let (statuses, elapsed) = try await onOwnExecutor { _ in
                let clock = ContinuousClock()
                let start = clock.now
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<count {
                        group.addTask {
                            try await HTTPClient().execute(HTTPClientRequest(url: server.url("/slow?ms=1000"))).status
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                return (statuses, clock.now - start)
            }
            #expect(statuses == Array(repeating: 200, count: count))
            #expect(elapsed < .milliseconds(1900))
        }
    }

    @Test func aRefusedConnectionKeepsItsCauseAndIsRetriedUntilTheAttemptsRunOut() async throws {
        let closed = try ClosedPort()
        let port = closed.port
        let client = try HTTPClient()
        var attempts = 0
        var pauses: [Duration] = []
        let error = await #expect(throws: HTTPClientError.self) {
            try await RetryPolicy(maximumAttempts: 3, jitter: .none).run(sleep: { pauses.append($0) }) { _ in
                attempts += 1
                return try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/x"))
            }
        }
        #expect(attempts == 3)
        #expect(pauses == [.milliseconds(200), .milliseconds(400)])
        #expect(error?.code == .couldNotConnect)
        #expect(error?.isRetryable == true)
        #expect(error?.cause?.curlCode == 7)
        #expect(error?.cause?.osErrno == ECONNREFUSED)
        #expect(error?.cause?.description.contains("Connection refused") == true)
    }

    @Test func fiveHundredsAreRetriedAndTheLastResponseReturned() async throws {
        try await withTestServer { server in
            let client = try HTTPClient()
            var attempts = 0
            let response = try await RetryPolicy(maximumAttempts: 3).run(sleep: { _ in }) { _ in
                attempts += 1
                return try await client.execute(HTTPClientRequest(url: server.url("/status/503")))
            }
            #expect(attempts == 3)
            #expect(response.status == 503)

            attempts = 0
            let notFound = try await RetryPolicy(maximumAttempts: 3).run(sleep: { _ in }) { _ in
                attempts += 1
                return try await client.execute(HTTPClientRequest(url: server.url("/status/404")))
            }
            #expect(attempts == 1)
            #expect(notFound.status == 404)
        }
    }
}
