import AgnostBundle
import AgnostHTTP
import Foundation

/// The CloudEvents requests the hub and its callers send, in binary mode: one definition of a cron tick and of a
/// queue message, whether it goes to a server's own path or to a broker's ingress.
///
/// ```swift
/// let tick = EventRequests.cronTick(job, service: "todo-v1", url: "http://127.0.0.1:8080", token: .internal(token))
/// ```
public enum EventRequests {
    /// How a request proves it comes from one of the version's senders.
    public enum Credential: Sendable {
        /// `Authorization: Bearer` with the version's internal token, which its server accepts on every event path.
        case internalToken(String)
        /// A sender token in the event's `agnosttoken` extension, as a PingSource or the Broker carries it.
        case senderToken(String)
    }

    /// A PingSource's event for cron job `job` of `service`, scheduled at `scheduledAt`, POSTed to
    /// `<server>/agnost/cron/<job>`.
    public static func cronTick(
        _ job: CronJobPlan,
        service: String,
        namespace: String = "local",
        server: String,
        scheduledAt: Date,
        credential: Credential
    ) -> HTTPClientRequest {
        let body = (try? JSONSerialization.data(withJSONObject: ["job": job.name])).map(Array.init) ?? []
        let source = EventContract.pingSourceSource(
            namespace: namespace,
            name: EventContract.pingSourceName(service: service, job: job.name)
        )
        let headers: [(name: String, value: String)] = [
            ("ce-specversion", "1.0"),
            ("ce-id", UUID().uuidString.lowercased()),
            ("ce-source", source),
            ("ce-type", EventContract.cronTickType),
            ("ce-time", IngressRequest.formatTimestamp(scheduledAt)),
            ("Content-Type", "application/json"),
        ]
        return HTTPClientRequest(
            method: "POST",
            url: join(server, EventContract.cronPath(job.name)),
            headers: headers + credential.headers,
            body: body,
            // The server answers 504 itself when the handler overruns; the margin leaves it time to.
            timeout: .milliseconds(job.timeoutMilliseconds) + .seconds(5)
        )
    }

    /// A message of queue `queue` sent by `service`, as its handlers send one: POSTed to `url` itself, which is a
    /// broker's ingress or the server's `/agnost/queue/<queue>`.
    public static func queueMessage(
        queue: String,
        service: String,
        url: String,
        body: [UInt8],
        contentType: String?,
        notBefore: Date? = nil,
        credential: Credential,
        timeout: Duration
    ) -> HTTPClientRequest {
        var headers: [(name: String, value: String)] = [
            ("ce-specversion", "1.0"),
            ("ce-id", UUID().uuidString.lowercased()),
            ("ce-source", EventContract.queueSource(service: service)),
            ("ce-type", EventContract.queueMessageType),
            ("ce-time", IngressRequest.formatTimestamp(Date())),
            ("ce-\(EventContract.Extension.service)", service),
            ("ce-\(EventContract.Extension.queue)", queue),
        ]
        if let notBefore {
            headers.append(("ce-\(EventContract.Extension.notBefore)", IngressRequest.formatTimestamp(notBefore)))
        }
        if let contentType { headers.append(("Content-Type", contentType)) }
        return HTTPClientRequest(
            method: "POST",
            url: url,
            headers: headers + credential.headers,
            body: body,
            timeout: timeout
        )
    }

    /// `base` and `path` with one slash between them.
    static func join(_ base: String, _ path: String) -> String {
        (base.hasSuffix("/") ? String(base.dropLast()) : base) + path
    }
}

extension EventRequests.Credential {
    var headers: [(name: String, value: String)] {
        switch self {
        case .internalToken(let token): [("Authorization", "Bearer \(token)")]
        case .senderToken(let token): [("ce-\(EventContract.Extension.token)", token)]
        }
    }
}
