import AgnostBundle
public import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Sends messages to one queue of this version; get one from ``Context/queue(_:)``.
///
/// The queue name is checked when `send` runs, against the queues in `bundle.json`: the handler library is
/// compiled before the code generated from `agnost.yaml`, so the compiler cannot check it.
///
/// ```swift
/// try await context.queue("emails").send(Email(to: "ada@example.com"), delay: .seconds(10))
/// try await context.queue("thumbnails").send(pngBytes, contentType: "image/png")
/// ```
public struct QueueSender: Sendable {
    /// The queue's `name` in `agnost.yaml`.
    public let queue: String
    let sending: QueueSending

    /// Sends `value` as JSON (`application/json`), and returns once the broker has accepted it.
    ///
    /// - Parameter delay: how long the message waits before its first delivery; zero leaves it to the queue's own
    ///   `delay` in `agnost.yaml`.
    public func send(_ value: some Encodable, delay: Duration = .zero) async throws(QueueSendError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body: Data
        do {
            body = try encoder.encode(value)
        } catch {
            throw QueueSendError(
                .unencodable,
                "the message for queue '\(queue)' does not encode as JSON: \(error)",
                queue: queue
            )
        }
        try await send(ByteBuffer(bytes: body), contentType: "application/json", delay: delay)
    }

    /// Sends raw bytes with their media type, and returns once the broker has accepted them.
    public func send(_ bytes: ByteBuffer, contentType: String, delay: Duration = .zero) async throws(QueueSendError) {
        try await sending.send(queue: queue, body: bytes, contentType: contentType, delay: delay)
    }
}

/// Why a message could not be sent; it never carries the version's tokens.
public struct QueueSendError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// ``AgnostBundle/EventContract/brokerURLVariable`` is not set.
        case brokerNotConfigured
        /// The version declares no queue of that name.
        case unknownQueue
        /// The value did not encode as JSON.
        case unencodable
        /// The broker could not be reached.
        case connectionFailed
        /// The broker answered, but not with a 2xx.
        case rejected
        /// The broker did not answer in time.
        case timedOut
        /// The sending task was cancelled, as when its handler ran past its timeout.
        case cancelled
    }

    public let code: Code
    public let message: String
    public let queue: String
    /// The broker's status, for ``Code/rejected``.
    public let status: Int?

    package init(_ code: Code, _ message: String, queue: String, status: Int? = nil) {
        self.code = code
        self.message = message
        self.queue = queue
        self.status = status
    }

    public var description: String { message }
}

/// A queue message as a handler sent it, before it becomes a CloudEvent.
package struct OutgoingMessage: Sendable {
    package let queue: String
    /// The CloudEvent id: 128 random bits, which the receiving handler sees on every delivery.
    package let id: String
    package let body: ByteBuffer
    package let contentType: String
    package let time: Date
    /// When a delay was asked for, the time before which it must not be delivered.
    package let notBefore: Date?
}

/// Takes sent messages: the broker over HTTP in a server, memory in ``AgnostRuntimeTesting``.
package protocol QueueOutbox: Sendable {
    func post(_ message: OutgoingMessage) async throws(QueueSendError)
}

/// The sending side of a version, shared by every ``Context``: its queues and where messages go.
package final class QueueSending: Sendable {
    private let knownQueues: Set<String>
    private let outbox: (any QueueOutbox)?

    /// - Parameter outbox: `nil` when no broker is configured, so that every send says so.
    package init(queues: [String], outbox: (any QueueOutbox)?) {
        self.knownQueues = Set(queues)
        self.outbox = outbox
    }

    func send(queue: String, body: ByteBuffer, contentType: String, delay: Duration) async throws(QueueSendError) {
        guard knownQueues.contains(queue) else {
            let known = knownQueues.sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw QueueSendError(
                .unknownQueue,
                "no queue named '\(queue)' in agnost.yaml; "
                    + (known.isEmpty ? "this version declares no queues" : "its queues are \(known)"),
                queue: queue
            )
        }
        guard let outbox else {
            throw QueueSendError(
                .brokerNotConfigured,
                "cannot send to queue '\(queue)': \(EventContract.brokerURLVariable) is not set",
                queue: queue
            )
        }
        let now = Date()
        let message = OutgoingMessage(
            queue: queue,
            id: RequestID.random(),
            body: body,
            contentType: contentType,
            time: now,
            notBefore: delay > .zero ? now.addingTimeInterval(delay.milliseconds / 1000) : nil
        )
        try await outbox.post(message)
    }
}

/// POSTs each message as one binary-mode CloudEvent to the broker, with the `.queue` sender token.
struct BrokerOutbox: QueueOutbox {
    let client: BrokerClient
    let service: String
    let token: String?

    func post(_ message: OutgoingMessage) async throws(QueueSendError) {
        var headers: [(String, String)] = [
            ("ce-specversion", "1.0"),
            ("ce-id", message.id),
            ("ce-source", EventContract.queueSource(service: service)),
            ("ce-type", EventContract.queueMessageType),
            ("ce-time", RFC3339.format(message.time)),
            ("ce-" + EventContract.Extension.service, service),
            ("ce-" + EventContract.Extension.queue, message.queue),
            ("content-type", message.contentType),
        ]
        if let notBefore = message.notBefore {
            headers.append(("ce-" + EventContract.Extension.notBefore, RFC3339.format(notBefore)))
        }
        if let token {
            headers.append(("ce-" + EventContract.Extension.token, token))
        }
        let headerValues = headers.map {
            ($0.0, $0.0.hasPrefix("ce-") ? PercentEncoding.encodeHeaderValue($0.1) : $0.1)
        }
        let url = client.address.display
        let queue = message.queue
        let reply: BrokerClient.Reply
        do throws(BrokerClient.Failure) {
            reply = try await client.post(headers: headerValues, body: message.body)
        } catch {
            switch error {
            case .cannotConnect(let reason):
                throw QueueSendError(.connectionFailed, "cannot reach the broker at \(url): \(reason)", queue: queue)
            case .closed:
                throw QueueSendError(
                    .connectionFailed,
                    "the broker at \(url) closed the connection before answering",
                    queue: queue
                )
            case .timedOut:
                throw QueueSendError(.timedOut, "the broker at \(url) did not answer in time", queue: queue)
            case .cancelled:
                throw QueueSendError(.cancelled, "sending to queue '\(queue)' was cancelled", queue: queue)
            }
        }
        guard EventContract.isAcknowledged(status: reply.status) else {
            let excerpt = reply.excerpt.isEmpty ? "" : ": \(reply.excerpt)"
            throw QueueSendError(
                .rejected,
                "the broker at \(url) answered \(reply.status) for queue '\(queue)'\(excerpt)",
                queue: queue,
                status: reply.status
            )
        }
    }
}
