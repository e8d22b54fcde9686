import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// A stand-in for a version's server: records every request and answers with the status a script gives, after an
/// optional pause, counting how many requests it holds at once.
final class Receiver: Sendable {
    struct Received: Sendable {
        var path: String
        var headers: [String: String]
        var body: [UInt8]
        var at: Date

        var attempt: Int? { headers["ce-agnostattempt"].flatMap { Int($0) } }
    }

    private struct State {
        var received: [Received] = []
        var inFlight = 0
        var mostInFlight = 0
    }

    private let state = Mutex(State())
    private let task: Task<Void, Never>
    private let group: ServiceGroup
    let url: String

    /// Starts listening; `status` answers a request given how many requests to its path came before it.
    static func start(
        pause: Duration = .zero,
        status: @escaping @Sendable (_ path: String, _ earlier: Int) -> Int = { _, _ in 200 }
    ) async throws -> Receiver {
        let (bound, continuation) = AsyncStream.makeStream(of: Int.self)
        let box = Mutex<Receiver?>(nil)
        let router = Router()
        router.post("**") { request, _ -> Response in
            let body = Array(try await request.body.collect(upTo: 1 << 22).readableBytesView)
            let headers = Dictionary(
                request.headers.map { ($0.name.canonicalName, $0.value) },
                uniquingKeysWith: { first, _ in first }
            )
            let receiver = box.withLock { $0 }!
            let earlier = receiver.record(Received(path: request.uri.path, headers: headers, body: body, at: Date()))
            if pause > .zero { try? await Task.sleep(for: pause) }
            receiver.state.withLock { $0.inFlight -= 1 }
            return Response(status: HTTPResponse.Status(code: status(request.uri.path, earlier)))
        }
        var logger = Logger(label: "receiver")
        logger.logLevel = .warning
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [application],
                gracefulShutdownSignals: [],
                logger: logger
            )
        )
        let task = Task<Void, Never> { try? await group.run() }
        var iterator = bound.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        let receiver = Receiver(url: "http://127.0.0.1:\(port)", task: task, group: group)
        box.withLock { $0 = receiver }
        return receiver
    }

    private init(url: String, task: Task<Void, Never>, group: ServiceGroup) {
        self.url = url
        self.task = task
        self.group = group
    }

    /// Records `request` as in flight and returns how many requests to its path came before.
    private func record(_ request: Received) -> Int {
        state.withLock { state in
            let earlier = state.received.filter { $0.path == request.path }.count
            state.received.append(request)
            state.inFlight += 1
            state.mostInFlight = max(state.mostInFlight, state.inFlight)
            return earlier
        }
    }

    var received: [Received] { state.withLock { $0.received } }
    var mostInFlight: Int { state.withLock { $0.mostInFlight } }

    /// Waits until `count` requests arrived, for at most `timeout`.
    func waitFor(_ count: Int, timeout: Duration = .seconds(20)) async -> [Received] {
        let deadline = ContinuousClock.now + timeout
        while received.count < count && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return received
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        await task.value
    }
}
