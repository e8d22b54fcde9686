/// The keys one kind of mapping in agnost.yaml may hold, and how messages refer to it.
struct MappingSchema {
    /// Where the mapping is, as messages say it: "in endpoint", "at the top level".
    let place: String
    let required: [String]
    let optional: [String]
    /// Whether keys outside `required` and `optional` are allowed.
    var isOpen = false

    var keys: [String] { required + optional }

    static let topLevel = MappingSchema(
        place: "at the top level",
        required: ["app", "version"],
        optional: ["image", "endpoints", "middlewares", "queues", "cron", "resources", "env", "scaling"]
    )
    static let endpoint = MappingSchema(
        place: "in endpoint",
        required: ["name", "method", "path", "handler"],
        optional: ["middlewares", "timeout", "apiKey", "logExecution"]
    )
    static let middleware = MappingSchema(place: "in middleware", required: ["name", "handler"], optional: [])
    static let queue = MappingSchema(
        place: "in queue",
        required: ["name", "handler"],
        optional: ["retries", "delay", "timeout", "deadLetter"]
    )
    static let cronJob = MappingSchema(
        place: "in cron job",
        required: ["name", "schedule", "handler"],
        optional: ["timezone", "enabled", "timeout"]
    )
    static let resource = MappingSchema(place: "in resource", required: ["name", "type"], optional: [])
    static let scaling = MappingSchema(
        place: "in scaling",
        required: [],
        optional: ["min", "max", "concurrency", "timeout", "target", "cpu", "memory"]
    )
    /// `scaling.cpu` and `scaling.memory`.
    static func computeQuantities(_ key: String) -> MappingSchema {
        MappingSchema(place: "in scaling.\(key)", required: [], optional: ["request", "limit"])
    }
    /// Keys are the variables' names.
    static let env = MappingSchema(place: "in env", required: [], optional: [], isOpen: true)
}
