import AgnostBundle
import AgnostKnative
import Foundation
import Testing

/// The PingSources and Triggers of a version: what they deliver where, with which credential, and the names and
/// schedules Knative accepts. The whole render of `samples/todo` is also compared byte for byte in
/// ``ManifestRendererTests``.
struct EventManifestsTests {
    static func events(
        _ change: (inout BundleManifest) -> Void = { _ in },
        options: RenderOptions = ManifestFixtures.options
    ) throws -> [KubernetesObject] {
        var bundle = ManifestFixtures.todoBundle
        change(&bundle)
        return try ManifestFixtures.render(bundle, options: options).events
    }

    static func environment(of rendered: RenderedVersion) -> [String: String] {
        let env = rendered.service.body["spec"]?["template"]?["spec"]?["containers"]?[0]?["env"]?.arrayValue ?? []
        var variables: [String: String] = [:]
        for entry in env {
            guard let name = entry["name"]?.stringValue else { continue }
            variables[name] = entry["value"]?.stringValue ?? "(from the Secret)"
        }
        return variables
    }

    @Test func aCronJobIsAPingSourceToItsPathOnTheService() throws {
        let events = try Self.events()
        let ping = try #require(events.first { $0.kind == "PingSource" })
        #expect(ping.apiVersion == "sources.knative.dev/v1")
        #expect(ping.name == "todo-v1-cron-archive-done")
        #expect(ping.namespace == "default")
        let spec = try #require(ping.body["spec"])
        #expect(spec["schedule"]?.stringValue == "*/5 * * * *")
        #expect(spec["timezone"]?.stringValue == "Europe/Istanbul")
        #expect(spec["contentType"]?.stringValue == "application/json")
        #expect(spec["sink"]?["ref"]?["apiVersion"]?.stringValue == "serving.knative.dev/v1")
        #expect(spec["sink"]?["ref"]?["kind"]?.stringValue == "Service")
        #expect(spec["sink"]?["ref"]?["name"]?.stringValue == "todo-v1")
        #expect(spec["sink"]?["uri"]?.stringValue == EventContract.cronPath("archive-done"))
        #expect(spec["ceOverrides"]?["extensions"]?[EventContract.Extension.service]?.stringValue == "todo-v1")
    }

    /// The PingSource's spec is readable by whoever may read PingSources, so it holds the cron sender's token,
    /// never the internal token; a render without the Secret's token holds none.
    @Test func thePingSourceCarriesTheCronTokenOnlyWhenTheInternalTokenIsKnown() throws {
        let ping = try #require(try Self.events().first { $0.kind == "PingSource" })
        let token = ping.body["spec"]?["ceOverrides"]?["extensions"]?[EventContract.Extension.token]?.stringValue
        #expect(token == SenderToken.derive(from: ManifestFixtures.internalToken, for: .cron))
        #expect(token != SenderToken.derive(from: ManifestFixtures.internalToken, for: .queue))
        #expect(!ping.yaml().contains(ManifestFixtures.internalToken))

        var options = ManifestFixtures.options
        options.secret = VersionSecretData(internalToken: "", apiKeys: [])
        let anonymous = try #require(try Self.events(options: options).first { $0.kind == "PingSource" })
        let extensions = try #require(anonymous.body["spec"]?["ceOverrides"]?["extensions"])
        #expect(extensions[EventContract.Extension.token] == nil)
        #expect(extensions[EventContract.Extension.service]?.stringValue == "todo-v1")
    }

    @Test func aDisabledCronJobHasNoPingSource() throws {
        let events = try Self.events { $0.cronJobs[0].enabled = false }
        #expect(!events.contains { $0.kind == "PingSource" })
        #expect(events.map(\.kind) == ["Trigger"])
    }

    @Test func aQueueIsATriggerFilteredToItsMessagesWithItsRetries() throws {
        let trigger = try #require(try Self.events().first { $0.kind == "Trigger" })
        #expect(trigger.apiVersion == "eventing.knative.dev/v1")
        #expect(trigger.name == "todo-v1-queue-imports")
        let spec = try #require(trigger.body["spec"])
        #expect(spec["broker"]?.stringValue == "default")
        let attributes = try #require(spec["filter"]?["attributes"])
        #expect(attributes["type"]?.stringValue == EventContract.queueMessageType)
        #expect(attributes[EventContract.Extension.service]?.stringValue == "todo-v1")
        #expect(attributes[EventContract.Extension.queue]?.stringValue == "imports")
        #expect(spec["subscriber"]?["ref"]?["name"]?.stringValue == "todo-v1")
        #expect(spec["subscriber"]?["uri"]?.stringValue == EventContract.queuePath("imports"))
        #expect(spec["delivery"]?["retry"]?.integerValue == 3)
        #expect(spec["delivery"]?["backoffPolicy"]?.stringValue == "exponential")
        #expect(spec["delivery"]?["backoffDelay"]?.stringValue == "PT1S")
        #expect(spec["delivery"]?["deadLetterSink"] == nil, "no dead-letter queue: the Broker's default applies")
    }

