/// Packaging that could not be done, naming the file or argument at fault and what to do about it.
///
/// ```swift
/// catch let error as ImageError { print("error: \(error)") }   // error: /app/server: cannot read …
/// ```
public struct ImageError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// An input file is missing, unreadable, or not what it should be (not an ELF binary, say).
        case unreadableInput
        /// A path, link or entry name that would escape the image or the output (absolute, `..`, out-of-bundle link).
        case unsafePath
        /// A shared library the binary needs cannot be found the way the dynamic loader looks for it.
        case libraryNotFound
        /// libarchive or zlib reported a failure; the message carries the library's own words.
        case archiveFailed
        /// An OCI layout, index, manifest or config that cannot be used (missing tag, unknown media type, …).
        case invalidLayout
        /// A command-line value such as `--output` or `--image` that cannot be parsed.
        case invalidArgument
        /// Writing the output failed.
        case fileSystem
        /// Bytes that arrived do not match the digest or size they were announced with.
        case corruptContent
    }

    public let code: Code
    public let message: String
    /// The file, entry or argument the error is about, when there is one.
    public let context: String?

    public init(_ code: Code, _ message: String, context: String? = nil) {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String { context.map { "\($0): \(message)" } ?? message }
}
