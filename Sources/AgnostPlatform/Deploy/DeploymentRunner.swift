import Synchronization

/// Runs the deployments the platform records while ``run(performing:superseding:)`` runs, as
/// ``DeploymentQueue`` orders them; requests made before it runs wait for it.
final class DeploymentRunner: Sendable {
    private let queue = Mutex(DeploymentQueue())
    private let starts: AsyncStream<DeploymentJob>
    private let continuation: AsyncStream<DeploymentJob>.Continuation

    init() {
        (starts, continuation) = AsyncStream.makeStream(of: DeploymentJob.self)
    }

    /// Hands over a recorded request; it starts now, or once the version's running deployment ends.
    func requested(_ job: DeploymentJob) {
        if let start = queue.withLock({ $0.requested(job) }) { continuation.yield(start) }
    }

    /// Whether a deployment of `app/version` is running.
    func isRunning(_ scope: String) -> Bool { queue.withLock { $0.isRunning(scope) } }

    /// Starts each job when its turn comes, until cancelled; cancelling cancels the running ones, and returns once
    /// they have ended.
    func run(
        performing perform: @escaping @Sendable (DeploymentJob) async -> Void,
        superseding supersede: @escaping @Sendable (DeploymentJob) async -> Void
    ) async {
        await withDiscardingTaskGroup { group in
            for await job in starts {
                group.addTask { [self] in
                    var next: DeploymentJob? = job
                    while let current = next {
                        await perform(current)
                        let (following, superseded) = queue.withLock { $0.finished(current) }
                        for job in superseded { await supersede(job) }
                        next = Task.isCancelled ? nil : following
                    }
                }
            }
        }
    }
}
