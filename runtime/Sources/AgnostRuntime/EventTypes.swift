public import NIOCore

/// One delivery of a queue message to its handler.
public struct QueueMessage: Sendable {
    /// Unique per message; redeliveries keep it, so handlers can deduplicate.
    public let id: String
    /// The queue's `name` in `agnost.yaml`.
    public let queue: String
    /// 1 on the first delivery, then counting retries.
    public let attempt: Int
    public let body: ByteBuffer

    public init(id: String, queue: String, attempt: Int, body: ByteBuffer) {
        self.id = id
        self.queue = queue
        self.attempt = attempt
        self.body = body
    }
}

/// One firing of a cron job.
public struct CronTick: Sendable {
    /// The job's `name` in `agnost.yaml`.
    public let job: String
    /// The schedule as written.
    public let schedule: String

    public init(job: String, schedule: String) {
        self.job = job
        self.schedule = schedule
    }
}
