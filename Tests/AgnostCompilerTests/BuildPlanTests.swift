import AgnostBundle
import AgnostSpec
import Testing

@testable import AgnostCompiler

struct BuildPlanTests {
    @Test func resolvesMiddlewareChainsToHandlerNamesInOrder() throws {
        let plan = try GoldenFileTests.plan()
        let getTodo = try #require(plan.manifest.endpoints.first { $0.name == "getTodo" })
        #expect(getTodo.middlewares == ["requireUser", "auditLog"])
        #expect(plan.manifest.endpoints.first { $0.name == "createTodo" }?.middlewares == ["requireUser"])
    }

    @Test func endpointTimeoutDefaultsToTheScalingTimeout() throws {
        let plan = try GoldenFileTests.plan()
        #expect(plan.manifest.endpoints.map(\.timeoutMilliseconds) == [5000, 30000, 30000])
        #expect(
            plan.manifest.scaling
                == ScalingPlan(minScale: 1, maxScale: 10, containerConcurrency: 50, timeoutMilliseconds: 30000)
        )
    }

    @Test func carriesTargetAndResourceQuantitiesAsWritten() throws {
        let result = SpecChecker.check(
            source: """
                app: todo
                version: v1
                queues: [{ name: emails, handler: sendEmail }]
                scaling:
                  target: 70
                  cpu: { request: 250m, limit: 1 }
                  memory: { limit: 512Mi }
                """,
            file: "agnost.yaml"
        )
        let spec = try #require(result.spec, "\(result.diagnostics)")
        #expect(
            BuildPlan(spec: spec, specDigest: "sha256:feed").manifest.scaling
                == ScalingPlan(target: 70, cpuRequest: "250m", cpuLimit: "1", memoryLimit: "512Mi")
        )
    }

    @Test func registersEachFunctionOncePerKindInFileOrder() throws {
        let registrations = try GoldenFileTests.plan().registrations
        #expect(
            registrations.map { "\($0.kind.rawValue):\($0.function)@\($0.location.line):\($0.location.column)" } == [
                "endpoint:getTodo@7:14", "endpoint:TodoHandlers.createTodo@13:14", "middleware:requireUser@20:14",
                "middleware:auditLog@22:15", "queue:sendEmail@25:14", "cron:cleanup@32:14",
            ]
        )
    }

    @Test func carriesQueuesCronResourcesEnvAndDigest() throws {
        let manifest = try GoldenFileTests.plan().manifest
        #expect(
            manifest.queues == [QueuePlan(name: "emails", handler: "sendEmail", retries: 5, delayMilliseconds: 2000)]
        )
        #expect(
            manifest.cronJobs == [
                CronJobPlan(
                    name: "cleanup",
                    schedule: "*/5 * * * *",
                    timezone: "Europe/Istanbul",
                    handler: "cleanup",
                    enabled: true
                )
            ]
        )
        #expect(manifest.resources == [ResourcePlan(name: "maindb", type: "mongodb")])
        #expect(manifest.env == [EnvironmentEntry(name: "GREETING", value: "hello")])
        #expect(manifest.specDigest == "sha256:feed")
        #expect(manifest.serviceName == "todo-v1")
    }
}
