import AgnostSpec
import Testing

/// Queues, cron jobs and resources.
@Suite("Diagnostics: queues, cron jobs, resources")
struct WorkloadDiagnosticsTests {
    @Test func queueRetriesAreBetween0And100AndDelayIsADuration() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                queues:
                  - { name: a, handler: a, retries: 101 }
                  - { name: b, handler: b, retries: -1 }
                  - { name: c, handler: c, retries: 0, delay: -5s }
                  - { name: d, handler: d, retries: 100, delay: 1.5s }
                """
            ) == [
                "agnost.yaml:4:37: error: queue retries must be between 0 and 100, found 101",
                "agnost.yaml:5:37: error: queue retries must be between 0 and 100, found -1",
                "agnost.yaml:6:47: error: queue delay '-5s' is not a duration; write a whole number followed by ms, "
                    + "s, m or h, like 500ms, 5s, 2m or 1h",
                "agnost.yaml:7:49: error: queue delay '1.5s' is not a duration; write a whole number followed by ms, "
                    + "s, m or h, like 500ms, 5s, 2m or 1h",
            ]
        )
    }

    @Test func deadLetterNamesAnotherDefinedQueue() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                queues:
                  - { name: emails, handler: a, deadLetter: emails }
                  - { name: orders, handler: b, deadLetter: email }
                  - { name: failed, handler: c, deadLetter: nowhere }
                  - { name: fine, handler: d, deadLetter: failed }
                """
            ) == [
                "agnost.yaml:4:45: error: queue 'emails' cannot be its own dead-letter queue: a message that keeps "
                    + "failing would never leave it; name another queue or remove 'deadLetter'",
                "agnost.yaml:5:45: error: undefined dead-letter queue 'email'; did you mean 'emails'?",
                "agnost.yaml:6:45: error: undefined dead-letter queue 'nowhere'; define it under 'queues'",
            ]
        )
    }

    /// `todo-v1-cron-` leaves 50 characters for a job's name, `todo-v1-queue-` 49 for a queue's; a disabled job
    /// has no PingSource, so no limit.
    @Test func eventObjectNamesMustFitInSixtyThreeCharacters() {
        let job = String(repeating: "j", count: 51)
        let queue = String(repeating: "q", count: 50)
        let found = diagnostics(
            """
            app: todo
            version: v1
            cron:
              - { name: \(job), schedule: "@hourly", handler: a }
              - { name: \(job.dropLast()), schedule: "@hourly", handler: a }
              - { name: \(job)x, schedule: "@hourly", handler: a, enabled: false }
            queues:
              - { name: \(queue), handler: b }
              - { name: \(queue.dropLast()), handler: b }
            """
        )
        #expect(found.count == 2, "\(found)")
        #expect(found.first?.hasPrefix("agnost.yaml:4:") == true, "\(found)")
        #expect(
            found.first?.contains(
                "error: cron job '\(job)' makes the PingSource todo-v1-cron-\(job), 64 characters long, and "
                    + "Kubernetes limits names to 63; shorten the cron job's name to at most 50 characters"
            ) == true,
            "\(found)"
        )
        #expect(found.last?.hasPrefix("agnost.yaml:8:") == true, "\(found)")
        #expect(found.last?.contains("queue '\(queue)' makes the Trigger todo-v1-queue-\(queue)") == true, "\(found)")
    }

    @Test func queueAndCronTimeoutsArePositiveDurationsAndDefaultToTheScalingTimeout() throws {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                queues: [{ name: emails, handler: a, timeout: 0s }]
                cron: [{ name: tick, schedule: "@hourly", handler: b, timeout: soon }]
                """
            ).map { $0.prefix(while: { $0 != ";" }) } == [
                "agnost.yaml:3:47: error: queue timeout must be greater than 0, found '0s'",
                "agnost.yaml:4:64: error: cron job timeout 'soon' is not a duration",
            ]
        )
        let spec = try #require(
            check(
                """
                app: todo
                version: v1
                queues: [{ name: emails, handler: a, timeout: 2m, deadLetter: failed }, { name: failed, handler: b }]
                cron: [{ name: tick, schedule: "@hourly", handler: c }]
                """
            ).spec
        )
        #expect(spec.queues.map(\.timeout) == [.seconds(120), nil])
        #expect(spec.queues.first?.deadLetter?.value == "failed")
        #expect(spec.cronJobs.first?.timeout == nil)
    }

    @Test func cronScheduleErrorPointsAtTheOffendingFieldInsideTheScalar() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                cron:
                  - name: plain
                    schedule: 0 25 * * *
                    handler: tick
                  - name: single-quoted
                    schedule: '*/5 * * JANUARY *'
                    handler: tick
                  - name: double-quoted
                    schedule: "0 0 * * * *"
                    handler: tick
                  - name: macro
                    schedule: "@every"
                    handler: tick
                """
            ) == [
                "agnost.yaml:5:17: error: invalid schedule: hour 25 is out of range 0-23",
                "agnost.yaml:8:24: error: invalid schedule: unknown month name 'JANUARY'; use JAN-DEC or 1-12",
                "agnost.yaml:11:26: error: invalid schedule: expected 5 fields (minute hour day-of-month month "
                    + "day-of-week), found 6",
                "agnost.yaml:14:16: error: invalid schedule: unknown macro '@every'; use one of @hourly, @daily, "
                    + "@midnight, @weekly, @monthly, @yearly, @annually",
            ]
        )
    }

    @Test func cronScheduleErrorFallsBackToTheValueWhenTheSourceSpellsItDifferently() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                cron:
                  - name: escaped
                    schedule: "0\\t25 * * *"
                    handler: tick
                  - name: block
                    schedule: >
                      0 0 32 * *
                    handler: tick
                """
            ) == [
                "agnost.yaml:5:15: error: invalid schedule: hour 25 is out of range 0-23",
                "agnost.yaml:8:15: error: invalid schedule: day-of-month 32 is out of range 1-31",
            ]
        )
    }

    @Test func timezoneMustBeAKnownIANAName() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                cron:
                  - { name: a, schedule: '@daily', handler: a, timezone: Europe/Istambul }
                  - { name: b, schedule: '@daily', handler: b, timezone: europe/london }
                  - { name: c, schedule: '@daily', handler: c, timezone: Mars/Olympus_Mons }
                  - { name: d, schedule: '@daily', handler: d, timezone: UTC }
                """
            ) == [
                "agnost.yaml:4:58: error: unknown time zone 'Europe/Istambul'; did you mean 'Europe/Istanbul'?",
                "agnost.yaml:5:58: error: unknown time zone 'europe/london'; did you mean 'Europe/London'?",
                "agnost.yaml:6:58: error: unknown time zone 'Mars/Olympus_Mons'; use an IANA time zone name like "
                    + "'Europe/Istanbul' or 'UTC'",
            ]
        )
    }

    @Test func enabledIsABoolean() throws {
        let result = check(
            """
            app: todo
            version: v1
            cron:
              - { name: a, schedule: '@daily', handler: a, enabled: false }
              - { name: b, schedule: '@daily', handler: b, enabled: off }
            """
        )
        #expect(
            result.diagnostics.map(\.description) == [
                "agnost.yaml:5:57: error: expected true or false for 'enabled', found a string"
            ]
        )
    }

    @Test func disabledCronJobIsKept() throws {
        let spec = try #require(
            check("app: a\nversion: v1\ncron: [{ name: a, schedule: '@daily', handler: a, enabled: false }]").spec
        )
        #expect(spec.cronJobs.first?.enabled == false)
    }

    @Test func resourceTypeIsOneOfTheSupportedKinds() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                queues: [{ name: q, handler: q }]
                resources:
                  - { name: db, type: mongo }
                  - { name: cache, type: memcached }
                """
            ) == [
                "agnost.yaml:5:23: error: unknown resource type 'mongo'; did you mean 'mongodb'?",
                "agnost.yaml:6:26: error: unknown resource type 'memcached'; use mongodb, postgres, redis, rabbitmq "
                    + "or s3",
            ]
        )
    }
}

/// `env:` and `scaling:`.
@Suite("Diagnostics: env and scaling")
struct SettingsDiagnosticsTests {
    @Test func environmentNamesAreShellNamesAndValuesAreScalars() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                queues: [{ name: q, handler: q }]
                env:
                  1ST: a
                  DB-URL: b
                  LIST: [a, b]
                  UNSET:
                  GREETING: hello
                """
            ) == [
                "agnost.yaml:5:3: error: environment variable name '1ST' is invalid; use letters, digits and '_', not "
                    + "starting with a digit",
                "agnost.yaml:6:3: error: environment variable name 'DB-URL' is invalid; use letters, digits and '_', "
                    + "not starting with a digit",
                "agnost.yaml:7:9: error: expected a string for 'LIST', found a list",
                "agnost.yaml:8:9: error: expected a string for 'UNSET', found null",
            ]
        )
    }

    @Test func platformEnvironmentNamesAreReserved() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                queues: [{ name: q, handler: q }]
                env:
                  PORT: 80
                  K_SERVICE: x
                  K_REVISION: x
                  K_CONFIGURATION: x
                  LOG_LEVEL: debug
                  AGNOST_TOKEN: secret
                  AGNOSTIC: fine
                """
            ) == [
                "agnost.yaml:5:3: error: environment variable 'PORT' is set by the platform; choose another name",
                "agnost.yaml:6:3: error: environment variable 'K_SERVICE' is set by the platform; choose another name",
                "agnost.yaml:7:3: error: environment variable 'K_REVISION' is set by the platform; choose another name",
                "agnost.yaml:8:3: error: environment variable 'K_CONFIGURATION' is set by the platform; choose another "
                    + "name",
                "agnost.yaml:9:3: error: environment variable 'LOG_LEVEL' is set by the platform; choose another name",
                "agnost.yaml:10:3: error: environment variable 'AGNOST_TOKEN' starts with AGNOST_, which is reserved "
                    + "for the platform; choose another name",
            ]
        )
    }

    @Test func duplicateEnvironmentNameIsADuplicateKey() {
        #expect(
            diagnostics("app: a\nversion: v1\nqueues: [{ name: q, handler: q }]\nenv: { A: 1, A: 2 }") == [
                "agnost.yaml:4:8: note: first defined here",
                "agnost.yaml:4:14: error: duplicate key 'A' in env; remove one of them",
            ]
        )
    }

    @Test func scalingBounds() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                queues: [{ name: q, handler: q }]
                scaling: { min: -1, max: 0, concurrency: -5 }
                """
            ) == [
                "agnost.yaml:4:17: error: scaling.min must be at least 0, found -1",
                "agnost.yaml:4:26: error: scaling.max must be at least 1, found 0",
                "agnost.yaml:4:42: error: scaling.concurrency must be at least 0, found -5",
            ]
        )
    }

    @Test func scalingMaxMustNotBeBelowMin() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                queues: [{ name: q, handler: q }]
                scaling:
                  min: 3
                  max: 2
                """
            ) == ["agnost.yaml:6:8: error: scaling.max (2) must be at least scaling.min (3)"]
        )
    }

    @Test func scalingTimeoutLimits() {
        let template = { (timeout: String) in
            diagnostics("app: a\nversion: v1\nqueues: [{ name: q, handler: q }]\nscaling: { timeout: \(timeout) }")
        }
        #expect(template("0ms") == ["agnost.yaml:4:21: error: scaling.timeout must be greater than 0, found '0ms'"])
        #expect(
            template("2h") == [
                "agnost.yaml:4:21: error: scaling.timeout '2h' is longer than Knative's limit of 1h (3600s); lower it"
            ]
        )
        #expect(
            template("3601s") == [
                "agnost.yaml:4:21: error: scaling.timeout '3601s' is longer than Knative's limit of 1h (3600s); "
                    + "lower it"
            ]
        )
        #expect(
            template("15m") == [
                "agnost.yaml:4:21: warning: scaling.timeout 15m is longer than 600s, the default "
                    + "max-revision-timeout-seconds of Knative; the cluster's config-defaults must allow it, or the "
                    + "Service is rejected"
            ]
        )
        #expect(template("600s").isEmpty)
        #expect(template("3600s").count == 1)
    }
}
