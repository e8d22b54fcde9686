internal import CMongoC

/// A value of a BSON document the MongoDB store writes: only the types its records and commands use.
enum BSONValue {
    case string(String)
    case int32(Int32)
    case int64(Int64)
    case bool(Bool)
    /// Generic binary (subtype 0), kept byte for byte: how a record's body is stored.
    case binary([UInt8])
    case document(BSONDocument)
    case array([BSONValue])
}

/// One libbson document, the sole owner of its `bson_t`, destroyed in deinit.
///
/// Its storage is allocated here, with the alignment libbson declares for `bson_t`, rather than by `bson_new`, so
/// that libmongoc's out-parameters (replies, which it initializes itself) can use it too without leaking it.
final class BSONDocument {
    /// The `bson_t`, which Swift sees as opaque.
    let pointer: OpaquePointer
    private let storage: UnsafeMutableRawPointer

    /// An empty document.
    init() {
        storage = UnsafeMutableRawPointer.allocate(
            byteCount: cmongoc_bson_size(),
            alignment: cmongoc_bson_alignment()
        )
        pointer = OpaquePointer(storage)
        bson_init(pointer)
    }

    /// A document of `fields`, in their order (which matters to MongoDB: a command's name comes first).
    convenience init(_ fields: KeyValuePairs<String, BSONValue>) {
        self.init(fields: Array(fields))
    }

    convenience init(fields: [(key: String, value: BSONValue)]) {
        self.init()
        for (key, value) in fields { append(key, value) }
    }

    /// A copy of a document libmongoc lends, such as a cursor's current one.
    convenience init(copying document: OpaquePointer) {
        self.init()
        bson_copy_to(document, pointer)
    }

    deinit {
        bson_destroy(pointer)
        storage.deallocate()
    }

    func append(_ key: String, _ value: BSONValue) {
        switch value {
        case .string(let string): bson_append_utf8(pointer, key, -1, string, -1)
        case .int32(let integer): bson_append_int32(pointer, key, -1, integer)
        case .int64(let integer): bson_append_int64(pointer, key, -1, integer)
        case .bool(let bool): bson_append_bool(pointer, key, -1, bool)
        case .binary(let bytes):
            bytes.withUnsafeBufferPointer { buffer in
                _ = bson_append_binary(pointer, key, -1, BSON_SUBTYPE_BINARY, buffer.baseAddress, UInt32(buffer.count))
            }
        case .document(let document): bson_append_document(pointer, key, -1, document.pointer)
        case .array(let values):
            let array = BSONDocument()
            for (index, element) in values.enumerated() { array.append(String(index), element) }
            withExtendedLifetime(array) { _ = bson_append_array(pointer, key, -1, array.pointer) }
        }
    }

    /// The top-level field `key` as an integer, when it is a 32- or 64-bit one or a double.
    func integer(_ key: String) -> Int64? {
        field(key) { iterator in
            switch bson_iter_type(iterator) {
            case BSON_TYPE_INT32, BSON_TYPE_INT64, BSON_TYPE_DOUBLE: bson_iter_as_int64(iterator)
            default: nil
            }
        }
    }

    /// The top-level field `key` as a string, when it is one.
    func string(_ key: String) -> String? {
        field(key) { iterator in
            guard bson_iter_type(iterator) == BSON_TYPE_UTF8 else { return nil }
            var length: UInt32 = 0
            guard let text = bson_iter_utf8(iterator, &length) else { return nil }
            return String(
                decoding: UnsafeRawBufferPointer(start: text, count: Int(length)).bindMemory(to: UInt8.self),
                as: UTF8.self
            )
        }
    }

    /// The top-level field `key`'s bytes, when it is binary of any subtype.
    func binary(_ key: String) -> [UInt8]? {
        field(key) { iterator in
            guard bson_iter_type(iterator) == BSON_TYPE_BINARY else { return nil }
            var subtype = BSON_SUBTYPE_BINARY
            var length: UInt32 = 0
            var bytes: UnsafePointer<UInt8>?
            bson_iter_binary(iterator, &subtype, &length, &bytes)
            guard let bytes else { return length == 0 ? [] : nil }
            return Array(UnsafeBufferPointer(start: bytes, count: Int(length)))
        }
    }

    private func field<T>(_ key: String, _ read: (OpaquePointer) -> T?) -> T? {
        withIterator { iterator in
            guard bson_iter_init_find(iterator, pointer, key) else { return nil }
            return read(iterator)
        }
    }

    /// Runs `body` with an iterator whose storage has the 128-byte alignment libbson declares for it.
    private func withIterator<T>(_ body: (OpaquePointer) -> T) -> T {
        let storage = UnsafeMutableRawPointer.allocate(
            byteCount: cmongoc_bson_iter_size(),
            alignment: cmongoc_bson_iter_alignment()
        )
        defer { storage.deallocate() }
        return body(OpaquePointer(storage))
    }
}
