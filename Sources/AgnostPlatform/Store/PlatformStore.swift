/// What the control plane keeps, one kind of record per collection (a table's rows, a MongoDB collection).
public enum RecordKind: String, Sendable, CaseIterable, Codable {
    case app
    case version
    case resource
    case apiKey
    case deployment
    case accessToken
}

/// Where a record is kept: its kind, the scope it belongs to (an app's name, `app/version`, or `""` for records
/// of the whole platform) and its name, unique in that scope.
///
/// ```swift
/// let key = RecordKey(.version, scope: "todo", name: "v1")
/// ```
public struct RecordKey: Sendable, Hashable, CustomStringConvertible {
    public var kind: RecordKind
    public var scope: String
    public var name: String

    public init(_ kind: RecordKind, scope: String = "", name: String) {
        self.kind = kind
        self.scope = scope
        self.name = name
    }

    public var description: String {
        scope.isEmpty ? "\(kind.rawValue) \(name)" : "\(kind.rawValue) \(scope)/\(name)"
    }
}

/// A record as stored: its key, its revision (1 when created, one more with each update) and its body, a JSON
/// document the layer above encodes.
public struct StoredRecord: Sendable, Hashable {
    public var key: RecordKey
    public var revision: Int
    public var body: [UInt8]

    public init(key: RecordKey, revision: Int, body: [UInt8]) {
        self.key = key
        self.revision = revision
        self.body = body
    }
}

/// One page of a listing, in name order; `next` is the cursor of the page after it, nil on the last.
public struct StorePage: Sendable, Hashable {
    public var records: [StoredRecord]
    public var next: String?

    public init(records: [StoredRecord], next: String?) {
        self.records = records
        self.next = next
    }
}

/// The control plane's storage: records by key, created once, updated only from the revision they are at, and
/// listed in pages. Every change returns only once it is durable.
///
/// Two implementations keep the same contract, which one conformance suite checks: ``SQLiteStore``, embedded, and
/// ``MongoStore``, for several platform replicas on one replica set.
///
/// ```swift
/// let created = try await store.create(RecordKey(.app, name: "todo"), body: body)
/// let updated = try await store.update(created.key, body: newBody, ifRevision: created.revision)
/// let page = try await store.list(.app, scope: "", after: nil, limit: 50)
/// ```
public protocol PlatformStore: Sendable {
    /// Stores a new record at revision 1.
    ///
    /// - Throws: ``StoreError`` with `duplicate` when the key is taken.
    func create(_ key: RecordKey, body: [UInt8]) async throws(StoreError) -> StoredRecord

    /// The record at `key`, or nil.
    func record(_ key: RecordKey) async throws(StoreError) -> StoredRecord?

    /// Replaces the body of the record at `key`, if it is still at `revision`, and returns it at the next one.
    ///
    /// - Throws: ``StoreError`` with `revisionConflict` when it has moved on, `notFound` when it is gone.
    func update(_ key: RecordKey, body: [UInt8], ifRevision revision: Int) async throws(StoreError) -> StoredRecord

    /// Removes the record at `key`; when `revision` is given, only if it is still at it.
    ///
    /// - Throws: ``StoreError`` with `notFound` or `revisionConflict`.
    func delete(_ key: RecordKey, ifRevision revision: Int?) async throws(StoreError)

    /// Up to `limit` records of `kind` in `scope` whose names come after `cursor`, in name order.
    func list(
        _ kind: RecordKind,
        scope: String,
        after cursor: String?,
        limit: Int
    ) async throws(StoreError)
        -> StorePage
}

/// A store that closes: after every call it started, waiting for them.
protocol ClosableStore: PlatformStore {
    func close() async
}

extension MongoStore: ClosableStore {}
extension SQLiteStore: ClosableStore {}

/// Runs `body` with `store`, then closes it, whether `body` returned or threw: what each `with…Store` does once
/// the store is open.
func closing<Store: ClosableStore, T>(_ store: Store, after body: (Store) async throws -> T) async throws -> T {
    do {
        let result = try await body(store)
        await store.close()
        return result
    } catch {
        await store.close()
        throw error
    }
}
