import AgnostKnative
import Testing

@Suite struct TrafficPlanTests {
    private func service(serving traffic: [TrafficTarget]) -> ServiceState {
        ServiceState(
            metadata: ObjectMeta(name: "todo-v1", generation: 3),
            status: ServiceState.Status(observedGeneration: 3, traffic: traffic)
        )
    }

    private let revisions = [
        RevisionState(
            metadata: ObjectMeta(
                name: "todo-v1-aaaaaaa",
                labels: ["serving.knative.dev/configurationGeneration": "1"]
            ),
            conditions: [Condition(type: "Ready", status: "True")]
        ),
        RevisionState(
            metadata: ObjectMeta(
                name: "todo-v1-bbbbbbb",
                labels: ["serving.knative.dev/configurationGeneration": "2"]
            ),
            conditions: [Condition(type: "Ready", status: "False")]
        ),
        RevisionState(
            metadata: ObjectMeta(
                name: "todo-v1-ccccccc",
                labels: ["serving.knative.dev/configurationGeneration": "10"]
            ),
            conditions: [Condition(type: "Ready", status: "True")]
        ),
    ]

    @Test func aSplitMustAddUpTo100() throws {
        #expect(
            try TrafficPlan(splitting: ["todo-v1-aaaaaaa=90", "todo-v1-ccccccc=10"])
                == .split([
                    .init(revision: "todo-v1-aaaaaaa", percent: 90), .init(revision: "todo-v1-ccccccc", percent: 10),
                ])
        )
        #expect(throws: TrafficError.self) { try TrafficPlan(splitting: ["todo-v1-aaaaaaa=90"]) }
        #expect(throws: TrafficError.self) { try TrafficPlan(splitting: ["todo-v1-aaaaaaa=ninety"]) }
        #expect(throws: TrafficError.self) { try TrafficPlan(splitting: ["=100"]) }
        #expect(throws: TrafficError.self) { try TrafficPlan(splitting: ["a=50", "a=50"]) }
        #expect(throws: TrafficError.self) { try TrafficPlan(splitting: ["a=150", "b=-50"]) }
        #expect(throws: TrafficError.self) { try TrafficPlan(splitting: []) }
    }

    @Test func aSplitNamesOnlyReadyRevisionsTheServiceHas() throws {
        let live = service(serving: [TrafficTarget(revisionName: "todo-v1-ccccccc", percent: 100)])
        let targets = try TrafficPlan(splitting: ["todo-v1-aaaaaaa=25", "todo-v1-ccccccc=75"])
            .targets(for: live, revisions: revisions)
        #expect(targets.map(\.revisionName) == ["todo-v1-aaaaaaa", "todo-v1-ccccccc"])
        #expect(targets.map(\.percent) == [25, 75])
        #expect(targets.allSatisfy { $0.latestRevision == false })
        let unknown = #expect(throws: TrafficError.self) {
            try TrafficPlan.split([.init(revision: "todo-v1-zzzzzzz", percent: 100)])
                .targets(for: live, revisions: revisions)
        }
        #expect(unknown?.code == .unknownRevision)
        #expect(unknown?.message.contains("todo-v1-aaaaaaa, todo-v1-bbbbbbb, todo-v1-ccccccc") == true)
        let failed = #expect(throws: TrafficError.self) {
            try TrafficPlan.split([.init(revision: "todo-v1-bbbbbbb", percent: 100)])
                .targets(for: live, revisions: revisions)
        }
        #expect(failed?.code == .revisionNotReady)
    }

    @Test func rollbackSkipsFailedRevisionsAndOrdersByGenerationNotName() throws {
        // Generation 10 sorts before 2 as text; the rollback target must still be generation 1, skipping the
        // failed generation 2.
        let live = service(serving: [TrafficTarget(revisionName: "todo-v1-ccccccc", latestRevision: true, percent: 100)]
        )
        let targets = try TrafficPlan.rollback(to: nil).targets(for: live, revisions: revisions)
        #expect(targets == [TrafficTarget(revisionName: "todo-v1-aaaaaaa", latestRevision: false, percent: 100)])
    }

    @Test func rollbackFromTheOldestRevisionHasNowhereToGo() {
        let live = service(serving: [TrafficTarget(revisionName: "todo-v1-aaaaaaa", percent: 100)])
        let error = #expect(throws: TrafficError.self) {
            try TrafficPlan.rollback(to: nil).targets(for: live, revisions: revisions)
        }
        #expect(error?.code == .noEarlierRevision)
    }

    @Test func rollbackToANamedRevisionAndLatest() throws {
        let live = service(serving: [TrafficTarget(revisionName: "todo-v1-ccccccc", percent: 100)])
        #expect(
            try TrafficPlan.rollback(to: "todo-v1-aaaaaaa").targets(for: live, revisions: revisions)
                == [TrafficTarget(revisionName: "todo-v1-aaaaaaa", latestRevision: false, percent: 100)]
        )
        #expect(
            try TrafficPlan.latest.targets(for: live, revisions: revisions)
                == [TrafficTarget(latestRevision: true, percent: 100)]
        )
    }

    @Test func rollbackGoesWhereTheServiceRemembersEvenAgainstGenerations() throws {
        // todo-v1-aaaaaaa came back at a later deploy (a revoked key restores an earlier template), so it keeps
        // generation 1; it served before the latest deploy's revision, and the Service says so.
        var live = service(serving: [TrafficTarget(revisionName: "todo-v1-ccccccc", percent: 100)])
        live.metadata.annotations[ManifestAnnotations.previousRevision] = "todo-v1-aaaaaaa"
        let ready = revisions.map { revision in
            var revision = revision
            revision.conditions = [Condition(type: "Ready", status: "True")]
            return revision
        }
        #expect(
            try TrafficPlan.rollback(to: nil).targets(for: live, revisions: ready)
                == [TrafficTarget(revisionName: "todo-v1-aaaaaaa", latestRevision: false, percent: 100)]
        )
        // Once traffic is there, the remembered revision is no way back: the generations decide.
        live.status.traffic = [TrafficTarget(revisionName: "todo-v1-aaaaaaa", percent: 100)]
        #expect(throws: TrafficError.self) { try TrafficPlan.rollback(to: nil).targets(for: live, revisions: ready) }
    }
}
