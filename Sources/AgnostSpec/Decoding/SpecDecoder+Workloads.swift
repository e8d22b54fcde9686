import AgnostCron

extension SpecDecoder {
    mutating func decodeQueue(_ item: MappingReader) -> QueueSpec? {
        let name = name(of: item, kind: .queue, rule: .dnsLabel)
        let handler = handler(of: item)
        let retries = value("retries", in: item, as: .integer) { count throws(ValueError) in
            try IntegerRule.check(count, isAtLeast: 0, atMost: 100, subject: "queue retries")
        }
        let delay = value("delay", in: item, as: .string) { text throws(ValueError) in
            try DurationSyntax.parse(text, subject: "queue delay")
        }
        let timeout = value("timeout", in: item, as: .string) { text throws(ValueError) in
            try DurationSyntax.parsePositive(text, subject: "queue timeout")
        }
        let deadLetter = value("deadLetter", in: item, as: .string) { $0 }
        guard let name, let handler else { return nil }
        return QueueSpec(
            name: name,
            handler: handler,
            retries: retries?.value ?? 3,
            delay: delay?.value ?? .zero,
            timeout: timeout?.value,
            deadLetter: deadLetter,
            location: item.location
        )
    }

    mutating func decodeCronJob(_ item: MappingReader) -> CronJobSpec? {
        let name = name(of: item, kind: .cronJob, rule: .dnsLabel)
        let schedule = value("schedule", in: item, as: .string) { text throws(ValueError) in
            do throws(CronExpressionError) {
                return try CronExpression(parsing: text)
            } catch {
                throw ValueError("invalid schedule: \(error.message)", offset: error.offset)
            }
        }
        let timezone = value("timezone", in: item, as: .string, parse: TimeZoneName.validate)
        let handler = handler(of: item)
        let enabled = value("enabled", in: item, as: .boolean)
        let timeout = value("timeout", in: item, as: .string) { text throws(ValueError) in
            try DurationSyntax.parsePositive(text, subject: "cron job timeout")
        }
        guard let name, let schedule, let handler else { return nil }
        return CronJobSpec(
            name: name,
            schedule: schedule.value,
            timezone: timezone?.value ?? "UTC",
            handler: handler,
            enabled: enabled?.value ?? true,
            timeout: timeout?.value,
            location: item.location
        )
    }

    mutating func decodeResource(_ item: MappingReader) -> ResourceSpec? {
        let name = name(of: item, kind: .resource, rule: .dnsLabel)
        let type: Located<ResourceType>? = value("type", in: item, as: .string) { text throws(ValueError) in
            try Choice.parse(text, subject: "resource type")
        }
        guard let name, let type else { return nil }
        return ResourceSpec(name: name, type: type.value, location: item.location)
    }
}
