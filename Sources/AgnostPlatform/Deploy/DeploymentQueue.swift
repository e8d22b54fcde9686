/// One requested deployment, as the runner passes it around.
struct DeploymentJob: Sendable, Hashable {
    var app: String
    var version: String
    var id: String

    /// The version it deploys, `app/version`: what one deployment at a time is counted per.
    var scope: String { "\(app)/\(version)" }
}

/// Which requested deployments run when: one at a time per version, and of those that came while one ran, only
/// the newest, since each deploys the whole version and the older ones would be undone at once.
///
/// A value that the runner keeps behind a lock; it does no I/O, so its rules are tested on their own.
///
/// ```swift
/// var queue = DeploymentQueue()
/// queue.requested(first)            // first: start it
/// queue.requested(second)           // nil: first is running
/// queue.finished(first)             // (next: second, superseded: [])
/// ```
struct DeploymentQueue: Sendable {
    private var running: [String: DeploymentJob] = [:]
    private var waiting: [String: [DeploymentJob]] = [:]

    /// A new request: the job to start now, or nil when it waits for the version's running one.
    mutating func requested(_ job: DeploymentJob) -> DeploymentJob? {
        guard running[job.scope] == nil else {
            waiting[job.scope, default: []].append(job)
            return nil
        }
        running[job.scope] = job
        return job
    }

    /// The version's running job ended: the newest waiting one starts, and the others waiting are superseded.
    mutating func finished(_ job: DeploymentJob) -> (next: DeploymentJob?, superseded: [DeploymentJob]) {
        guard running[job.scope] == job else { return (nil, []) }
        let queued = waiting.removeValue(forKey: job.scope) ?? []
        guard let newest = queued.last else {
            running[job.scope] = nil
            return (nil, [])
        }
        running[job.scope] = newest
        return (newest, Array(queued.dropLast()))
    }

    /// Whether a job of the version is running.
    func isRunning(_ scope: String) -> Bool { running[scope] != nil }
}