    @Test func aDeadLetterQueueIsTheTriggersDeadLetterSink() throws {
        var options = ManifestFixtures.options
        options.broker = "rabbit"
        let events = try Self.events(
            {
                $0.queues = [
                    QueuePlan(
                        name: "imports",
                        handler: "importTodo",
                        retries: 0,
                        delayMilliseconds: 0,
                        deadLetter: "failed"
                    ),
                    QueuePlan(name: "failed", handler: "recordFailure", retries: 5, delayMilliseconds: 0),
                ]
            },
            options: options
        )
        let triggers = events.filter { $0.kind == "Trigger" }
        #expect(triggers.map(\.name) == ["todo-v1-queue-imports", "todo-v1-queue-failed"])
        let sink = try #require(triggers[0].body["spec"]?["delivery"]?["deadLetterSink"])
        #expect(sink["ref"]?["name"]?.stringValue == "todo-v1")
        #expect(sink["uri"]?.stringValue == EventContract.queuePath("failed"))
        #expect(triggers[0].body["spec"]?["delivery"]?["retry"]?.integerValue == 0)
        #expect(triggers.allSatisfy { $0.body["spec"]?["broker"]?.stringValue == "rabbit" })
        #expect(triggers[1].body["spec"]?["delivery"]?["deadLetterSink"] == nil)
    }

    @Test func everyEventObjectCarriesTheVersionLabels() throws {
        let events = try Self.events()
        #expect(events.count == 2)
        for object in events {
            #expect(object.labels == ManifestRenderer.labels(app: "todo", version: "v1"), "\(object)")
        }
    }

    @Test func theBrokerURLReachesTheServiceOnlyForAnAppWithQueues() throws {
        let rendered = try ManifestFixtures.render()
        #expect(
            Self.environment(of: rendered)[EventContract.brokerURLVariable]
                == "http://broker-ingress.knative-eventing.svc.cluster.local/default/default"
        )
        var options = ManifestFixtures.options
        options.brokerURL = "http://rabbitmq-broker-ingress.demo.svc.cluster.local"
        let fromStatus = try ManifestFixtures.render(options: options)
        #expect(
            Self.environment(of: fromStatus)[EventContract.brokerURLVariable]
                == "http://rabbitmq-broker-ingress.demo.svc.cluster.local"
        )
        #expect(fromStatus.revisionName != rendered.revisionName, "the pods read the address once: a new revision")
        var bundle = ManifestFixtures.todoBundle
        bundle.queues = []
        let withoutQueues = try ManifestFixtures.render(bundle)
        #expect(Self.environment(of: withoutQueues)[EventContract.brokerURLVariable] == nil)
        #expect(withoutQueues.events.map(\.kind) == ["PingSource"])
    }

    @Test func theObjectsAreAppliedSecretServiceThenEvents() throws {
        let rendered = try ManifestFixtures.render()
        #expect(rendered.objects.map(\.kind) == ["Secret", "Service", "PingSource", "Trigger"])
    }

    /// `<service>-cron-<job>` must stay a 63-character name; the error names the job and what to shorten.
    @Test func aNameOverSixtyThreeCharactersIsRefusedNamingTheJob() throws {
        let longJob = String(repeating: "j", count: 63 - "todo-v1-cron-".count + 1)
        let fits = String(longJob.dropLast())
        #expect(throws: Never.self) { try Self.events { $0.cronJobs[0].name = fits } }
        do {
            _ = try Self.events { $0.cronJobs[0].name = longJob }
            Issue.record("a 64-character PingSource name was rendered")
        } catch let error as ManifestError {
            #expect(error.code == .invalidName)
            #expect(error.message.contains("cron job '\(longJob)'"), "\(error)")
            #expect(error.message.contains("63"), "\(error)")
            #expect(error.message.contains("shorten"), "\(error)")
            #expect(error.context == "cron.\(longJob)")
        }
        let longQueue = String(repeating: "q", count: 63 - "todo-v1-queue-".count + 1)
        #expect {
            try Self.events { $0.queues[0].name = longQueue }
        } throws: { error in
            (error as? ManifestError)?.message.contains("queue '\(longQueue)'") == true
        }
        // A disabled job has no PingSource, so its name cannot be too long.
        #expect(throws: Never.self) {
            try Self.events {
                $0.cronJobs[0].name = longJob
                $0.cronJobs[0].enabled = false
            }
        }
    }

    /// robfig/cron, which PingSource parses schedules with, knows day-of-week 0–6 only.
    @Test(
        arguments: [
            ("0 9 * * 7", "0 9 * * 0"),
            ("0 9 * * 5-7", "0 9 * * 0,5-6"),
            ("0 9 * * 1,7", "0 9 * * 1,0"),
            ("0 9 * * MON-7", "0 9 * * 0-6"),
            ("0 9 * * 1-7/2", "0 9 * * 0-1,3,5"),
            ("0 9 * * 7/3", "0 9 * * 0"),
            ("0 9 * * sat,7", "0 9 * * sat,0"),
            // Untouched: no day 7 in the day-of-week field.
            ("0 7 * * 1-5", "0 7 * * 1-5"),
            ("*/7 * 7 7 */7", "*/7 * 7 7 */7"),
            ("0 9 * * SUN", "0 9 * * SUN"),
            ("@weekly", "@weekly"),
        ]
    )
    func dayOfWeekSevenBecomesZero(schedule: String, expected: String) throws {
        #expect(EventManifests.pingSchedule(schedule) == expected)
        let ping = try #require(
            try Self.events { $0.cronJobs[0].schedule = schedule }.first { $0.kind == "PingSource" }
        )
        #expect(ping.body["spec"]?["schedule"]?.stringValue == expected)
    }
}
