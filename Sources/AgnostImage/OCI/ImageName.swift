/// `--image NAME[:TAG]`: the name an image is given for pushing, such as `registry.example.com:5000/team/todo:v1`.
///
/// ```swift
/// let name = try ImageName(parsing: "localhost:5000/todo:v1", option: "--image")
/// // name.repository == "localhost:5000/todo", name.tag == "v1"
/// ```
public struct ImageName: Sendable, Hashable, CustomStringConvertible {
    /// The name without the tag, registry host included when given.
    public var repository: String
    public var tag: String?

    public init(parsing value: String, option: String) throws(ImageError) {
        var repository = Substring(value)
        var tag: String?
        if let colon = value.lastIndex(of: ":"), !value[colon...].contains("/") {
            repository = value[..<colon]
            tag = String(value[value.index(after: colon)...])
        }
        if value.contains("@") {
            throw ImageError(
                .invalidArgument,
                "'\(value)' has a digest; a digest is the result of a build, so name the image as NAME[:TAG]",
                context: option
            )
        }
        var components = repository.split(separator: "/", omittingEmptySubsequences: false)
        if components.count > 1, let host = components.first,
            host.contains(".") || host.contains(":") || host == "localhost"
        {
            components.removeFirst()
        }
        guard !components.isEmpty, components.allSatisfy(Self.isValidPathComponent) else {
            throw ImageError(
                .invalidArgument,
                "'\(value)' is not a valid image name; use [HOST[:PORT]/]PATH[:TAG] with lowercase letters, digits and "
                    + "'.', '_', '-' between them, as in registry.example.com/team/app:v1",
                context: option
            )
        }
        if let tag { try LayoutReference.validate(tag: tag, option: option) }
        self.repository = String(repository)
        self.tag = tag
    }

    public var description: String { repository + (tag.map { ":\($0)" } ?? "") }

    /// A lowercase alphanumeric run, with single `.`/`_`, double `_` or any number of `-` between runs.
    private static func isValidPathComponent(_ component: Substring) -> Bool {
        let isAlphanumeric: (Character) -> Bool = { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        guard let first = component.first, let last = component.last, isAlphanumeric(first), isAlphanumeric(last)
        else { return false }
        var separator = ""
        for character in component {
            if isAlphanumeric(character) {
                guard
                    separator.isEmpty || separator == "." || separator == "_" || separator == "__"
                        || separator.allSatisfy({ $0 == "-" })
                else { return false }
                separator = ""
            } else if character == "." || character == "_" || character == "-" {
                separator.append(character)
            } else {
                return false
            }
        }
        return true
    }
}
