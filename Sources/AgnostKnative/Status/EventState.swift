import Foundation

/// What a Knative Eventing Broker reports: its `Ready` condition and the address it takes events at.
///
/// ```swift
/// let broker = try BrokerState(json: bytes)
/// broker.url  // "http://broker-ingress.knative-eventing.svc.cluster.local/demo/default"
/// ```
public struct BrokerState: Sendable, Equatable, Decodable {
    public var metadata: ObjectMeta
    public var status: Status

    public struct Status: Sendable, Equatable, Decodable {
        public var conditions: [Condition]?
        public var address: Address?
    }

    public struct Address: Sendable, Equatable, Decodable {
        public var url: String?
    }

    public init(json: [UInt8]) throws(DecodingFailure) {
        self = try DecodingFailure.decode(Self.self, from: json)
    }

    enum CodingKeys: String, CodingKey { case metadata, status }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        status = try container.decodeIfPresent(Status.self, forKey: .status) ?? Status()
    }

    /// The `Ready` condition, nil until the Broker's controller reports one.
    public var ready: Condition? { status.conditions?.first { $0.type == "Ready" } }
    /// `status.address.url`: where senders post events.
    public var url: String? { status.address?.url }
}

/// One PingSource or Trigger of a deployed version, as status lists it.
///
/// ```swift
/// let trigger = try EventObjectState(json: bytes, kind: "Trigger")
/// trigger.ready  // "True", "False", or nil before the controller says
/// ```
public struct EventObjectState: Sendable, Equatable, Encodable {
    public var name: String
    /// `PingSource` or `Trigger`.
    public var kind: String
    /// The `Ready` condition's status; nil until the object's controller reports one.
    public var ready: String?
    public var reason: String?
    public var message: String?

    public init(name: String, kind: String, ready: String?, reason: String? = nil, message: String? = nil) {
        self.name = name
        self.kind = kind
        self.ready = ready
        self.reason = reason
        self.message = message
    }

    public init(json: [UInt8], kind: String) throws(DecodingFailure) {
        let decoded = try DecodingFailure.decode(Read.self, from: json)
        let ready = decoded.status?.conditions?.first { $0.type == "Ready" }
        self.init(
            name: decoded.metadata.name,
            kind: kind,
            ready: ready?.status,
            reason: ready?.reason,
            message: ready?.message
        )
    }

    private struct Read: Decodable {
        var metadata: ObjectMeta
        var status: ReadStatus?
    }

    private struct ReadStatus: Decodable {
        var conditions: [Condition]?
    }
}
