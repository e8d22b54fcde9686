/// The kinds of resource a version can link to.
///
/// ```swift
/// ResourceType.allCases.map(\.rawValue)  // ["mongodb", "postgres", "redis", "rabbitmq", "s3"]
/// ```
public enum ResourceType: String, CaseIterable, Sendable, Hashable, Codable {
    case mongodb, postgres, redis, rabbitmq, s3
}

/// One entry of `resources:`: a linked resource whose connection settings reach the runtime.
///
/// ```swift
/// spec.resources.map(\.type)  // [.mongodb]
/// ```
public struct ResourceSpec: Hashable, Sendable {
    public var name: Located<String>
    public var type: ResourceType
    /// Where the resource's list item starts.
    public var location: SourceLocation

    public init(name: Located<String>, type: ResourceType, location: SourceLocation) {
        self.name = name
        self.type = type
        self.location = location
    }
}
