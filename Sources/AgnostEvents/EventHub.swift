import AgnostBundle
import AgnostCron
import AgnostDigest
import AgnostHTTP
import Foundation

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
        concurrency: Int = 8,
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
    let hub = try EventHub(configuration: configuration)
    let ingress = IngressServer(hub: hub, host: configuration.host, port: configuration.port)
    let url = try await ingress.start(maximumEventSize: configuration.limits.maximumEventSize)
    await hub.start(ingressURL: url)
    do {
        let result = try await body(hub)
        await hub.stop()
        await ingress.stop()
        return result
    } catch {
        await hub.stop()
        await ingress.stop()
        throw error
    }
}

/// The local broker and scheduler of one app version: accepts queue messages durably, delivers them to the
/// version's server with retries, backoff and dead letters, and fires its cron jobs as a PingSource would.
///
/// Create one with ``withEventHub(_:_:)``.
public actor EventHub {
    private let manifest: BundleManifest
    /// For the hub's own API, which its owner's tools call with the internal token.
    let internalTokenDigest: SHA256Digest
    private let queueToken: String
    private let queueTokenDigest: SHA256Digest
    private let cronToken: String
    private let limits: EventHubLimits
    private let now: @Sendable () -> Date
    private let log: EventLog
    private var machine: DeliveryMachine
    private var recordsInLog: Int
    private var serverURL: String?
    private var storageFailure: EventHubError?
    private var stopping = false
    private var wakeTask: Task<Void, Never>?
    private var wakeAt: Date?
    private var deliveries: [UInt64: Task<Void, Never>] = [:]
    private var cronTasks: [Task<Void, Never>] = []
    private var idleClients: [HTTPClient] = []
    /// Senders waiting for the first delivery of their message, which may end before they start waiting.
    private var firstDeliveries: [UInt64: FirstDeliveryWait] = [:]
    private var announcedUnavailable = false
    private let schedules: [(job: CronJobPlan, schedule: CronSchedule)]
    private let eventContinuation: AsyncStream<HubEvent>.Continuation

    /// The broker ingress, for `AGNOST_BROKER_URL`: `http://127.0.0.1:<port>/`.
    public private(set) var ingressURL = ""
    /// What the hub does, as it happens; the newest 10 000 are kept while nobody reads.
    public nonisolated let events: AsyncStream<HubEvent>

    init(configuration: EventHubConfiguration) throws(EventHubError) {
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
        for task in deliveries.values { task.cancel() }
        for task in cronTasks { await task.value }
        for task in Array(deliveries.values) { await task.value }
        for case .waiting(let waiter) in firstDeliveries.values { waiter.resume(returning: nil) }
        firstDeliveries = [:]
        eventContinuation.finish()
        // Closed here, not when the hub is freed: a hub started next on the same directory must find it unlocked.
        await log.close()
    }

    /// Points deliveries at the version's server, after it (re)started on a new port; nil while it is down, and
    /// deliveries wait.
    public func setServerURL(_ url: String?) {
        serverURL = url
        announcedUnavailable = false
        pump()
    }

    /// The messages given up on and kept aside, oldest first.
    public func deadLetters() -> [DeadLetter] {
        machine.deadLetters.values.sorted { $0.sequence < $1.sequence }
    }

    /// Sends dead letter `sequence` again to its queue, as a first attempt, once that is on disk.
    public func replay(_ sequence: UInt64) async throws(EventHubError) {
        guard let record = machine.replay(sequence, at: now()) else {
            throw EventHubError(.notFound, "no dead letter \(sequence)", context: String(sequence))
        }
        try await persist([record])
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

    /// Stores an event POSTed to the ingress; answers 202 once it is on disk, or with the first delivery's outcome
    /// when `waitForOutcome`.
    nonisolated func receive(
        headers: [(name: String, value: String)],
        body: [UInt8],
        waitForOutcome: Bool
    ) async -> (status: Int, body: String) {
        // Parsed and checked outside the actor, which then only numbers and stores the message.
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
            return (error.status, Self.json(["error": error.reason]))
        }
        return await store(request, waitForOutcome: waitForOutcome)
    }

    private func store(_ request: IngressRequest, waitForOutcome: Bool) async -> (status: Int, body: String) {
        if let storageFailure { return (503, Self.json(["error": storageFailure.message])) }
        guard !stopping, let record = machine.accept(request.message, notBefore: request.notBefore, at: now()),
            case .accepted(let sequence, _, _, let dueAt) = record
        else {
            return (503, Self.json(["error": "the hub is stopping"]))
        }
        if waitForOutcome { firstDeliveries[sequence] = .expected }
        do {
            try await persist([record])
        } catch {
            firstDeliveries[sequence] = nil
            return (503, Self.json(["error": error.message]))
        }
        eventContinuation.yield(.accepted(queue: request.message.queue, id: request.message.id, dueAt: dueAt))
        guard waitForOutcome else {
            pump()
            return (202, "")
        }
        let first: FirstDelivery?
        if case .done(let delivery) = firstDeliveries.removeValue(forKey: sequence) {
            first = delivery
        } else {
            first = await withCheckedContinuation { continuation in
                firstDeliveries[sequence] = .waiting(continuation)
                pump()
            }
        }
        guard let first else { return (503, Self.json(["error": "the hub stopped before delivering"])) }
        var answer: [String: Any] = ["id": first.id, "attempt": first.attempt]
        switch first.result {
        case .status(let status): answer["status"] = status
        case .transportError(let reason): answer["error"] = reason
        }
        return (200, Self.json(answer))
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
        let client = idleClients.popLast()
        deliveries[sequence] = Task {
            let (outcome, duration, used) = await Self.send(request, client: client)
            await self.finish(sequence, message, attempt: attempt, outcome: outcome, duration: duration, client: used)
        }
    }

    private func finish(
        _ sequence: UInt64,
        _ message: QueueMessage,
        attempt: Int,
        outcome: DeliveryOutcome,
        duration: Duration,
        client: HTTPClient?
    ) async {
        deliveries[sequence] = nil
        if let client { idleClients.append(client) }
        guard !stopping, let (record, resolution) = machine.complete(sequence, with: outcome, at: now()) else {
            return
        }
        pump()
        let delivery = FirstDelivery(id: message.id, attempt: attempt, result: outcome)
        switch firstDeliveries[sequence] {
        case .expected: firstDeliveries[sequence] = .done(delivery)
        case .waiting(let waiter):
            firstDeliveries[sequence] = nil
            waiter.resume(returning: delivery)
        case .done, nil: break
        }
        do {
            try await persist([record])
        } catch {
            return
        }
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

    /// Writes `records` and waits until they are on disk; compacts the log when it has grown mostly dead.
    private func persist(_ records: [EventRecord]) async throws(EventHubError) {
        let failure: EventHubError? = await withCheckedContinuation { continuation in
            // Queued in the actor's order, before any compaction that a later call queues.
            log.append(records) { continuation.resume(returning: $0) }
            recordsInLog += records.count
            if recordsInLog >= limits.compactionThreshold
                && (machine.liveCount + machine.deadLetters.count) * 4 < recordsInLog
            {
                let live = machine.liveRecords()
                recordsInLog = live.count
                log.replace(with: live) { _ in }
            }
        }
        if let failure {
            if storageFailure == nil {
                storageFailure = failure
                eventContinuation.yield(.storageFailed(message: failure.message))
            }
            throw failure
        }
    }

    private static func send(
        _ request: HTTPClientRequest,
        client: HTTPClient?
    ) async -> (DeliveryOutcome, Duration, HTTPClient?) {
        let started = ContinuousClock.now
        let available: HTTPClient
        if let client {
            available = client
        } else {
            do throws(HTTPClientError) {
                available = try HTTPClient(maximumResponseSize: 1 << 20)
            } catch {
                return (.transportError(error.message), ContinuousClock.now - started, nil)
            }
        }
        do {
            let response = try await available.execute(request)
            return (.status(response.status), ContinuousClock.now - started, available)
        } catch {
            return (.transportError(error.message), ContinuousClock.now - started, available)
        }
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
            (outcome, duration, _) = await Self.send(request, client: nil)
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
}

/// Where a sender waiting for its message's first delivery stands.
private enum FirstDeliveryWait {
    /// The message is being stored; the sender waits once it is.
    case expected
    case waiting(CheckedContinuation<FirstDelivery?, Never>)
    /// The delivery ended before the sender started waiting.
    case done(FirstDelivery)
}
