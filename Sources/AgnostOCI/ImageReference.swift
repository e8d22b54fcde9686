import AgnostDigest

/// An image reference such as `ubuntu`, `localhost:5000/team/app:1.0` or `registry.example.com/app@sha256:…`, parsed
/// with Docker's rules (`ParseNormalizedNamed` of distribution/reference).
///
/// The first path component names a registry only when it contains `.` or `:` or is `localhost`; anything else is a
/// Docker Hub repository, where a single component lives under `library/`.
///
/// ```swift
/// let image = try ImageReference(parsing: "ubuntu")
/// image.description   // "docker.io/library/ubuntu:latest"
/// image.apiHost       // "registry-1.docker.io"
/// image.reference     // "latest", as in /v2/library/ubuntu/manifests/latest
/// ```
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    /// The registry as written (`localhost:5000`, `[::1]:5000`), or `docker.io` for Docker Hub.
    public let registry: String
    /// The repository path inside the registry, such as `library/ubuntu` or `team/app`.
    public let repository: String
    /// The tag as written; `nil` when none was given (`reference` then falls back to `latest` unless there is a
    /// digest).
    public let tag: String?
    public let digest: SHA256Digest?

    /// Parses `[host[:port]/]path[:tag][@sha256:hex]`.
    ///
    /// ```swift
    /// let image = try ImageReference(parsing: "localhost:5000/todo:v1", option: "--image")
    /// ```
    ///
    /// - Parameter option: the command-line option the text came from, named in errors instead of the text.
    public init(parsing text: String, option: String? = nil) throws(ImageError) {
        let parser = ReferenceParser(text: text, option: option)
        if parser.isImageID(Substring(text)) {
            throw parser.failure("it looks like an image ID; name the repository instead")
        }
        var remainder = Substring(text)
        var digest: SHA256Digest?
        if let at = remainder.firstIndex(of: "@") {
            digest = try parser.digest(remainder[remainder.index(after: at)...])
            remainder = remainder[..<at]
        }
        guard !remainder.isEmpty else {
            throw parser.failure("it has no repository name")
        }

        let isOneComponent = !remainder.contains("/")
        var registry = "docker.io"
        if let slash = remainder.firstIndex(of: "/"), parser.isRegistryHost(remainder[..<slash]) {
            registry = try parser.host(remainder[..<slash])
            remainder = remainder[remainder.index(after: slash)...]
        }

        var tag: String?
        if let colon = remainder.lastIndex(of: ":"), !remainder[colon...].contains("/") {
            let name = remainder[..<colon]
            let candidate = remainder[remainder.index(after: colon)...]
            // Docker would read `localhost:5000` as Docker Hub's library/localhost tagged 5000; nobody means that.
            if isOneComponent && parser.isRegistryHost(name)
                && !candidate.isEmpty && candidate.allSatisfy(\.isASCIIDigit)
            {
                throw parser.failure("it names a registry but no repository", example: "\(text)/app:1.0")
            }
            tag = try parser.tag(candidate)
            remainder = name
        }

        var repository = try parser.path(remainder)
        if registry == "index.docker.io" {
            registry = "docker.io"
        }
        if registry == "docker.io" && !repository.contains("/") {
            repository = "library/" + repository
        }
        guard registry.utf8.count + 1 + repository.utf8.count <= 255 else {
            throw parser.failure("the name is longer than 255 characters")
        }
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    private init(registry: String, repository: String, tag: String?, digest: SHA256Digest?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// What goes in `/v2/<name>/manifests/<reference>`: the digest when there is one (it pins the content even
    /// when a tag is also given), else the tag, else `latest`.
    public var reference: String { digest?.description ?? tag ?? "latest" }

    /// The host the distribution API is served from: Docker Hub's API lives on `registry-1.docker.io`.
    public var apiHost: String { registry == "docker.io" ? "registry-1.docker.io" : registry }

    /// Whether the registry is on this machine, which Docker talks plain HTTP to without being told.
    ///
    /// ```swift
    /// try ImageReference(parsing: "127.0.0.1:5000/app").isLocal   // true
    /// ```
    public var isLocal: Bool {
        let host = Self.hostWithoutPort(registry)
        if host == "localhost" || host == "[::1]" || host == "::1" {
            return true
        }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127"
            && octets.allSatisfy { octet in
                !octet.isEmpty && octet.count <= 3 && octet.allSatisfy(\.isASCIIDigit) && (Int(octet) ?? 256) <= 255
            }
    }

    /// The canonical `registry/repository[:tag][@digest]`, with `:latest` when neither tag nor digest was given;
    /// Docker's short forms are not used so that the output says exactly where the image goes.
    public var description: String {
        var text = "\(registry)/\(repository)"
        if let tag {
            text += ":\(tag)"
        } else if digest == nil {
            text += ":latest"
        }
        if let digest {
            text += "@\(digest)"
        }
        return text
    }

    /// A copy with another tag, keeping any digest, as Docker's `WithTag` does.
    ///
    /// ```swift
    /// let release = try image.with(tag: "1.0")
    /// ```
    public func with(tag: String) throws(ImageError) -> ImageReference {
        let checked = try ReferenceParser(text: tag, option: nil).tag(Substring(tag))
        return ImageReference(registry: registry, repository: repository, tag: checked, digest: digest)
    }

    /// The reference as it is when it names a tag or a digest, else with `tag`, or `latest` when that is nil too:
    /// where an image with a tag of its own (a version, say) goes when the name given for it has none.
    ///
    /// ```swift
    /// try ImageReference(parsing: "localhost:5000/todo").tagged(byDefault: "v1")      // localhost:5000/todo:v1
    /// try ImageReference(parsing: "localhost:5000/todo:2").tagged(byDefault: "v1")    // localhost:5000/todo:2
    /// ```
    public func tagged(byDefault tag: String?) throws(ImageError) -> ImageReference {
        guard self.tag == nil, digest == nil else { return self }
        return try with(tag: tag ?? "latest")
    }

    /// A copy pinned to `digest`, keeping any tag, as Docker's `WithDigest` does.
    ///
    /// ```swift
    /// let pushed = image.with(digest: manifestDigest)   // localhost:5000/todo:v1@sha256:…
    /// ```
    public func with(digest: SHA256Digest) -> ImageReference {
        ImageReference(registry: registry, repository: repository, tag: tag, digest: digest)
    }

    private static func hostWithoutPort(_ registry: String) -> Substring {
        if registry.hasPrefix("["), let close = registry.firstIndex(of: "]") {
            return registry[...close]
        }
        return registry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]
    }
}

