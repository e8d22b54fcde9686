import AgnostBundle
import Foundation

/// How the hub delivers one queue's messages: from its plan in `bundle.json` plus local limits.
///
/// ```swift
/// let settings = QueueSettings(plan: manifest.queues[0], concurrency: 4)
/// settings.backoff.delay(afterAttempt: 3)   // base × 4, at most the cap
/// ```
struct QueueSettings: Sendable, Hashable {
    var name: String
    /// Redeliveries after the first failed delivery; then the message is dead-lettered.
    var retries: Int
    /// The delay before a message's first delivery, unless it names its own not-before time.
    var delay: Duration
    /// How long one delivery may take.
    var timeout: Duration
    /// The most deliveries of this queue in flight at once.
    var concurrency: Int
    var backoff: Backoff
    /// The queue that receives dead letters; nil keeps them aside, listable and replayable.
    var deadLetter: String?

    init(
        name: String,
        retries: Int,
        delay: Duration = .zero,
        timeout: Duration = .seconds(30),
        concurrency: Int = 8,
        backoff: Backoff = Backoff(),
        deadLetter: String? = nil
    ) {
        self.name = name
        self.retries = max(0, retries)
        self.delay = max(.zero, delay)
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
        self.backoff = backoff
        self.deadLetter = deadLetter
    }

    /// The settings of a queue as `bundle.json` plans it.
    init(plan: QueuePlan, concurrency: Int = 8, backoff: Backoff = Backoff()) {
        self.init(
            name: plan.name,
            retries: plan.retries,
            delay: .milliseconds(plan.delayMilliseconds),
            timeout: .milliseconds(plan.timeoutMilliseconds),
            concurrency: concurrency,
            backoff: backoff,
            deadLetter: plan.deadLetter
        )
    }

    /// The settings of every queue `manifest` plans, under the hub's `limits`.
    static func all(in manifest: BundleManifest, limits: EventHubLimits = EventHubLimits()) -> [QueueSettings] {
        manifest.queues.map { QueueSettings(plan: $0, concurrency: limits.concurrency, backoff: limits.backoff) }
    }
}

/// Exponential backoff between delivery attempts, as Knative's `backoffPolicy: exponential`: `base × 2^(n-1)` after
/// attempt `n`, never more than `cap`.
///
/// ```swift
/// Backoff(base: .seconds(1), cap: .seconds(10)).delay(afterAttempt: 5)   // 10 s, not 16 s
/// ```
public struct Backoff: Sendable, Hashable {
    public var base: Duration
    public var cap: Duration

    /// By default as the Triggers a deploy writes (`backoffDelay: PT1S`), so a queue retries locally as it will on
    /// Knative; capped at 5 minutes, where Knative has no cap, so that a long `retries` stays watchable.
    public init(base: Duration = .seconds(1), cap: Duration = .seconds(300)) {
        self.base = max(.zero, base)
        self.cap = max(self.base, cap)
    }

    public func delay(afterAttempt attempt: Int) -> Duration {
        // Doubling past 2^30 exceeds any sensible cap; stop there so the multiplication cannot overflow.
        let doublings = min(max(0, attempt - 1), 30)
        return min(cap, base * (1 << doublings))
    }
}

extension Duration {
    /// The duration in seconds, for `Date` arithmetic.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
