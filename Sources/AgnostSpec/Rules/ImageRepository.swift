/// The rule for the top-level `image:` key: where deploy pushes the version's image.
///
/// A light form of Docker's reference grammar (the full parser lives with the image code, which this module does
/// not depend on): an optional registry host, lowercase path components, an optional tag, and no digest.
enum ImageRepository {
    static func validate(_ text: String) throws(ValueError) -> String {
        let example = "for example registry.example.com/team/app or localhost:5000/app:1.0"
        if let at = text.firstIndex(of: "@") {
            throw ValueError(
                "image '\(text)' names a digest; write the repository (and optionally a tag) only: deploying "
                    + "pushes the image and pins the Service to the digest it got",
                offset: text.distance(from: text.startIndex, to: at)
            )
        }
        var components = text.split(separator: "/", omittingEmptySubsequences: false)
        if components.count > 1, let first = components.first,
            first.contains(".") || first.contains(":") || first == "localhost"
        {
            guard isHost(first) else {
                throw ValueError("image '\(text)' has an invalid registry host '\(first)'; \(example)")
            }
            components.removeFirst()
        }
        var tag: Substring?
        if let last = components.last, let colon = last.lastIndex(of: ":") {
            tag = last[last.index(after: colon)...]
            components[components.count - 1] = last[..<colon]
        }
        if components.count == 1, let tag, let name = components.first, name == "localhost" || name.contains("."),
            tag.allSatisfy(\.isASCIIDigit)
        {
            throw ValueError("image '\(text)' names a registry but no repository; write \(text)/app")
        }
        if let tag, !isTag(tag) {
            throw ValueError(
                "image '\(text)' has an invalid tag '\(tag)'; a tag is 1 to 128 letters, digits, '_', '.' or '-', "
                    + "not starting with '.' or '-'"
            )
        }
        guard let bad = components.first(where: { !isPathComponent($0) }) else { return text }
        let problem =
            bad.isEmpty
            ? "has an empty path component (a leading, trailing or double '/')"
            : isPathComponent(Substring(bad.lowercased()))
                ? "must be lowercase, but '\(bad)' is not"
                : "has the path component '\(bad)'; use lowercase letters and digits, separated by '.', '_', '__' "
                    + "or dashes"
        throw ValueError("image '\(text)' \(problem); \(example)")
    }

    /// `name[:port]` with DNS-style labels, or `[ipv6][:port]`.
    private static func isHost(_ text: Substring) -> Bool {
        var name = text
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            name = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard !name.isEmpty, name.allSatisfy({ $0 == ":" || $0.isASCIIHexDigit }) else { return false }
            return rest.isEmpty || isPort(rest)
        }
        if let colon = text.firstIndex(of: ":") {
            guard isPort(text[colon...]) else { return false }
            name = text[..<colon]
        }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            let isAlphanumeric = { (character: Character) in character.isASCIILetter || character.isASCIIDigit }
            return isAlphanumeric(first) && isAlphanumeric(last) && label.allSatisfy { isAlphanumeric($0) || $0 == "-" }
        }
    }

    /// `:` followed by digits.
    private static func isPort(_ text: Substring) -> Bool {
        text.first == ":" && text.count > 1 && text.dropFirst().allSatisfy(\.isASCIIDigit)
    }

    /// `[\w][\w.-]{0,127}`
    private static func isTag(_ text: Substring) -> Bool {
        let isWord = { (character: Character) in
            character.isASCIILetter || character.isASCIIDigit || character == "_"
        }
        guard let first = text.first, isWord(first), text.count <= 128 else { return false }
        return text.allSatisfy { isWord($0) || $0 == "." || $0 == "-" }
    }

    /// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
    private static func isPathComponent(_ component: Substring) -> Bool {
        let isAlphanumeric = { (character: Character) in
            character.isASCIILowercaseLetter || character.isASCIIDigit
        }
        guard let first = component.first, let last = component.last, isAlphanumeric(first), isAlphanumeric(last)
        else {
            return false
        }
        var separator = ""
        for character in component {
            guard !isAlphanumeric(character) else {
                guard ["", ".", "_", "__"].contains(separator) || separator.allSatisfy({ $0 == "-" }) else {
                    return false
                }
                separator = ""
                continue
            }
            separator.append(character)
        }
        return true
    }
}