/// The grammar checks of `ImageReference(parsing:)`, each throwing an error that says what is wrong.
private struct ReferenceParser {
    let text: String
    let option: String?

    func failure(_ problem: String, example: String = "registry.example.com/team/app:1.0") -> ImageError {
        let subject = option == nil ? "invalid image reference" : "invalid image reference '\(text)'"
        return ImageError(
            .invalidArgument,
            "\(subject): \(problem); for example \(example)",
            context: option ?? text
        )
    }

    /// Docker's `splitDockerDomain` test.
    func isRegistryHost(_ component: Substring) -> Bool {
        component.contains(".") || component.contains(":") || component == "localhost"
    }

    /// Docker refuses a bare 64-hex name because it is far more likely an image ID than a repository.
    func isImageID(_ name: Substring) -> Bool {
        name.utf8.count == 64 && name.allSatisfy(\.isLowercaseHexDigit)
    }

    func digest(_ text: Substring) throws(ImageError) -> SHA256Digest {
        guard text.hasPrefix("sha256:") else {
            throw failure(
                "only sha256 digests are supported",
                example: "app@sha256:\(String(repeating: "0", count: 64))"
            )
        }
        let hex = text.dropFirst("sha256:".count)
        guard hex.utf8.count == 64, hex.allSatisfy(\.isLowercaseHexDigit), let digest = SHA256Digest(hex: hex) else {
            throw failure(
                "the digest must be sha256: and 64 lowercase hex digits",
                example: "app@sha256:\(String(repeating: "0", count: 64))"
            )
        }
        return digest
    }

