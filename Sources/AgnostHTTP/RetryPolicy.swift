/// When to send a request again, and after how long: a value with a pure decision function, so that the schedule is
/// tested without I/O and shared by every caller.
///
/// An outcome is worth retrying when the error ``HTTPClientError/isRetryable`` says so, or the status is `408`,
/// `429` or a `5xx` other than `501` and `505`, which say the server will never do it. Whether the request may
/// safely arrive twice is the caller's call: give non-idempotent requests ``none``.
///
/// ```swift
/// let policy = RetryPolicy(maximumAttempts: 5, initialBackoff: .milliseconds(200), maximumBackoff: .seconds(5))
/// let response = try await policy.run { _ in
///     try await client.execute(HTTPClientRequest(url: manifestURL))
/// }
/// ```
public struct RetryPolicy: Sendable, Equatable {
    /// How many times a request is sent at most, the first included; 1 never retries.
    public var maximumAttempts: Int
    /// The pause before the first retry, before jitter.
    public var initialBackoff: Duration
    /// No pause is longer than this, whatever the attempt number; nor, unless a `Retry-After` asks for more.
    public var maximumBackoff: Duration
    /// How much longer each pause is than the one before, before jitter.
    public var multiplier: Double
    /// How the pause is spread, so that many clients failing together do not come back together.
    public var jitter: Jitter
    /// The longest `Retry-After` that is waited for; a server asking for longer ends the retries.
    public var maximumRetryAfter: Duration

    /// How a pause is drawn from the exponential schedule.
    public enum Jitter: Sendable, Equatable {
        /// Exactly the schedule: `initial × multiplier^(n-1)`, capped.
        case none
        /// Uniformly between zero and the capped schedule ("full jitter").
        case full
        /// Uniformly between the initial pause and three times the previous one, capped ("decorrelated jitter").
        case decorrelated
    }

    /// What an attempt ended with.
    public enum Outcome: Sendable {
        /// No response: the error says whether retrying can help.
        case failure(HTTPClientError)
        /// A response with this status, and the value of its `Retry-After` header if it had one.
        case response(status: Int, retryAfter: String?)
    }

    /// What to do after an attempt.
    public enum Decision: Sendable, Equatable {
        /// Send the request again after this pause.
        case retry(after: Duration)
        /// Keep the outcome: it succeeded, cannot be helped by retrying, or the attempts are used up.
        case stop
    }

    /// Creates a policy; the defaults make 5 attempts, pausing about 0.2 s, 0.4 s, 0.8 s, 1.6 s with full jitter.
    ///
    /// ```swift
    /// let patient = RetryPolicy(maximumAttempts: 10, maximumBackoff: .seconds(30), jitter: .decorrelated)
    /// ```
    public init(
        maximumAttempts: Int = 5,
        initialBackoff: Duration = .milliseconds(200),
        maximumBackoff: Duration = .seconds(10),
        multiplier: Double = 2,
        jitter: Jitter = .full,
        maximumRetryAfter: Duration = .seconds(60)
    ) {
        self.maximumAttempts = maximumAttempts
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.multiplier = multiplier
        self.jitter = jitter
        self.maximumRetryAfter = maximumRetryAfter
    }

    /// One attempt and no retries, for requests that must not arrive twice.
    public static let none = RetryPolicy(maximumAttempts: 1)

    /// Whether a response with `status` may go better when asked again: `408 Request Timeout`, `429 Too Many
    /// Requests`, and `5xx` except `501 Not Implemented` and `505 HTTP Version Not Supported`.
    ///
    /// ```swift
    /// RetryPolicy.isRetryable(status: 503)  // true
    /// ```
    public static func isRetryable(status: Int) -> Bool {
        switch status {
        case 408, 429: true
        case 501, 505: false
        case 500..<600: true
        default: false
        }
    }

    /// Decides what follows `attempt` (1 for the first), which ended with `outcome`.
    ///
    /// ```swift
    /// var random = SystemRandomNumberGenerator()
    /// switch policy.decision(after: .response(status: 503, retryAfter: "2"), attempt: 1, using: &random) {
    /// case .retry(let pause): try await Task.sleep(for: pause)
    /// case .stop: return response
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - previousPause: the pause before `attempt`, which ``Jitter/decorrelated`` grows from; nil for the first.
    ///   - random: where jitter comes from; tests give a seeded generator.
    public func decision(
        after outcome: Outcome,
        attempt: Int,
        previousPause: Duration? = nil,
        using random: inout some RandomNumberGenerator
    ) -> Decision {
        guard attempt < maximumAttempts else { return .stop }
        var requested: Duration? = nil
        switch outcome {
        case .failure(let error):
            guard error.isRetryable else { return .stop }
        case .response(let status, let retryAfter):
            guard Self.isRetryable(status: status) else { return .stop }
            requested = retryAfter.flatMap(Self.parseRetryAfter)
        }
        let pause = backoff(attempt: attempt, previousPause: previousPause, using: &random)
        guard let requested else { return .retry(after: pause) }
        // Coming back before the server asked would only be refused again; coming back much later is no retry.
        guard requested <= maximumRetryAfter else { return .stop }
        return .retry(after: max(pause, requested))
    }

