import AgnostDigest

/// The CloudEvents contract between a version's server and the senders of its events: the Knative PingSource and
/// Broker on a cluster, the local event hub of `run`, and `invoke`.
///
/// Both sides read these names from here, so a queue message sent by a handler, stored by the local hub and
/// delivered back, or routed by a Knative Trigger, carries the same attributes everywhere.
///
/// ```swift
/// EventContract.queuePath("emails")                  // "/agnost/queue/emails"
/// EventContract.Extension.queue                      // "agnostqueue"
/// EventContract.isRetried(status: 503)               // true: the broker tries again
/// ```
public enum EventContract {
    /// The `type` of every queue message; Triggers filter on it and on ``Extension/service`` and
    /// ``Extension/queue``.
    public static let queueMessageType = "dev.agnost.queue.message"
    /// The `type` a Knative PingSource gives its events; the local scheduler sends the same.
    public static let cronTickType = "dev.knative.sources.ping"

    /// CloudEvents extension attributes (lowercase letters and digits, at most 20 characters, as the
    /// specification recommends).
    public enum Extension {
        /// `<app>-<version>`: the Service whose handler the message is for.
        public static let service = "agnostservice"
        /// The queue's `name` in `agnost.yaml`.
        public static let queue = "agnostqueue"
        /// The sender's credential; see ``SenderToken``.
        public static let token = "agnosttoken"
        /// The delivery attempt, 1 first, as the local hub counts them; Knative's Broker does not say.
        public static let attempt = "agnostattempt"
        /// RFC 3339 time before which the message must not be delivered: a per-message delay.
        public static let notBefore = "agnostnotbefore"
    }

    /// The environment variable with the version's internal token, from its Secret.
    public static let internalTokenVariable = "AGNOST_INTERNAL_TOKEN"
    /// The environment variable with the URL that `send` POSTs queue messages to.
    public static let brokerURLVariable = "AGNOST_BROKER_URL"

    /// Where cron job `name` is delivered.
    public static func cronPath(_ name: String) -> String { "/agnost/cron/\(name)" }
    /// Where the messages of queue `name` are delivered.
    public static func queuePath(_ name: String) -> String { "/agnost/queue/\(name)" }
    /// The `source` of messages sent by the version `service`.
    public static func queueSource(service: String) -> String { "/agnost/\(service)" }
    /// The PingSource object of a cron job: `<service>-cron-<job>`.
    public static func pingSourceName(service: String, job: String) -> String { "\(service)-cron-\(job)" }
    /// The Trigger object of a queue: `<service>-queue-<queue>`.
    public static func triggerName(service: String, queue: String) -> String { "\(service)-queue-\(queue)" }
    /// The `source` a PingSource gives its events, which the local scheduler imitates.
    public static func pingSourceSource(namespace: String, name: String) -> String {
        "/apis/v1/namespaces/\(namespace)/pingsources/\(name)"
    }

    /// Knative's delivery contract: a 2xx acknowledges; 5xx, 404, 408, 409 and 429 are retried and then
    /// dead-lettered; any other status is a permanent failure, dead-lettered at once.
    public static func isRetried(status: Int) -> Bool {
        status >= 500 || [404, 408, 409, 429].contains(status)
    }

    /// Whether `status` acknowledges the event.
    public static func isAcknowledged(status: Int) -> Bool { (200..<300).contains(status) }
}

/// The credential each sender of events carries, derived from the version's internal token.
///
/// A PingSource's spec holds its event's extensions in plain text, readable by whoever may read PingSources; a
/// queue message's token travels through the Broker to every subscriber of the namespace's Broker. So each
/// sender carries its own HMAC-SHA256 of the internal token: a cron token fires cron jobs only, a queue token
/// delivers queue messages only, and neither reveals the internal token, which never leaves the Secret.
///
/// ```swift
/// let token = SenderToken.derive(from: internalToken, for: .cron)   // 64 hex digits
/// ```
public enum SenderToken {
    public enum Sender: String, Sendable, CaseIterable {
        case cron
        case queue
    }

    public static func derive(from internalToken: String, for sender: Sender) -> String {
        HMACSHA256.authenticate(Array("agnost-fn \(sender.rawValue) sender".utf8), key: Array(internalToken.utf8))
            .hexString
    }
}
