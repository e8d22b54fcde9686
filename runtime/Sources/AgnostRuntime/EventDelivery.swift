import AgnostBundle
import HTTPTypes
import Hummingbird
import NIOCore

/// A queue or cron job, resolved at start-up to the handler its events run.
struct EventTarget: Sendable {
    let name: String
    let timeout: Duration
    let run: @Sendable (CloudEvent, Context) async throws -> Void

    init(queue plan: QueuePlan, handler: @escaping QueueHandler) {
        let name = plan.name
        self.name = name
        self.timeout = .milliseconds(plan.timeoutMilliseconds)
        self.run = { event, context in
            let message = QueueMessage(
                id: event.id,
                queue: name,
                attempt: event.extensions[EventContract.Extension.attempt].flatMap { Int($0) },
                body: event.data,
                contentType: event.dataContentType,
                source: event.source,
                time: event.time
            )
            try await handler(message, context)
        }
    }

    init(cron plan: CronJobPlan, handler: @escaping CronHandler) {
        let (name, schedule) = (plan.name, plan.schedule)
        self.name = name
        self.timeout = .milliseconds(plan.timeoutMilliseconds)
        self.run = { event, context in
            try await handler(CronTick(job: name, schedule: schedule, scheduledTime: event.time), context)
        }
    }
}

/// The queues and cron jobs of a version, and who may deliver to them.
struct EventTargets: Sendable {
    let queues: [String: EventTarget]
    let cronJobs: [String: EventTarget]
    let tokens: InternalTokenVerifier

    /// The sender whose path this is, and the queue or job name in it.
    static func match(_ path: String) -> (SenderToken.Sender, String)? {
        for sender in SenderToken.Sender.allCases {
            let prefix = sender == .cron ? EventContract.cronPath("") : EventContract.queuePath("")
            if path.hasPrefix(prefix) {
                let name = path.dropFirst(prefix.count)
                return name.isEmpty || name.contains("/") ? nil : (sender, String(name))
            }
        }
        return nil
    }
}

extension Dispatcher {
    /// Delivers one CloudEvent from a PingSource, a Trigger, the local hub or `invoke`.
    ///
    /// The order of the answers tells a caller without a token nothing: 405 for another method (the same for any
    /// name), then 401 before the name is looked up, so only a token holder learns which names exist (404), then
    /// 400 or 415 for a malformed event. Statuses follow Knative's delivery contract: 200 acknowledges, 400 is
    /// dead-lettered at once, 500 and 504 are retried.
    func deliver(
        _ sender: SenderToken.Sender,
        _ name: String,
        _ request: HummingbirdCore.Request,
        _ start: ContinuousClock.Instant
    ) async -> Response {
        let path = request.uri.path
        guard request.method == .post else {
            return methodNotAllowed(request.method, path, allowed: ["POST"], RequestID.make(propagating: nil))
        }
        let target = (sender == .cron ? events.cronJobs : events.queues)[name]
        // Unknown names get a deadline too, so an unauthenticated caller cannot tell them apart by how long a
        // slow body is waited for.
        let timeout = target?.timeout ?? .seconds(30)
        let admission = await runWithDeadline(timeout, timers: timers) {
            () -> Result<(CloudEvent, EventTarget), HTTPError> in
            let body: ByteBuffer
            do throws(HTTPError) {
                body = try await self.readBody(of: request)
            } catch {
                return .failure(error)
            }
            let presented =
                APIKeyVerifier.bearerToken(in: request.headers)
                ?? CloudEvent.presentedToken(headers: request.headers, body: body)
            guard self.events.tokens.accepts(presented, for: sender) else {
                return .failure(
                    HTTPError(
                        .unauthorized,
                        "\(path) takes events only from the version's \(sender.rawValue) sender: send its token as "
                            + "'Authorization: Bearer TOKEN' or the \(EventContract.Extension.token) attribute",
                        headers: [.wwwAuthenticate: "Bearer"]
                    )
                )
            }
            guard let target else {
                let kind = sender == .cron ? "cron job" : "queue"
                return .failure(HTTPError(.notFound, "this version has no \(kind) named '\(name)'"))
            }
            do throws(HTTPError) {
                return .success((try CloudEvent.parse(headers: request.headers, body: body), target))
            } catch {
                return .failure(error)
            }
        }
        let admitted: (CloudEvent, EventTarget)
        switch admission {
        case .timedOut:
            return errorResponse(
                HTTPError(.gatewayTimeout, "the event was not received within \(DurationText.format(timeout))"),
                RequestID.make(propagating: nil)
            )
        case .finished(.failure(let error)):
            let requestId = RequestID.make(propagating: nil)
            if error.status != .unauthorized && error.status != .notFound {
                record(sender, name, eventId: nil, attempt: nil, status: error.status, start: start)
            }
            return errorResponse(error, requestId)
        case .finished(.success(let value)):
            admitted = value
        }
        let (event, resolved) = admitted
        let attempt = event.extensions[EventContract.Extension.attempt].flatMap { Int($0) }
        let response = await run(resolved, event, start: start)
        record(sender, name, eventId: event.id, attempt: attempt, status: response.status, start: start)
        return response
    }