    /// `[\w][\w.-]{0,127}`
    func tag(_ text: Substring) throws(ImageError) -> String {
        let isWord: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard let first = text.first, isWord(first), text.count <= 128,
            text.allSatisfy({ isWord($0) || $0 == "." || $0 == "-" })
        else {
            throw failure(
                "the tag '\(text)' must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
                example: "app:1.0"
            )
        }
        return String(text)
    }

    /// `domain-name[:port]` or `[ipv6][:port]`; the case of a host name is kept as Docker does.
    func host(_ text: Substring) throws(ImageError) -> String {
        var name = text
        var port: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw failure("the IPv6 registry address '\(text)' has no closing ']'", example: "[::1]:5000/app")
            }
            let address = text[text.index(after: text.startIndex)..<close]
            guard !address.isEmpty, address.allSatisfy({ $0 == ":" || ($0.isHexDigit && $0.isASCII) }) else {
                throw failure("'\(text)' is not an IPv6 registry address", example: "[::1]:5000/app")
            }
            name = text[...close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else {
                    throw failure("'\(text)' is not an IPv6 registry address", example: "[::1]:5000/app")
                }
                port = rest.dropFirst()
            }
        } else if let colon = text.firstIndex(of: ":") {
            name = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        if let port, port.isEmpty || !port.allSatisfy(\.isASCIIDigit) {
            throw failure("the registry port in '\(text)' must be a number", example: "localhost:5000/app")
        }
        if !name.hasPrefix("[") {
            let labels = name.split(separator: ".", omittingEmptySubsequences: false)
            let valid = labels.allSatisfy { label in
                guard let first = label.first, let last = label.last else { return false }
                return first.isASCIIAlphanumeric && last.isASCIIAlphanumeric
                    && label.allSatisfy { $0.isASCIIAlphanumeric || $0 == "-" }
            }
            guard valid else {
                throw failure("the registry host '\(text)' is not a valid host name", example: "localhost:5000/app")
            }
        }
        return String(text)
    }

    /// Components of `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*` joined by `/`.
    func path(_ text: Substring) throws(ImageError) -> String {
        let components = text.split(separator: "/", omittingEmptySubsequences: false)
        for component in components {
            if component.isEmpty {
                throw failure(
                    "the repository path '\(text)' has an empty component (a leading, trailing or double '/')"
                )
            }
            if !isPathComponent(component) {
                let problem =
                    isPathComponent(Substring(component.lowercased()))
                    ? "the repository path must be lowercase, but '\(component)' is not"
                    : "'\(component)' must be lowercase letters and digits, separated by '.', '_', '__' or dashes"
                throw failure(problem)
            }
        }
        return String(text)
    }

    private func isPathComponent(_ component: Substring) -> Bool {
        let isAlphanumeric: (Character) -> Bool = { $0.isASCII && ($0.isLowercase || $0.isNumber) }
        guard let first = component.first, let last = component.last, isAlphanumeric(first), isAlphanumeric(last)
        else {
            return false
        }
        var separator = ""
        for character in component {
            if isAlphanumeric(character) {
                guard
                    separator.isEmpty || separator == "." || separator == "_" || separator == "__"
                        || separator.allSatisfy({ $0 == "-" })
                else {
                    return false
                }
                separator = ""
            } else {
                separator.append(character)
            }
        }
        return true
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    fileprivate var isASCIIAlphanumeric: Bool { isASCII && (isLetter || isNumber) }
    fileprivate var isLowercaseHexDigit: Bool { isASCIIDigit || ("a"..."f").contains(self) }
}
