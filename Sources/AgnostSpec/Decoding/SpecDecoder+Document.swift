extension SpecDecoder {
    mutating func decodeDocument(_ document: MappingReader) {
        spec.app = value("app", in: document, as: .string) { text throws(ValueError) in
            try NameRule.dnsLabel.validate(text, subject: "app name")
        }
        spec.version = value("version", in: document, as: .string) { text throws(ValueError) in
            try NameRule.version.validate(text, subject: "version")
        }
        spec.image = value("image", in: document, as: .string, parse: ImageRepository.validate)

        let endpointItems = mappingItems("endpoints", in: document, schema: .endpoint)
        let middlewareItems = mappingItems("middlewares", in: document, schema: .middleware)
        let queueItems = mappingItems("queues", in: document, schema: .queue)
        let cronItems = mappingItems("cron", in: document, schema: .cronJob)
        let resourceItems = mappingItems("resources", in: document, schema: .resource)
        spec.endpoints = endpointItems.compactMap { decodeEndpoint($0) }
        spec.middlewares = middlewareItems.compactMap { decodeMiddleware($0) }
        spec.queues = queueItems.compactMap { decodeQueue($0) }
        spec.cronJobs = cronItems.compactMap { decodeCronJob($0) }
        spec.resources = resourceItems.compactMap { decodeResource($0) }
        spec.declaresWork = !(endpointItems.isEmpty && queueItems.isEmpty && cronItems.isEmpty)

        if let env = mapping("env", in: document, schema: .env) {
            decodeEnvironment(env)
        }
        if let scaling = mapping("scaling", in: document, schema: .scaling) {
            decodeScaling(scaling)
        }
    }

    /// The item's `name`, checked by `rule` and recorded for the checks that span items.
    mutating func name(of item: MappingReader, kind: ItemKind, rule: NameRule) -> Located<String>? {
        let name = value("name", in: item, as: .string) { text throws(ValueError) in
            try rule.validate(text, subject: "\(kind.rawValue) name", maximumLength: NameRule.maximumLength)
        }
        if let name {
            spec.names[kind, default: []].append(name)
        }
        return name
    }

    mutating func handler(of item: MappingReader) -> Located<String>? {
        value("handler", in: item, as: .string, parse: HandlerName.validate)
    }
}
