import Testing

@testable import AgnostPlatform

/// Which deployments run when, without a store or a cluster.
@Suite struct DeploymentQueueTests {
    func job(_ version: String, _ id: String) -> DeploymentJob { DeploymentJob(app: "todo", version: version, id: id) }

    @Test func aVersionDeploysOneAtATimeAndOnlyTheNewestOfThoseWaiting() {
        var queue = DeploymentQueue()
        #expect(queue.requested(job("v1", "a")) == job("v1", "a"))
        #expect(queue.requested(job("v1", "b")) == nil)
        #expect(queue.requested(job("v1", "c")) == nil)
        #expect(queue.isRunning("todo/v1"))
        let first = queue.finished(job("v1", "a"))
        #expect(first.next == job("v1", "c"))
        #expect(first.superseded == [job("v1", "b")])
        let last = queue.finished(job("v1", "c"))
        #expect(last.next == nil && last.superseded.isEmpty)
        #expect(!queue.isRunning("todo/v1"))
        // Free again: the next request starts at once.
        #expect(queue.requested(job("v1", "d")) == job("v1", "d"))
    }

    @Test func versionsDeployIndependently() {
        var queue = DeploymentQueue()
        #expect(queue.requested(job("v1", "a")) != nil)
        #expect(queue.requested(job("v2", "b")) == job("v2", "b"))
        #expect(queue.finished(job("v2", "b")).next == nil)
        #expect(queue.isRunning("todo/v1") && !queue.isRunning("todo/v2"))
    }

    @Test func aJobThatIsNotTheRunningOneChangesNothing() {
        var queue = DeploymentQueue()
        _ = queue.requested(job("v1", "a"))
        _ = queue.requested(job("v1", "b"))
        let stray = queue.finished(job("v1", "b"))
        #expect(stray.next == nil && stray.superseded.isEmpty)
        #expect(queue.finished(job("v1", "a")).next == job("v1", "b"))
    }
}