    private func run(_ target: EventTarget, _ event: CloudEvent, start: ContinuousClock.Instant) async -> Response {
        let requestId = RequestID.make(propagating: event.id)
        let deadline = start + target.timeout
        let context = Context(
            logger: logger,
            requestId: requestId,
            endpoint: target.name,
            deadline: deadline,
            parameters: PathParameters(names: [], values: []),
            env: environment,
            resources: resources,
            sending: sending
        )
        let outcome = await runWithDeadline(deadline - .now, timers: timers) { () -> (any Error)? in
            do {
                try await target.run(event, context)
                return nil
            } catch {
                return error
            }
        }
        let response: Response
        switch outcome {
        case .finished(.none):
            response = Response(status: .ok)
        case .finished(let error as HTTPError):
            response = errorResponse(error, requestId)
        case .finished(let failure as PermanentFailure):
            context.logger.warning("handler failed permanently", metadata: ["error": "\(failure.message)"])
            response = errorResponse(HTTPError(.badRequest, failure.message), requestId)
        case .finished(let error?):
            context.logger.error("handler threw an error", metadata: ["error": "\(String(reflecting: error))"])
            response = errorResponse(HTTPError(.internalServerError, "internal server error"), requestId)
        case .timedOut:
            let limit = DurationText.format(target.timeout)
            context.logger.warning("handler timed out and was cancelled", metadata: ["timeout": "\(limit)"])
            response = errorResponse(
                HTTPError(.gatewayTimeout, "\(target.name) did not finish within \(limit)"),
                requestId
            )
        }
        var tagged = response
        tagged.headers[.requestID] = requestId
        return tagged
    }

    private func record(
        _ sender: SenderToken.Sender,
        _ name: String,
        eventId: String?,
        attempt: Int?,
        status: HTTPResponse.Status,
        start: ContinuousClock.Instant
    ) {
        accessLog?.recordDelivery(
            sender == .cron ? "job" : "queue",
            name: name,
            eventId: eventId,
            attempt: attempt,
            status: status,
            duration: ContinuousClock.now - start
        )
    }
}

extension AccessLog {
    /// One line per authenticated delivery of an event: which queue or job, which event, and how it ended.
    func recordDelivery(
        _ kind: String,
        name: String,
        eventId: String?,
        attempt: Int?,
        status: HTTPResponse.Status,
        duration: Duration
    ) {
        var fields: [(String, LogValue)] = [(kind, .string(name))]
        if let eventId { fields.append(("id", .string(eventId))) }
        if let attempt { fields.append(("attempt", .int(attempt))) }
        fields += [("status", .int(status.code)), ("durationMs", .milliseconds(duration.milliseconds))]
        output.write(line: renderer.render(level: .info, message: "delivery", fields: fields))
    }
}
