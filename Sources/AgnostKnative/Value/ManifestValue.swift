/// A JSON value whose objects keep their keys in the order they were written: the tree Kubernetes objects are
/// built, hashed, written (``jsonBytes()``, ``yaml()``) and read back (``init(json:)``) as.
///
/// Equal trees give equal bytes, which is what makes revision names and digests stable. Two objects with the same
/// members in another order are different values, as their bytes differ.
///
/// ```swift
/// let secret: ManifestValue = ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "todo-v1"]]
/// secret["metadata"]?["name"]?.stringValue   // "todo-v1"
/// String(decoding: secret.jsonBytes(), as: UTF8.self)
/// // {"apiVersion":"v1","kind":"Secret","metadata":{"name":"todo-v1"}}
/// ```
public enum ManifestValue: Sendable {
    case object([(key: String, value: ManifestValue)])
    case array([ManifestValue])
    case string(String)
    case integer(Int)
    /// A JSON number that is not an `Int` (a fraction, an exponent, or out of range), kept exactly as written.
    /// Kubernetes' own types never use one, but an object read back may hold one from another controller.
    case decimal(String)
    case bool(Bool)
    case null

    /// The members of an object, in order.
    public var objectValue: [(key: String, value: ManifestValue)]? {
        guard case .object(let members) = self else { return nil }
        return members
    }

    public var arrayValue: [ManifestValue]? {
        guard case .array(let items) = self else { return nil }
        return items
    }

    public var stringValue: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    public var integerValue: Int? {
        guard case .integer(let number) = self else { return nil }
        return number
    }

    public var boolValue: Bool? {
        guard case .bool(let flag) = self else { return nil }
        return flag
    }

    public var isNull: Bool {
        guard case .null = self else { return false }
        return true
    }

    /// The member `key` of an object; nil for a missing key or a value that is not an object.
    ///
    /// Setting a value replaces the member in place or appends it; setting nil removes it. Setting on a value that
    /// is not an object does nothing.
    ///
    /// ```swift
    /// var template = service["spec"]?["template"]
    /// template?["metadata"]?["name"] = nil
    /// ```
    public subscript(key: String) -> ManifestValue? {
        get { objectValue?.first { $0.key == key }?.value }
        set {
            guard case .object(var members) = self else { return }
            let index = members.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (let index?, let value?): members[index].value = value
            case (let index?, nil): members.remove(at: index)
            case (nil, let value?): members.append((key, value))
            case (nil, nil): return
            }
            self = .object(members)
        }
    }

    /// The item at `index` of an array; nil when out of range or not an array.
    public subscript(index: Int) -> ManifestValue? {
        guard let items = arrayValue, items.indices.contains(index) else { return nil }
        return items[index]
    }

    /// The same tree with the members of every object sorted by key (by UTF-8 bytes, as Go sorts map keys): the
    /// canonical form to hash when the order of construction must not matter.
    public func sortingKeys() -> ManifestValue {
        switch self {
        case .object(let members):
            .object(
                members.map { ($0.key, $0.value.sortingKeys()) }.sorted {
                    Array($0.0.utf8).lexicographicallyPrecedes($1.0.utf8)
                }
            )
        case .array(let items): .array(items.map { $0.sortingKeys() })
        default: self
        }
    }
}

extension ManifestValue: Hashable {
    public static func == (lhs: ManifestValue, rhs: ManifestValue) -> Bool {
        switch (lhs, rhs) {
        case (.object(let left), .object(let right)):
            left.count == right.count && zip(left, right).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.array(let left), .array(let right)): left == right
        case (.string(let left), .string(let right)): left == right
        case (.integer(let left), .integer(let right)): left == right
        case (.decimal(let left), .decimal(let right)): left == right
        case (.bool(let left), .bool(let right)): left == right
        case (.null, .null): true
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .object(let members):
            hasher.combine(0)
            hasher.combine(members.count)
            for member in members {
                hasher.combine(member.key)
                hasher.combine(member.value)
            }
        case .array(let items):
            hasher.combine(1)
            hasher.combine(items)
        case .string(let text):
            hasher.combine(2)
            hasher.combine(text)
        case .integer(let number):
            hasher.combine(3)
            hasher.combine(number)
        case .decimal(let text):
            hasher.combine(4)
            hasher.combine(text)
        case .bool(let flag):
            hasher.combine(5)
            hasher.combine(flag)
        case .null:
            hasher.combine(6)
        }
    }
}

extension ManifestValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: ManifestValue...) { self = .array(elements) }
    /// Keeps the literal's order.
    public init(dictionaryLiteral elements: (String, ManifestValue)...) {
        self = .object(elements.map { (key: $0.0, value: $0.1) })
    }
}
