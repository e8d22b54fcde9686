import Testing

@testable import AgnostHTTP

/// A small linear congruential generator: deterministic, and varied enough to explore jitter bounds.
private struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state
    }
}

private func error(_ code: HTTPClientError.Code, retryable: Bool? = nil) -> HTTPClientError {
    HTTPClientError(code: code, url: "http://127.0.0.1/x", message: "test", isRetryable: retryable)
}

@Suite struct RetryPolicyTests {
    @Test func theScheduleWithoutJitterDoublesUpToTheCap() {
        let policy = RetryPolicy(
            maximumAttempts: 10,
            initialBackoff: .milliseconds(100),
            maximumBackoff: .seconds(1),
            jitter: .none
        )
        var random = SeededRandom(state: 1)
        let pauses = (1...6).map { policy.backoff(attempt: $0, using: &random) }
        #expect(
            pauses == [
                .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1),
                .seconds(1),
            ]
        )
        // No overflow for absurd attempt numbers.
        #expect(policy.backoff(attempt: 10_000, using: &random) == .seconds(1))
    }

    @Test func fullJitterStaysBetweenZeroAndTheCappedSchedule() {
        let policy = RetryPolicy(maximumAttempts: 50, initialBackoff: .milliseconds(100), maximumBackoff: .seconds(2))
        var random = SeededRandom(state: 42)
        for attempt in 1...12 {
            let ceiling = min(Duration.milliseconds(100) * (1 << (attempt - 1)), .seconds(2))
            let pauses = (0..<200).map { _ in policy.backoff(attempt: attempt, using: &random) }
            #expect(pauses.allSatisfy { $0 >= .zero && $0 <= ceiling })
            // Spread over the range, not stuck at one end.
            #expect(pauses.min()! < ceiling / 4)
            #expect(pauses.max()! > ceiling * 3 / 4)
        }
    }

    @Test func decorrelatedJitterGrowsFromThePreviousPauseWithinTheCap() {
        let policy = RetryPolicy(
            maximumAttempts: 50,
            initialBackoff: .milliseconds(100),
            maximumBackoff: .seconds(3),
            jitter: .decorrelated
        )
        var random = SeededRandom(state: 7)
        var previous: Duration? = nil
        for attempt in 1...30 {
            let pause = policy.backoff(attempt: attempt, previousPause: previous, using: &random)
            let upper = min(Duration.seconds(3), max(.milliseconds(100), (previous ?? .milliseconds(100)) * 3))
            #expect(pause >= .milliseconds(100))
            #expect(pause <= upper)
            previous = pause
        }
    }

    @Test func aSeededSourceGivesTheSameScheduleEveryTime() {
        let policy = RetryPolicy(maximumAttempts: 6)
        func schedule() -> [RetryPolicy.Decision] {
            var random = SeededRandom(state: 99)
            return (1...5).map {
                policy.decision(after: .failure(error(.couldNotConnect)), attempt: $0, using: &random)
            }
        }
        let first = schedule()
        #expect(first == schedule())
        #expect(first.allSatisfy { if case .retry = $0 { true } else { false } })
    }

    @Test func theAttemptsRunOut() {
        let policy = RetryPolicy(maximumAttempts: 3, jitter: .none)
        var random = SeededRandom(state: 1)
        let outcome = RetryPolicy.Outcome.failure(error(.timedOut))
        #expect(policy.decision(after: outcome, attempt: 1, using: &random) == .retry(after: .milliseconds(200)))
        #expect(policy.decision(after: outcome, attempt: 2, using: &random) == .retry(after: .milliseconds(400)))
        #expect(policy.decision(after: outcome, attempt: 3, using: &random) == .stop)
        #expect(RetryPolicy.none.decision(after: outcome, attempt: 1, using: &random) == .stop)
    }

    @Test(arguments: [
        (HTTPClientError.Code.couldNotConnect, true), (.couldNotResolveHost, true), (.timedOut, true),
        (.sendFailed, true), (.receiveFailed, true), (.invalidURL, false), (.invalidConfiguration, false),
        (.certificateRejected, false), (.tls, false), (.tooLarge, false), (.cancelled, false), (.busy, false),
        (.other, false),
    ])
    func errorsAreRetriedByTheirClassification(code: HTTPClientError.Code, retried: Bool) {
        let policy = RetryPolicy(jitter: .none)
        var random = SeededRandom(state: 1)
        let decision = policy.decision(after: .failure(error(code)), attempt: 1, using: &random)
        #expect(decision == (retried ? .retry(after: .milliseconds(200)) : .stop))
        #expect(error(code).isRetryable == retried)
    }

    @Test func anErrorsOwnClassificationWinsOverItsCode() {
        var random = SeededRandom(state: 1)
        // A server that does not speak HTTP fails to receive, but asking again will not change that.
        let decision = RetryPolicy().decision(
            after: .failure(error(.receiveFailed, retryable: false)),
            attempt: 1,
            using: &random
        )
        #expect(decision == .stop)
    }

    @Test(arguments: [
        (200, false), (201, false), (204, false), (301, false), (304, false), (400, false), (401, false),
        (403, false), (404, false), (409, false), (422, false), (408, true), (429, true), (500, true), (501, false),
        (502, true), (503, true), (504, true), (505, false), (599, true),
    ])
    func statusesAreRetriedByTheirMeaning(status: Int, retried: Bool) {
        var random = SeededRandom(state: 1)
        let decision = RetryPolicy(jitter: .none).decision(
            after: .response(status: status, retryAfter: nil),
            attempt: 1,
            using: &random
        )
        #expect(decision == (retried ? .retry(after: .milliseconds(200)) : .stop))
        #expect(RetryPolicy.isRetryable(status: status) == retried)
    }

    @Test func retryAfterLengthensThePauseButNeverShortensItAndTooLongStops() {
        let policy = RetryPolicy(maximumBackoff: .seconds(1), jitter: .none, maximumRetryAfter: .seconds(30))
        var random = SeededRandom(state: 1)
        func decide(_ header: String?, attempt: Int = 1) -> RetryPolicy.Decision {
            policy.decision(after: .response(status: 503, retryAfter: header), attempt: attempt, using: &random)
        }
        #expect(decide("5") == .retry(after: .seconds(5)))
        #expect(decide(" 30 ") == .retry(after: .seconds(30)))
        #expect(decide("0", attempt: 3) == .retry(after: .milliseconds(800)))
        #expect(decide("31") == .stop)
        // Dates and nonsense leave the backoff.
        #expect(decide("Wed, 21 Oct 2015 07:28:00 GMT") == .retry(after: .milliseconds(200)))
        #expect(decide("-3") == .retry(after: .milliseconds(200)))
        #expect(decide("soon") == .retry(after: .milliseconds(200)))
    }

    @Test func runRetriesUntilSuccessPausingAsDecided() async throws {
        let policy = RetryPolicy(maximumAttempts: 5, jitter: .none)
        var pauses: [Duration] = []
        var attempts: [Int] = []
        let response = try await policy.run(sleep: { pauses.append($0) }) { attempt in
            attempts.append(attempt)
            guard attempt == 3 else { throw error(.couldNotConnect) }
            return HTTPClientResponse(status: 200, reason: "OK", httpVersion: "HTTP/1.1", headers: [], body: [])
        }
        #expect(response.status == 200)
        #expect(attempts == [1, 2, 3])
        #expect(pauses == [.milliseconds(200), .milliseconds(400)])
    }

    @Test func runStopsAtOnceOnAnErrorRetryingCannotHelp() async {
        var attempts = 0
        let thrown = await #expect(throws: HTTPClientError.self) {
            try await RetryPolicy().run(sleep: { _ in Issue.record("paused before a hopeless retry") }) { _ in
                attempts += 1
                throw error(.certificateRejected)
            }
        }
        #expect(thrown?.code == .certificateRejected)
        #expect(attempts == 1)
    }

    @Test func runReturnsTheLastRetryableResponseOnceTheAttemptsAreUsedUp() async throws {
        var attempts = 0
        let response = try await RetryPolicy(maximumAttempts: 3).run(sleep: { _ in }) { _ in
            attempts += 1
            return HTTPClientResponse(status: 503, reason: "", httpVersion: "HTTP/1.1", headers: [], body: [])
        }
        #expect(response.status == 503)
        #expect(attempts == 3)
    }

    @Test func anotherErrorEndsTheRetriesAndIsThrownAsItIs() async {
        struct ReceiverFailed: Error {}
        var attempts = 0
        await #expect(throws: ReceiverFailed.self) {
            try await RetryPolicy().run(sleep: { _ in }) { _ in
                attempts += 1
                throw ReceiverFailed()
            }
        }
        #expect(attempts == 1)
    }

    @Test func cancellingAPauseEndsTheRetriesAsCancelled() async {
        let policy = RetryPolicy(maximumAttempts: 5, initialBackoff: .seconds(30), jitter: .none)
        // Timed on an executor of its own: coming back to the global pool may wait for other tests' threads.
        let measured = try? await onOwnExecutor { executor in
            let clock = ContinuousClock()
            let start = clock.now
            let task = Task(executorPreference: executor) {
                try await policy.run { _ in throw error(.couldNotConnect) }
            }
            try? await Task.sleep(for: .milliseconds(100))
            task.cancel()
            let result = await task.result
            return (result, clock.now - start)
        }
        #expect(measured.map { $0.1 < .seconds(2) } == true)
        guard case .failure(let failure)? = measured?.0 else {
            Issue.record("retrying went on after cancellation")
            return
        }
        #expect((failure as? HTTPClientError)?.code == .cancelled)
    }
}