    /// The pause after `attempt`, before any `Retry-After`: within `[0, maximumBackoff]`.
    public func backoff(
        attempt: Int,
        previousPause: Duration? = nil,
        using random: inout some RandomNumberGenerator
    ) -> Duration {
        let cap = nanoseconds(maximumBackoff)
        let initial = min(nanoseconds(initialBackoff), cap)
        switch jitter {
        case .none:
            return .nanoseconds(exponential(attempt: attempt, initial: initial, cap: cap))
        case .full:
            return .nanoseconds(
                Int64.random(in: 0...exponential(attempt: attempt, initial: initial, cap: cap), using: &random)
            )
        case .decorrelated:
            let previous = previousPause.map(nanoseconds) ?? initial
            let upper = min(
                cap,
                max(initial, previous.multipliedReportingOverflow(by: 3).overflow ? cap : previous * 3)
            )
            return .nanoseconds(Int64.random(in: initial...upper, using: &random))
        }
    }

    /// `initial × multiplier^(attempt-1)` nanoseconds, capped, computed without overflow for any attempt number.
    private func exponential(attempt: Int, initial: Int64, cap: Int64) -> Int64 {
        var value = Double(initial)
        for _ in 1..<max(1, attempt) where value < Double(cap) {
            value *= max(1, multiplier)
        }
        return value >= Double(cap) ? cap : Int64(value)
    }

    /// `Retry-After` as delta-seconds. An HTTP-date is not honoured, which leaves the backoff: reading one needs a
    /// clock agreeing with the server's, and the servers this client talks to send seconds.
    static func parseRetryAfter(_ value: String) -> Duration? {
        let trimmed = value.trimmingSpaces()
        guard !trimmed.isEmpty, trimmed.allSatisfy(\.isASCIIDigit), let seconds = Int64(trimmed) else { return nil }
        return .seconds(seconds)
    }
}

extension RetryPolicy {
    /// Runs `operation` until it succeeds, fails in a way retrying cannot help, or the attempts are used up, pausing
    /// in between as ``decision(after:attempt:previousPause:using:)`` says. Returns the last response, whose status
    /// may still be a retryable one once the attempts are used up; throws the last error otherwise. An error other
    /// than ``HTTPClientError`` ends the retries at once and is thrown as it is, so an operation can stop them with
    /// its own. Cancelling the task ends a pause at once with ``HTTPClientError/Code/cancelled``.
    ///
    /// ```swift
    /// let response = try await RetryPolicy().run { attempt in
    ///     receiver.restart()
    ///     let response = try await client.execute(request, successfulBody: receiver.receive)
    ///     if let failure = receiver.failure { throw failure }  // not an HTTPClientError: no retry
    ///     return response
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - random: where jitter comes from.
    ///   - sleep: how a pause is taken; tests record the pauses instead of waiting. A pause that throws ends the
    ///     retries as cancelled.
    ///   - operation: one attempt, given its number, from 1.
    public func run(
        random: some RandomNumberGenerator = SystemRandomNumberGenerator(),
        sleep: (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        isolation: isolated (any Actor)? = #isolation,
        _ operation: (_ attempt: Int) async throws -> HTTPClientResponse
    ) async throws -> HTTPClientResponse {
        var random = random
        var previousPause: Duration? = nil
        var attempt = 1
        while true {
            let result: Result<HTTPClientResponse, HTTPClientError>
            do {
                result = .success(try await operation(attempt))
            } catch let error as HTTPClientError {
                result = .failure(error)
            }
            let outcome: Outcome =
                switch result {
                case .success(let response):
                    .response(status: response.status, retryAfter: response.header("Retry-After"))
                case .failure(let error): .failure(error)
                }
            let decision = decision(after: outcome, attempt: attempt, previousPause: previousPause, using: &random)
            guard case .retry(let pause) = decision else { return try result.get() }
            do {
                try await sleep(pause)
            } catch {
                throw HTTPClientError(
                    code: .cancelled,
                    url: "",
                    message: "retrying was cancelled after attempt \(attempt) of \(maximumAttempts)"
                )
            }
            previousPause = pause
            attempt += 1
        }
    }
}

private func nanoseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    guard seconds >= 0 else { return 0 }
    let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    return overflow ? .max : whole + attoseconds / 1_000_000_000
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    fileprivate func trimmingSpaces() -> Substring {
        let spaces: Set<Character> = [" ", "\t"]
        guard let first = firstIndex(where: { !spaces.contains($0) }) else { return self[endIndex...] }
        return self[first...lastIndex(where: { !spaces.contains($0) })!]
    }
}
