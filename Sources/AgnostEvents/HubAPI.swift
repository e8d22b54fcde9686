import AgnostBundle
import AgnostDigest
import AgnostHTTP
import Foundation

/// The hub's own API beside its broker ingress, for the tools of whoever runs it: list and replay dead letters,
/// fire a cron job now. Every call carries the version's internal token as `Authorization: Bearer`.
///
/// - `GET /agnost/hub/dead-letters`: the dead letters, oldest first, as JSON.
/// - `POST /agnost/hub/dead-letters/<sequence>/replay` (or `all`): sends them again as first attempts.
/// - `POST /agnost/hub/cron/<job>`: fires the job now and answers with its outcome.
enum HubAPI {
    static let prefix = "/agnost/hub/"
    static let deadLettersPath = "/agnost/hub/dead-letters"

    static func replayPath(_ sequence: UInt64?) -> String {
        "\(deadLettersPath)/\(sequence.map(String.init) ?? "all")/replay"
    }

    static func cronPath(_ job: String) -> String { "\(prefix)cron/\(job)" }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

extension EventHub {
    /// Answers a call of the hub's API; see ``HubAPI``.
    nonisolated func administer(
        method: String,
        path: String,
        authorization: String?
    ) async -> (status: Int, body: String) {
        let presented = authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
        guard SHA256.hash(Array(presented.utf8)).constantTimeEquals(internalTokenDigest) else {
            return (401, Self.json(["error": "the hub's API needs this version's internal token as a Bearer token"]))
        }
        let parts = path.dropFirst(HubAPI.prefix.count).split(separator: "/").map(String.init)
        switch (method, parts.count, parts.first) {
        case ("GET", 1, "dead-letters"):
            let letters = await deadLetters()
            let body = (try? HubAPI.encoder.encode(letters)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
            return (200, body)
        case ("POST", 3, "dead-letters") where parts[2] == "replay":
            let sequences: [UInt64]
            if parts[1] == "all" {
                sequences = await deadLetters().map(\.sequence)
            } else if let sequence = UInt64(parts[1]) {
                sequences = [sequence]
            } else {
                return (400, Self.json(["error": "'\(parts[1])' is not a dead letter's number, nor 'all'"]))
            }
            for sequence in sequences {
                do {
                    try await replay(sequence)
                } catch {
                    return (error.code == .notFound ? 404 : 503, Self.json(["error": error.message]))
                }
            }
            return (200, Self.json(["replayed": sequences.count]))
        case ("POST", 2, "cron"):
            do {
                let outcome = try await fire(cronJob: parts[1])
                let body = (try? HubAPI.encoder.encode(outcome)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                return (200, body)
            } catch {
                return (404, Self.json(["error": error.message]))
            }
        default:
            return (404, Self.json(["error": "the hub has no \(method) \(path)"]))
        }
    }
}

/// Talks to a running hub: sends a queue message through its ingress as a handler would, fires a cron job, lists
/// and replays dead letters.
///
/// ```swift
/// let hub = HubClient(ingressURL: "http://127.0.0.1:40123/", service: "todo-v1", internalToken: token)
/// let outcome = try await hub.send(queue: "imports", body: Array(#"{"title":"milk"}"#.utf8))
/// print(outcome.status ?? 0)   // 200, the handler's answer to the first delivery
/// ```
public struct HubClient: Sendable {
    public let ingressURL: String
    public let service: String
    private let internalToken: String
    private let timeout: Duration

    public init(ingressURL: String, service: String, internalToken: String, timeout: Duration = .seconds(60)) {
        self.ingressURL = ingressURL
        self.service = service
        self.internalToken = internalToken
        self.timeout = timeout
    }

    /// How the first delivery of a sent message went.
    public struct SendOutcome: Sendable, Hashable, Decodable {
        /// The event's `id`, which every redelivery keeps.
        public var id: String
        public var attempt: Int
        /// The server's status, nil when there was no answer (``error`` says why).
        public var status: Int?
        public var error: String?
    }

    /// Stores a message in the hub and waits for its first delivery, which starts after `delay`.
    public func send(
        queue: String,
        body: [UInt8],
        contentType: String? = "application/json",
        delay: Duration = .zero
    ) async throws(EventHubError) -> SendOutcome {
        var request = EventRequests.queueMessage(
            queue: queue,
            service: service,
            url: ingressURL,
            body: body,
            contentType: contentType,
            notBefore: delay > .zero
                ? Date().addingTimeInterval(
                    Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
                ) : nil,
            credential: .senderToken(SenderToken.derive(from: internalToken, for: .queue)),
            timeout: timeout + delay
        )
        request.headers.append((IngressServer.waitHeader, "outcome"))
        return try await call(request, decoding: SendOutcome.self)
    }

    /// Fires cron job `job` now, as its schedule would, and returns how the server answered.
    public func fire(cronJob job: String) async throws(EventHubError) -> CronOutcome {
        try await call(request("POST", HubAPI.cronPath(job)), decoding: CronOutcome.self)
    }

    /// The messages the hub gave up on, oldest first.
    public func deadLetters() async throws(EventHubError) -> [DeadLetter] {
        try await call(request("GET", HubAPI.deadLettersPath), decoding: [DeadLetter].self)
    }

    /// Sends dead letter `sequence` (every one when nil) again, and returns how many were.
    public func replay(_ sequence: UInt64?) async throws(EventHubError) -> Int {
        struct Replayed: Decodable { var replayed: Int }
        return try await call(request("POST", HubAPI.replayPath(sequence)), decoding: Replayed.self).replayed
    }

    private func request(_ method: String, _ path: String) -> HTTPClientRequest {
        HTTPClientRequest(
            method: method,
            url: EventRequests.join(ingressURL, path),
            headers: EventRequests.Credential.internalToken(internalToken).headers,
            timeout: timeout
        )
    }

    private func call<Answer: Decodable>(
        _ request: HTTPClientRequest,
        decoding: Answer.Type
    ) async throws(EventHubError) -> Answer {
        let response: HTTPClientResponse
        do {
            response = try await withHTTPClient { client in try await client.execute(request) }
        } catch {
            let reason = (error as? HTTPClientError)?.message ?? "\(error)"
            throw EventHubError(
                .unreachable,
                "the event hub at \(ingressURL) did not answer: \(reason)",
                context: ingressURL,
                underlying: error
            )
        }
        guard response.status == 200 else {
            let reason = (try? JSONDecoder().decode([String: String].self, from: Data(response.body)))?["error"]
            let code: EventHubError.Code = response.status == 404 ? .notFound : .unreachable
            throw EventHubError(
                code,
                reason ?? "the event hub at \(ingressURL) answered \(response.status)",
                context: ingressURL
            )
        }
        do {
            return try HubAPI.decoder.decode(Answer.self, from: Data(response.body))
        } catch {
            throw EventHubError(
                .unreachable,
                "the event hub at \(ingressURL) answered with something other than its API's JSON",
                context: ingressURL,
                underlying: error
            )
        }
    }
}

/// The dead letters of a hub that is not running, read from its log and replayed into it directly; the next hub
/// on that state directory delivers what was replayed.
///
/// ```swift
/// let letters = try await StoredDeadLetters.list(manifest: manifest, stateDirectory: directory)
/// let replayed = try await StoredDeadLetters.replay(nil, manifest: manifest, stateDirectory: directory)
/// ```
public enum StoredDeadLetters {
    /// The dead letters kept in `stateDirectory`, oldest first.
    ///
    /// - Throws: ``EventHubError`` with `locked` while a hub holds the directory.
    public static func list(
        manifest: BundleManifest,
        stateDirectory: URL
    ) async throws(EventHubError) -> [DeadLetter] {
        try await withOpenedLog(manifest: manifest, stateDirectory: stateDirectory) { _, machine in
            machine.deadLetters.values.sorted { $0.sequence < $1.sequence }
        }
    }

    /// Queues dead letter `sequence` (every one when nil) as a first attempt, on disk, and returns how many were.
    public static func replay(
        _ sequence: UInt64?,
        manifest: BundleManifest,
        stateDirectory: URL
    ) async throws(EventHubError) -> Int {
        try await withOpenedLog(manifest: manifest, stateDirectory: stateDirectory) {
            (log, machine) async throws(EventHubError) in
            let sequences = sequence.map { [$0] } ?? machine.deadLetters.keys.sorted()
            var records: [EventRecord] = []
            for sequence in sequences {
                guard let record = machine.replay(sequence, at: Date()) else {
                    throw EventHubError(.notFound, "no dead letter \(sequence)", context: String(sequence))
                }
                records.append(record)
            }
            if !records.isEmpty { try log.append(records) }
            return records.count
        }
    }

    /// Runs `body` on the directory's log and the state its records fold into, and closes the log after it
    /// whatever `body` did: a log left to its last reference would keep the lock from the next open.
    private static func withOpenedLog<Result>(
        manifest: BundleManifest,
        stateDirectory: URL,
        _ body: (EventLog, inout DeliveryMachine) async throws(EventHubError) -> Result
    ) async throws(EventHubError) -> Result {
        let (log, records) = try EventLog.open(directory: stateDirectory)
        var machine = DeliveryMachine(queues: QueueSettings.all(in: manifest), records: records)
        let result: Swift.Result<Result, EventHubError>
        do {
            result = .success(try await body(log, &machine))
        } catch {
            result = .failure(error)
        }
        log.close()
        return try result.get()
    }
}
