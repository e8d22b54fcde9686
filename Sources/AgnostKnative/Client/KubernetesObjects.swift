import Foundation

/// The `metadata` of a Kubernetes object, as far as the deployer reads it.
public struct ObjectMeta: Sendable, Decodable, Equatable {
    public var name: String
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    /// Bumped by the server when `spec` changes; nil for kinds without one (Secrets).
    public var generation: Int64?
    public var labels: [String: String]
    public var annotations: [String: String]
    public var creationTimestamp: String?

    enum CodingKeys: String, CodingKey {
        case name, namespace, uid, resourceVersion, generation, labels, annotations, creationTimestamp
    }

    public init(
        name: String,
        namespace: String? = nil,
        resourceVersion: String? = nil,
        generation: Int64? = nil,
        creationTimestamp: String? = nil,
        labels: [String: String] = [:],
        annotations: [String: String] = [:]
    ) {
        self.name = name
        self.namespace = namespace
        self.resourceVersion = resourceVersion
        self.generation = generation
        self.creationTimestamp = creationTimestamp
        self.labels = labels
        self.annotations = annotations
    }

    /// `creationTimestamp` as a date; nil when absent or not RFC 3339.
    public var created: Date? {
        creationTimestamp.flatMap { try? Date($0, strategy: .iso8601) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        namespace = try container.decodeIfPresent(String.self, forKey: .namespace)
        uid = try container.decodeIfPresent(String.self, forKey: .uid)
        resourceVersion = try container.decodeIfPresent(String.self, forKey: .resourceVersion)
        generation = try container.decodeIfPresent(Int64.self, forKey: .generation)
        labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        annotations = try container.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
        creationTimestamp = try container.decodeIfPresent(String.self, forKey: .creationTimestamp)
    }

    /// The metadata of the JSON object `object`, or nil when it has none.
    ///
    /// ```swift
    /// let generation = ObjectMeta.decode(from: event.object)?.generation
    /// ```
    public static func decode(from object: [UInt8]) -> ObjectMeta? {
        struct Object: Decodable { var metadata: ObjectMeta }
        return (try? JSONDecoder().decode(Object.self, from: Data(object)))?.metadata
    }
}

/// What a server-side apply returned.
public struct AppliedObject: Sendable {
    /// 201 when the object was created, 200 when it existed (changed or not).
    public var statusCode: Int
    /// The object as the server now has it (or would have it, for a dry run), JSON.
    public var object: [UInt8]
    public var metadata: ObjectMeta

    public var created: Bool { statusCode == 201 }
}

/// The objects of a list call, and the `resourceVersion` to watch from.
public struct ObjectList: Sendable {
    public var resourceVersion: String
    /// Each object as JSON.
    public var items: [[UInt8]]
}

/// One event of a watch.
public struct WatchEvent: Sendable {
    public enum Kind: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        /// Carries only the `resourceVersion` the watch has reached.
        case bookmark = "BOOKMARK"
    }

    public var type: Kind
    /// The object as JSON.
    public var object: [UInt8]

    public init(type: Kind, object: [UInt8]) {
        self.type = type
        self.object = object
    }

    public var metadata: ObjectMeta? { ObjectMeta.decode(from: object) }
}

/// Cuts a watch body into its newline-delimited JSON documents as the bytes arrive.
struct JSONLineSplitter {
    private var pending: [UInt8] = []
    /// The longest document accepted: a watch sends whole objects, which the API server limits to a few MiB.
    let limit: Int

    init(limit: Int = 16 << 20) {
        self.limit = limit
    }

    /// The documents that `bytes` completes; nil when one grows past ``limit``.
    mutating func append(_ bytes: some Collection<UInt8>) -> [[UInt8]]? {
        var lines: [[UInt8]] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if !pending.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { lines.append(pending) }
                pending.removeAll(keepingCapacity: true)
            } else {
                guard pending.count < limit else { return nil }
                pending.append(byte)
            }
        }
        return lines
    }
}

/// One decoded line of a watch: an event, or the Status of an `ERROR` event.
enum WatchLine: Equatable {
    case event(WatchEvent.Kind, object: [UInt8], resourceVersion: String?)
    case error(Status?)

    static func decode(_ line: [UInt8]) -> WatchLine? {
        guard let document = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let type = document["type"] as? String, let object = document["object"] as? [String: Any],
            let bytes = try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])
        else { return nil }
        if type == "ERROR" { return .error(Status.decode(Array(bytes))) }
        guard let kind = WatchEvent.Kind(rawValue: type) else { return nil }
        let metadata = object["metadata"] as? [String: Any]
        return .event(kind, object: Array(bytes), resourceVersion: metadata?["resourceVersion"] as? String)
    }
}
