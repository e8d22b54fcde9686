import AgnostBundle
import AgnostCron
import AgnostDigest
import AgnostHTTP
import Foundation
import NIOCore
import NIOPosix

/// What an ``EventHub`` serves and where it keeps its state.
///
/// ```swift
/// let configuration = EventHubConfiguration(
///     manifest: manifest,
///     stateDirectory: URL(fileURLWithPath: ".agnost/state/events"),
///     serverURL: "http://127.0.0.1:8080",
///     internalToken: token
/// )
/// ```
public struct EventHubConfiguration: Sendable {
    public var manifest: BundleManifest
    /// The directory of the hub's log; created when missing.
    public var stateDirectory: URL
    /// The version's server; nil while none runs, and deliveries wait. See ``EventHub/setServerURL(_:)``.
    public var serverURL: String?
    /// The version's internal token: cron firings carry it, and queue tokens derive from it.
    public var internalToken: String
    public var limits: EventHubLimits
    /// The ingress's address: loopback and a free port unless told otherwise.
    public var host: String
    public var port: Int
    /// The wall clock, replaced in tests to bring a cron firing near.
    var now: @Sendable () -> Date = { Date() }

    public init(
        manifest: BundleManifest,
        stateDirectory: URL,
        serverURL: String?,
        internalToken: String,
        limits: EventHubLimits = EventHubLimits(),
        host: String = "127.0.0.1",
        port: Int = 0
    ) {
        self.manifest = manifest
        self.stateDirectory = stateDirectory
        self.serverURL = serverURL
        self.internalToken = internalToken
        self.limits = limits
        self.host = host
        self.port = port
    }
}

/// The hub's bounds.
///
/// ```swift
/// let limits = EventHubLimits(concurrency: 2, backoff: Backoff(base: .seconds(1), cap: .seconds(30)))
/// ```
public struct EventHubLimits: Sendable, Hashable {
    /// The most deliveries in flight per queue.
    public var concurrency: Int
    public var backoff: Backoff
    /// The largest event the ingress accepts, in bytes.
    public var maximumEventSize: Int
    /// The log is compacted once it holds this many records and fewer than a quarter of them are live.
    public var compactionThreshold: Int

    public init(
        concurrency: Int = 32,
        backoff: Backoff = Backoff(),
        maximumEventSize: Int = 4 << 20,
        compactionThreshold: Int = 10_000
    ) {
        self.concurrency = max(1, concurrency)
        self.backoff = backoff
        self.maximumEventSize = maximumEventSize
        self.compactionThreshold = max(16, compactionThreshold)
    }
}

