import Foundation

/// What a Knative Service reports about itself: the parts of a `serving.knative.dev/v1` Service that deploy,
/// status, traffic and rollback read back from the cluster.
///
/// ```swift
/// let state = try ServiceState(json: bytes)
/// print(state.status.url ?? "no URL yet", state.condition("Ready")?.status ?? "Unknown")
/// ```
public struct ServiceState: Sendable, Equatable, Decodable {
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status

    /// The parts of `spec` that status and traffic need.
    public struct Spec: Sendable, Equatable, Decodable {
        public var template: Template?
        public var traffic: [TrafficTarget]?

        public init(template: Template? = nil, traffic: [TrafficTarget]? = nil) {
            self.template = template
            self.traffic = traffic
        }

        public struct Template: Sendable, Equatable, Decodable {
            public var metadata: TemplateMetadata?
        }

        public struct TemplateMetadata: Sendable, Equatable, Decodable {
            public var name: String?
            public var annotations: [String: String]?
        }
    }

    /// `status`, written by the Knative controller.
    public struct Status: Sendable, Equatable, Decodable {
        public var observedGeneration: Int64?
        public var conditions: [Condition]?
        public var url: String?
        public var latestCreatedRevisionName: String?
        public var latestReadyRevisionName: String?
        public var traffic: [TrafficTarget]?

        public init(
            observedGeneration: Int64? = nil,
            conditions: [Condition]? = nil,
            url: String? = nil,
            latestCreatedRevisionName: String? = nil,
            latestReadyRevisionName: String? = nil,
            traffic: [TrafficTarget]? = nil
        ) {
            self.observedGeneration = observedGeneration
            self.conditions = conditions
            self.url = url
            self.latestCreatedRevisionName = latestCreatedRevisionName
            self.latestReadyRevisionName = latestReadyRevisionName
            self.traffic = traffic
        }
    }

    public init(metadata: ObjectMeta, spec: Spec = Spec(), status: Status = Status()) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// Decodes a Service as the API server returns it.
    public init(json: [UInt8]) throws(DecodingFailure) {
        self = try DecodingFailure.decode(Self.self, from: json)
    }

    enum CodingKeys: String, CodingKey { case metadata, spec, status }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        spec = try container.decodeIfPresent(Spec.self, forKey: .spec) ?? Spec()
        status = try container.decodeIfPresent(Status.self, forKey: .status) ?? Status()
    }

    /// The condition of `type` (`Ready`, `ConfigurationsReady`, `RoutesReady`), if the controller reported it.
    public func condition(_ type: String) -> Condition? {
        status.conditions?.first { $0.type == type }
    }

    /// The revision the template names, which a deploy waits for.
    public var templateRevisionName: String? { spec.template?.metadata?.name }
}

/// A Knative status condition.
public struct Condition: Sendable, Hashable, Codable {
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    public var reason: String?
    public var message: String?
    public var lastTransitionTime: String?

    public init(type: String, status: String, reason: String? = nil, message: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }

    public var isTrue: Bool { status == "True" }
    public var isFalse: Bool { status == "False" }
}

/// One entry of a Service's `spec.traffic` or `status.traffic`.
public struct TrafficTarget: Sendable, Hashable, Codable {
    public var revisionName: String?
    public var latestRevision: Bool?
    public var percent: Int?
    public var tag: String?
    public var url: String?

    public init(
        revisionName: String? = nil,
        latestRevision: Bool? = nil,
        percent: Int? = nil,
        tag: String? = nil,
        url: String? = nil
    ) {
        self.revisionName = revisionName
        self.latestRevision = latestRevision
        self.percent = percent
        self.tag = tag
        self.url = url
    }
}

/// A `serving.knative.dev/v1` Revision, as status and rollback read it.
public struct RevisionState: Sendable, Equatable, Decodable {
    public var metadata: ObjectMeta
    public var image: String?
    public var conditions: [Condition]

    enum CodingKeys: String, CodingKey { case metadata, spec, status }
    enum SpecKeys: String, CodingKey { case containers }
    enum ContainerKeys: String, CodingKey { case image }
    enum StatusKeys: String, CodingKey { case conditions }

    public init(metadata: ObjectMeta, image: String? = nil, conditions: [Condition] = []) {
        self.metadata = metadata
        self.image = image
        self.conditions = conditions
    }

    public init(json: [UInt8]) throws(DecodingFailure) {
        self = try DecodingFailure.decode(Self.self, from: json)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        if let spec = try? container.nestedContainer(keyedBy: SpecKeys.self, forKey: .spec),
            var containers = try? spec.nestedUnkeyedContainer(forKey: .containers),
            let first = try? containers.nestedContainer(keyedBy: ContainerKeys.self)
        {
            image = try first.decodeIfPresent(String.self, forKey: .image)
        }
        let status = try? container.nestedContainer(keyedBy: StatusKeys.self, forKey: .status)
        conditions = (try status?.decodeIfPresent([Condition].self, forKey: .conditions)) ?? []
    }

    public var isReady: Bool { conditions.first { $0.type == "Ready" }?.isTrue ?? false }

    /// The configuration generation the revision was made for, which orders revisions of one Service.
    public var configurationGeneration: Int? {
        metadata.labels["serving.knative.dev/configurationGeneration"].flatMap { Int($0) }
    }
}

/// An object from the API server that does not have the shape agnost-fn expects.
public struct DecodingFailure: Error, Sendable, CustomStringConvertible {
    public let message: String

    public var description: String { message }

    static func decode<T: Decodable>(_ type: T.Type, from json: [UInt8]) throws(DecodingFailure) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(json))
        } catch let error as DecodingError {
            throw DecodingFailure(
                message: "the API server sent a \(T.self) that cannot be read: \(Self.explain(error))"
            )
        } catch {
            throw DecodingFailure(message: "the API server sent a \(T.self) that cannot be read: \(error)")
        }
    }

    private static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
