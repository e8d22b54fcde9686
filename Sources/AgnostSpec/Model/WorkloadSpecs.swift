import AgnostCron

/// One entry of `queues:`: messages sent to the queue are delivered to its handler.
///
/// ```swift
/// let emails = spec.queues.first { $0.name.value == "emails" }
/// emails?.retries  // 5: deliveries after the first failure, then dead-letter
/// ```
public struct QueueSpec: Hashable, Sendable {
    public var name: Located<String>
    public var handler: Located<String>
    /// Redeliveries after a failed delivery before the message is dead-lettered.
    public var retries: Int
    /// How long a message waits before its first delivery.
    public var delay: Duration
    /// How long one delivery may run; nil means the version's `scaling.timeout`.
    public var timeout: Duration?
    /// The queue that receives the messages whose last retry failed; nil keeps them as dead letters.
    public var deadLetter: Located<String>?
    /// Where the queue's list item starts.
    public var location: SourceLocation

    public init(
        name: Located<String>,
        handler: Located<String>,
        retries: Int = 3,
        delay: Duration = .zero,
        timeout: Duration? = nil,
        deadLetter: Located<String>? = nil,
        location: SourceLocation
    ) {
        self.name = name
        self.handler = handler
        self.retries = retries
        self.delay = delay
        self.timeout = timeout
        self.deadLetter = deadLetter
        self.location = location
    }
}

/// One entry of `cron:`: a handler run on a schedule.
///
/// ```swift
/// let cleanup = spec.cronJobs.first { $0.name.value == "cleanup" }
/// cleanup?.schedule.minutes.values  // [0, 5, 10, …, 55] for "*/5 * * * *"
/// ```
public struct CronJobSpec: Hashable, Sendable {
    public var name: Located<String>
    public var schedule: CronExpression
    /// An IANA time zone identifier such as "Europe/Istanbul".
    public var timezone: String
    public var handler: Located<String>
    public var enabled: Bool
    /// How long one run may take; nil means the version's `scaling.timeout`.
    public var timeout: Duration?
    /// Where the cron job's list item starts.
    public var location: SourceLocation

    public init(
        name: Located<String>,
        schedule: CronExpression,
        timezone: String = "UTC",
        handler: Located<String>,
        enabled: Bool = true,
        timeout: Duration? = nil,
        location: SourceLocation
    ) {
        self.timeout = timeout
        self.name = name
        self.schedule = schedule
        self.timezone = timezone
        self.handler = handler
        self.enabled = enabled
        self.location = location
    }
}