/// Runs an ``EventHub`` for the duration of `body`, then stops its ingress, deliveries and cron jobs.
///
/// ```swift
/// try await withEventHub(configuration) { hub in
///     print("broker at", await hub.ingressURL)
///     for await event in hub.events { print(event) }
/// }
/// ```
public func withEventHub<T: Sendable>(
    _ configuration: EventHubConfiguration,
    _ body: (EventHub) async throws -> T
) async throws -> T {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let hub: EventHub
    do {
        hub = try EventHub(configuration: configuration, eventLoop: group.next())
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
    let ingress = IngressServer(hub: hub, host: configuration.host, port: configuration.port)
    let result: Result<T, any Error>
    do {
        let url = try await ingress.start(maximumEventSize: configuration.limits.maximumEventSize)
        await hub.start(ingressURL: url)
        result = .success(try await body(hub))
    } catch {
        result = .failure(error)
    }
    await hub.stop()
    await ingress.stop()
    try? await group.shutdownGracefully()
    return try result.get()
}

/// The local broker and scheduler of one app version: accepts queue messages durably, delivers them to the
/// version's server with retries, backoff and dead letters, and fires its cron jobs as a PingSource would.
///
/// The hub runs on an event loop of its own, which its ingress and its deliveries use too, so that a message is
/// received, stored, delivered and acknowledged without changing threads. Create one with ``withEventHub(_:_:)``.
public actor EventHub {
    /// The thread everything of the hub runs on: its actor, its ingress and its deliveries.
    nonisolated let eventLoop: any EventLoop
    private let manifest: BundleManifest
    /// For the hub's own API, which its owner's tools call with the internal token.
    let internalTokenDigest: SHA256Digest
    private let queueToken: String
    private let queueTokenDigest: SHA256Digest
    private let cronToken: String
    private let limits: EventHubLimits
    private let now: @Sendable () -> Date
    private let log: EventLog
    private let client: DeliveryClient
    private var machine: DeliveryMachine
    private var recordsInLog: Int
    /// What waits for the records staged in the log to be on disk; they are committed together once the event
    /// loop has read every request that was ready.
    private var awaitingCommit: [(EventHubError?) -> Void] = []
    private var serverURL: String?
    private var storageFailure: EventHubError?
    private var stopping = false
    private var wakeTask: Task<Void, Never>?
    private var wakeAt: Date?
    private var cronTasks: [Task<Void, Never>] = []
    /// Senders waiting for the first delivery of their message, which may end before they start waiting.
    private var firstDeliveries: [UInt64: FirstDeliveryWait] = [:]
    private var announcedUnavailable = false
    private let schedules: [(job: CronJobPlan, schedule: CronSchedule)]
    private let eventContinuation: AsyncStream<HubEvent>.Continuation

    /// The broker ingress, for `AGNOST_BROKER_URL`: `http://127.0.0.1:<port>/`.
    public private(set) var ingressURL = ""
    /// What the hub does, as it happens; the newest 10 000 are kept while nobody reads.
    public nonisolated let events: AsyncStream<HubEvent>

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        eventLoop.executor.asUnownedSerialExecutor()
    }

    init(configuration: EventHubConfiguration, eventLoop: any EventLoop) throws(EventHubError) {
        self.eventLoop = eventLoop
        manifest = configuration.manifest
        internalTokenDigest = SHA256.hash(Array(configuration.internalToken.utf8))
        queueToken = SenderToken.derive(from: configuration.internalToken, for: .queue)
        queueTokenDigest = SHA256.hash(Array(queueToken.utf8))
        cronToken = SenderToken.derive(from: configuration.internalToken, for: .cron)
        limits = configuration.limits
        now = configuration.now
        serverURL = configuration.serverURL
        var schedules: [(CronJobPlan, CronSchedule)] = []
        for job in manifest.cronJobs {
            let expression: CronExpression
            do {
                expression = try CronExpression(parsing: job.schedule)
            } catch {
                throw EventHubError(
                    .invalidSchedule,
                    "cron job '\(job.name)': \(error.message)",
                    context: job.name
                )
            }
            schedules.append((job, try CronSchedule(expression: expression, timeZone: job.timezone)))
        }
        self.schedules = schedules
        let (log, records) = try EventLog.open(directory: configuration.stateDirectory)
        self.log = log
        client = DeliveryClient(eventLoop: eventLoop)
        recordsInLog = records.count
        machine = DeliveryMachine(
            queues: QueueSettings.all(in: manifest, limits: configuration.limits),
            records: records
        )
        (events, eventContinuation) = AsyncStream.makeStream(
            of: HubEvent.self,
            bufferingPolicy: .bufferingNewest(10_000)
        )
    }

    fileprivate func start(ingressURL: String) {
        self.ingressURL = ingressURL
        for (job, schedule) in schedules where job.enabled {
            cronTasks.append(Task { await self.runSchedule(of: job, schedule) })
        }
        pump()
    }

    fileprivate func stop() async {
        stopping = true
        wakeTask?.cancel()
        for task in cronTasks { task.cancel() }
        // Deliveries running end now as failures, which a stopping hub does not record: they are sent again.
        client.close()
        for task in cronTasks { await task.value }
        commitStaged()
        for case .waiting(let respond) in firstDeliveries.values {
            respond(503, Self.json(["error": "the hub stopped before delivering"]))
        }
        firstDeliveries = [:]
        eventContinuation.finish()
        // Closed here, not when the hub is freed: a hub started next on the same directory must find it unlocked.
        log.close()
    }

    /// Points deliveries at the version's server, after it (re)started on a new port; nil while it is down, and
    /// deliveries wait.
    public func setServerURL(_ url: String?) {
        if url != serverURL { client.forgetIdleConnections() }
        serverURL = url
        announcedUnavailable = false
        pump()
    }

    /// The messages given up on and kept aside, oldest first.
    public func deadLetters() -> [DeadLetter] {
        machine.deadLetters.values.sorted { $0.sequence < $1.sequence }
    }

    /// Sends dead letter `sequence` again to its queue, as a first attempt, once that is on disk.
    public func replay(_ sequence: UInt64) throws(EventHubError) {
        guard let record = machine.replay(sequence, at: now()) else {
            throw EventHubError(.notFound, "no dead letter \(sequence)", context: String(sequence))
        }
        var failure: EventHubError?
        persist([record]) { failure = $0 }
        commitStaged()
        if let failure { throw failure }
        pump()
    }

    /// Fires cron job `name` now, enabled or not, and returns how the server answered.
    public func fire(cronJob name: String) async throws(EventHubError) -> CronOutcome {
        guard let job = manifest.cronJobs.first(where: { $0.name == name }) else {
            let known = manifest.cronJobs.map(\.name).joined(separator: ", ")
            throw EventHubError(
                .notFound,
                "no cron job '\(name)'" + (known.isEmpty ? "; there are none" : "; the jobs are \(known)"),
                context: name
            )
        }
        return await fire(job, scheduledAt: now())
    }

    // MARK: Ingress

    /// Stores an event POSTed to the ingress, and calls `respond` with the status and body of the answer: 202 once
    /// the event is on disk, or the first delivery's outcome when `waitForOutcome`.
    func receive(
        headers: [(name: String, value: String)],
        body: [UInt8],
        waitForOutcome: Bool,
        respond: @escaping @Sendable (Int, String) -> Void
    ) {
        let request: IngressRequest
        do {
            request = try IngressRequest(
                headers: headers,
                body: body,
                service: manifest.serviceName,
                queues: manifest.queues.map(\.name),
                tokenDigest: queueTokenDigest
            )
        } catch {
            return respond(error.status, Self.json(["error": error.reason]))
        }
        if let storageFailure { return respond(503, Self.json(["error": storageFailure.message])) }
        guard !stopping, let record = machine.accept(request.message, notBefore: request.notBefore, at: now()),
            case .accepted(let sequence, _, _, let dueAt) = record
        else {
            return respond(503, Self.json(["error": "the hub is stopping"]))
        }
        if waitForOutcome { firstDeliveries[sequence] = .expected }
        persist([record]) { failure in
            if let failure {
                self.firstDeliveries[sequence] = nil
                return respond(503, Self.json(["error": failure.message]))
            }
            self.eventContinuation.yield(.accepted(queue: request.message.queue, id: request.message.id, dueAt: dueAt))
            guard waitForOutcome else {
                self.pump()
                return respond(202, "")
            }
            if case .done(let delivery) = self.firstDeliveries.removeValue(forKey: sequence) {
                respond(200, Self.json(delivery))
            } else {
                self.firstDeliveries[sequence] = .waiting(respond)
                self.pump()
            }
        }
    }

    // MARK: Delivery

    /// Starts every delivery that is due, and sets a timer for the next one.
    private func pump() {
        guard !stopping, storageFailure == nil else { return }
        while true {
            let current = now()
            guard serverURL != nil else {
                guard !announcedUnavailable else { return }
                var probe = machine
                if case .deliver = probe.next(at: current) {
                    announcedUnavailable = true
                    eventContinuation.yield(.serverUnavailable)
                }
                return
            }
            switch machine.next(at: current) {
            case .deliver(let sequence, let message, let attempt):
                startDelivery(sequence, message, attempt: attempt)
            case .wait(let until):
                wake(at: until)
                return
            case .idle:
                return
            }
        }
    }

    private func wake(at date: Date) {
        if let wakeAt, wakeAt <= date, wakeTask != nil { return }
        wakeTask?.cancel()
        wakeAt = date
        let delay = max(0, date.timeIntervalSince(now()))
        wakeTask = Task {
            try? await Task.sleep(for: .seconds(delay))
            guard !Task.isCancelled else { return }
            self.woke()
        }
    }

    private func woke() {
        wakeTask = nil
        wakeAt = nil
        pump()
    }

    private func startDelivery(_ sequence: UInt64, _ message: QueueMessage, attempt: Int) {
        guard let serverURL, let queue = manifest.queues.first(where: { $0.name == message.queue }) else { return }
        var headers: [(name: String, value: String)] = message.attributes.sorted { $0.key < $1.key }.map {
            ("ce-\($0.key)", $0.value)
        }
        headers.append(("ce-\(EventContract.Extension.attempt)", String(attempt)))
        headers.append(("ce-\(EventContract.Extension.token)", queueToken))
        if let contentType = message.contentType { headers.append(("Content-Type", contentType)) }
        let request = HTTPClientRequest(
            method: "POST",
            url: EventRequests.join(serverURL, EventContract.queuePath(message.queue)),
            headers: headers,
            body: Array(message.body),
            // The server answers 504 itself when the handler overruns; the margin leaves it time to.
            timeout: .milliseconds(queue.timeoutMilliseconds) + .seconds(5)
        )
        client.send(request) { outcome, duration in
            self.finish(sequence, message, attempt: attempt, outcome: outcome, duration: duration)
        }
    }

    private func finish(
        _ sequence: UInt64,
        _ message: QueueMessage,
        attempt: Int,
        outcome: DeliveryOutcome,
        duration: Duration
    ) {
        guard !stopping, let (record, resolution) = machine.complete(sequence, with: outcome, at: now()) else {
            return
        }
        pump()
        let delivery = FirstDelivery(id: message.id, attempt: attempt, result: outcome)
        switch firstDeliveries[sequence] {
        case .expected: firstDeliveries[sequence] = .done(delivery)
        case .waiting(let respond):
            firstDeliveries[sequence] = nil
            respond(200, Self.json(delivery))
        case .done, nil: break
        }
        persist([record]) { failure in
            guard failure == nil else { return }
            self.report(resolution, of: message, attempt: attempt, outcome: outcome, duration: duration)
        }
    }

    private func report(
        _ resolution: DeliveryMachine.Resolution,
        of message: QueueMessage,
        attempt: Int,
        outcome: DeliveryOutcome,
        duration: Duration
    ) {
        switch (resolution, outcome) {
        case (.acknowledged, .status(let status)):
            eventContinuation.yield(
                .delivered(queue: message.queue, id: message.id, status: status, duration: duration, attempt: attempt)
            )
        case (.retrying(let at), _):
            eventContinuation.yield(
                .retrying(
                    queue: message.queue,
                    id: message.id,
                    attempt: attempt,
                    failure: Self.failure(outcome),
                    at: at
                )
            )
        case (.deadLettered(let target, let attempts), _):
            eventContinuation.yield(
                .deadLettered(
                    queue: message.queue,
                    id: message.id,
                    attempts: attempts,
                    failure: Self.failure(outcome),
                    movedTo: target
                )
            )
        case (.acknowledged, .transportError):
            break
        }
    }

    // MARK: Storage

    /// Stages `records` in the log, and calls `completion` once they are on disk, or failed to get there: with
    /// everything else staged while the event loop reads what is ready, so that they share one sync.
    private func persist(_ records: [EventRecord], completion: @escaping (EventHubError?) -> Void) {
        log.stage(records)
        recordsInLog += records.count
        awaitingCommit.append(completion)
        guard awaitingCommit.count == 1 else { return }
        // Runs after the requests read in this pass of the event loop, whose records join this commit.
        eventLoop.execute { self.assumeIsolated { $0.commitStaged() } }
    }

    /// Commits what is staged and tells who waits for it; compacts the log when it has grown mostly dead.
    private func commitStaged() {
        guard !awaitingCommit.isEmpty else { return }
        let waiting = awaitingCommit
        awaitingCommit = []
        var failure: EventHubError?
        do throws(EventHubError) {
            try log.commit()
            if recordsInLog >= limits.compactionThreshold
                && (machine.liveCount + machine.deadLetters.count) * 4 < recordsInLog
            {
                let live = machine.liveRecords()
                recordsInLog = live.count
                try log.replace(with: live)
            }
        } catch {
            failure = error
            if storageFailure == nil {
                storageFailure = error
                eventContinuation.yield(.storageFailed(message: error.message))
            }
        }
        for completion in waiting { completion(failure) }
    }

    private static func failure(_ outcome: DeliveryOutcome) -> DeliveryFailure {
        switch outcome {
        case .status(let status): .status(status)
        case .transportError(let reason): .transport(reason)
        }
    }

    // MARK: Cron

    /// Fires `job` at each instant of its schedule; a firing missed while the hub was down is not made up.
    private nonisolated func runSchedule(of job: CronJobPlan, _ schedule: CronSchedule) async {
        var previous = now()
        while !Task.isCancelled {
            // After the previous firing, never before it: a timer that wakes early must not fire it twice.
            guard let next = schedule.next(after: max(now(), previous)) else { return }
            let delay = next.timeIntervalSince(now())
            if delay > 0 {
                do { try await Task.sleep(for: .seconds(delay)) } catch { return }
            }
            previous = next
            _ = await fire(job, scheduledAt: next)
        }
    }

    private func fire(_ job: CronJobPlan, scheduledAt: Date) async -> CronOutcome {
        let outcome: DeliveryOutcome
        let duration: Duration
        if let serverURL {
            // As a PingSource sends it: the cron sender token in the event, never the internal token.
            let request = EventRequests.cronTick(
                job,
                service: manifest.serviceName,
                server: serverURL,
                scheduledAt: scheduledAt,
                credential: .senderToken(cronToken)
            )
            (outcome, duration) = await withCheckedContinuation { continuation in
                client.send(request) { continuation.resume(returning: ($0, $1)) }
            }
        } else {
            (outcome, duration) = (.transportError("no server is running"), .zero)
        }
        let result = CronOutcome(job: job.name, scheduledAt: scheduledAt, result: outcome, duration: duration)
        eventContinuation.yield(.cronFired(result))
        return result
    }

    // MARK: Helpers

    static func json(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map {
            String(decoding: $0, as: UTF8.self)
        } ?? "{}"
    }

    /// A first delivery's outcome, as a sender that waited for it is answered.
    private static func json(_ delivery: FirstDelivery) -> String {
        var answer: [String: Any] = ["id": delivery.id, "attempt": delivery.attempt]
        switch delivery.result {
        case .status(let status): answer["status"] = status
        case .transportError(let reason): answer["error"] = reason
        }
        return json(answer)
    }
}

/// Where a sender waiting for its message's first delivery stands.
private enum FirstDeliveryWait {
    /// The message is being stored; the sender waits once it is.
    case expected
    /// The sender waits, to be answered with this.
    case waiting(@Sendable (Int, String) -> Void)
    /// The delivery ended before the sender started waiting.
    case done(FirstDelivery)
}
