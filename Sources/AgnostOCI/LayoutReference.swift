/// `oci:DIR[:TAG]` or `oci-archive:FILE[:TAG]`: where an image is read from or written to, in skopeo's syntax.
///
/// ```swift
/// let output = try LayoutReference(parsing: "oci:build/image:v2", option: "--output")
/// // output.transport == .layout, output.path == "build/image", output.tag == "v2"
/// ```
public struct LayoutReference: Sendable, Hashable, CustomStringConvertible {
    public enum Transport: String, Sendable, CaseIterable {
        /// An OCI image layout folder.
        case layout = "oci"
        /// A tar of an OCI image layout.
        case archive = "oci-archive"
    }

    public var transport: Transport
    public var path: String
    public var tag: String?

    public init(transport: Transport, path: String, tag: String? = nil) {
        self.transport = transport
        self.path = path
        self.tag = tag
    }

    /// - Parameter option: the command-line option the value came from, named in errors.
    public init(parsing value: String, option: String, allowed: [Transport] = Transport.allCases) throws(ImageError) {
        let forms = allowed.map { "\($0.rawValue):\($0 == .layout ? "DIR" : "FILE")[:TAG]" }.joined(separator: " or ")
        guard let colon = value.firstIndex(of: ":"),
            let transport = Transport(rawValue: String(value[..<colon])),
            allowed.contains(transport)
        else {
            throw ImageError(.invalidArgument, "'\(value)' is not \(forms)", context: option)
        }
        let rest = value[value.index(after: colon)...]
        let path: Substring
        var tag: String?
        if let separator = rest.firstIndex(of: ":") {
            path = rest[..<separator]
            tag = String(rest[rest.index(after: separator)...])
        } else {
            path = rest
        }
        guard !path.isEmpty else {
            throw ImageError(
                .invalidArgument,
                "'\(value)' names no \(transport == .layout ? "folder" : "file")",
                context: option
            )
        }
        if let tag { try Self.validate(tag: tag, option: option) }
        self.init(transport: transport, path: String(path), tag: tag)
    }

    public var description: String { "\(transport.rawValue):\(path)" + (tag.map { ":\($0)" } ?? "") }

    /// Checks a tag against the grammar registries accept: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
    public static func validate(tag: String, option: String) throws(ImageError) {
        let bytes = Array(tag.utf8)
        let isWordByte: (UInt8) -> Bool = { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
        guard let first = bytes.first, isWordByte(first), bytes.count <= 128,
            bytes.allSatisfy({ isWordByte($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") })
        else {
            throw ImageError(
                .invalidArgument,
                "'\(tag)' is not a valid tag; use up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
                context: option
            )
        }
    }
}
