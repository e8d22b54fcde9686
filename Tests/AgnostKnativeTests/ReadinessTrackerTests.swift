import AgnostKnative
import Testing

@Suite struct ReadinessTrackerTests {
    private func state(
        generation: Int64,
        observed: Int64?,
        ready: String? = nil,
        reason: String? = nil,
        message: String? = nil,
        latestReady: String? = nil,
        latestCreated: String? = nil,
        url: String? = "http://todo-v1.demo.example.com"
    ) -> ServiceState {
        var conditions: [Condition] = []
        if let ready {
            conditions.append(Condition(type: "ConfigurationsReady", status: ready, reason: reason, message: message))
            conditions.append(Condition(type: "Ready", status: ready, reason: reason, message: message))
        }
        return ServiceState(
            metadata: ObjectMeta(name: "todo-v1", generation: generation),
            status: ServiceState.Status(
                observedGeneration: observed,
                conditions: conditions,
                url: url,
                latestCreatedRevisionName: latestCreated,
                latestReadyRevisionName: latestReady
            )
        )
    }

    @Test func readyOnlyOnceTheControllerSawOurGenerationAndOurRevisionIsReady() {
        var tracker = ReadinessTracker(revision: "todo-v1-bbbbbbb", generation: 2)
        // The previous generation was ready with the old revision: that is not us.
        let stale = state(generation: 2, observed: 1, ready: "True", latestReady: "todo-v1-aaaaaaa")
        guard case .progressing(let changes) = tracker.observe(stale) else {
            Issue.record("a stale status must not count as ready")
            return
        }
        #expect(changes.map(\.type) == ["Generation"])
        let rolling = state(
            generation: 2,
            observed: 2,
            ready: "Unknown",
            reason: "RevisionMissing",
            latestReady: "todo-v1-aaaaaaa",
            latestCreated: "todo-v1-bbbbbbb"
        )
        #expect(
            tracker.observe(rolling)
                == .progressing(changes: [
                    .init(type: "ConfigurationsReady", status: "Unknown", reason: "RevisionMissing"),
                    .init(type: "Ready", status: "Unknown", reason: "RevisionMissing"),
                ])
        )
        // The same status again changes nothing on screen.
        #expect(tracker.observe(rolling) == .progressing(changes: []))
        let done = state(
            generation: 2,
            observed: 2,
            ready: "True",
            latestReady: "todo-v1-bbbbbbb",
            latestCreated: "todo-v1-bbbbbbb"
        )
        #expect(tracker.observe(done) == .ready(url: "http://todo-v1.demo.example.com"))
    }

    @Test func readyFalseAtOurGenerationFailsWithKnativesReason() {
        var tracker = ReadinessTracker(revision: "todo-v1-bbbbbbb", generation: 3)
        let failed = state(
            generation: 3,
            observed: 3,
            ready: "False",
            reason: "RevisionFailed",
            message: "Revision \"todo-v1-bbbbbbb\" failed with message: Back-off pulling image: ImagePullBackOff",
            latestReady: "todo-v1-aaaaaaa",
            latestCreated: "todo-v1-bbbbbbb"
        )
        guard case .failed(let reason, let message) = tracker.observe(failed) else {
            Issue.record("Ready=False must fail the deploy")
            return
        }
        #expect(reason == "RevisionFailed")
        #expect(message.contains("ImagePullBackOff"))
    }

    @Test func readyFalseOfAnOlderGenerationIsNotOurFailure() {
        var tracker = ReadinessTracker(revision: "todo-v1-ccccccc", generation: 4)
        let old = state(generation: 4, observed: 3, ready: "False", reason: "RevisionFailed")
        guard case .progressing = tracker.observe(old) else {
            Issue.record("a failure the controller reported for an older generation must not end the wait")
            return
        }
    }

    @Test func aReadyServiceWithoutURLKeepsWaiting() {
        var tracker = ReadinessTracker(revision: "todo-v1-bbbbbbb", generation: 1)
        let noURL = state(generation: 1, observed: 1, ready: "True", latestReady: "todo-v1-bbbbbbb", url: nil)
        guard case .progressing(let changes) = tracker.observe(noURL) else {
            Issue.record("no URL, not ready")
            return
        }
        #expect(changes.contains { $0.type == "URL" })
    }

    @Test func anotherTemplateAppliedMeanwhileFails() {
        var tracker = ReadinessTracker(revision: "todo-v1-bbbbbbb", generation: 2)
        let replaced = state(
            generation: 3,
            observed: 3,
            ready: "True",
            latestReady: "todo-v1-ddddddd",
            latestCreated: "todo-v1-ddddddd"
        )
        guard case .failed(let reason, _) = tracker.observe(replaced) else {
            Issue.record("a template that is not ours must end the wait")
            return
        }
        #expect(reason == "RevisionReplaced")
    }

    @Test func progressLinesSayTypeStatusReasonAndMessage() {
        let line = ReadinessTracker.ConditionProgress(
            type: "Ready",
            status: "Unknown",
            reason: "RevisionMissing",
            message: "Configuration is waiting for a Revision to become ready."
        )
        #expect(
            line.description
                == "Ready: Unknown (RevisionMissing) Configuration is waiting for a Revision to become ready."
        )
    }

    @Test func decodesAServiceAsTheAPIServerSendsIt() throws {
        let json = """
            {"apiVersion":"serving.knative.dev/v1","kind":"Service",
             "metadata":{"name":"todo-v1","namespace":"demo","generation":2,"resourceVersion":"41",
                         "creationTimestamp":"2026-12-01T10:00:00Z","labels":{"app.kubernetes.io/name":"todo"}},
             "spec":{"template":{"metadata":{"name":"todo-v1-bbbbbbb"}},"traffic":[{"latestRevision":true,"percent":100}]},
             "status":{"observedGeneration":2,"url":"http://todo-v1.demo.example.com",
                       "conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-12-01T10:00:05Z"}],
                       "latestReadyRevisionName":"todo-v1-bbbbbbb",
                       "traffic":[{"revisionName":"todo-v1-bbbbbbb","latestRevision":true,"percent":100}]}}
            """
        let state = try ServiceState(json: Array(json.utf8))
        #expect(state.templateRevisionName == "todo-v1-bbbbbbb")
        #expect(state.metadata.created != nil)
        #expect(state.status.traffic?.first?.percent == 100)
        #expect(state.condition("Ready")?.isTrue == true)
        #expect(throws: DecodingFailure.self) { try ServiceState(json: Array(#"{"spec":{}}"#.utf8)) }
    }
}
