import Foundation

/// The one JSON form of every document the packager writes: sorted keys, no escaped slashes, no whitespace, so
/// that equal values always give equal bytes and therefore equal digests.
package enum CanonicalJSON {
    package static func encode(_ value: some Encodable) throws(ImageError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw ImageError(.fileSystem, "cannot encode JSON: \(error)")
        }
    }

    /// Decodes `bytes`, naming `context` (a file or blob) when they are not the expected document.
    package static func decode<Value: Decodable>(
        _ type: Value.Type,
        from bytes: [UInt8],
        context: String
    ) throws(ImageError) -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw ImageError(.invalidLayout, "not a valid \(Value.self) document: \(error)", context: context)
        }
    }
}
