/// One challenge of a `WWW-Authenticate` header (RFC 9110 section 11.6.1): an auth scheme and its parameters.
///
/// ```swift
/// let challenges = AuthChallenge.parse(#"Bearer realm="https://auth.example.com/token",service="registry""#)
/// challenges[0].scheme                  // "bearer"
/// challenges[0].parameters["realm"]     // "https://auth.example.com/token"
/// ```
public struct AuthChallenge: Sendable, Hashable {
    /// The auth scheme, lowercased: `basic`, `bearer`.
    public let scheme: String
    /// The auth-params with lowercased names and unquoted values; a token68 (`Negotiate abc==`) is under `""`.
    public let parameters: [String: String]

    public init(scheme: String, parameters: [String: String]) {
        self.scheme = scheme.lowercased()
        self.parameters = parameters
    }

    /// Parses every challenge of a header value; what cannot be parsed is skipped rather than failing the rest.
    ///
    /// ```swift
    /// AuthChallenge.parse(#"Basic realm="Registry Realm", Bearer realm="https://auth.example.com/token""#).count  // 2
    /// ```
    public static func parse(_ headerValue: String) -> [AuthChallenge] {
        var scanner = ChallengeScanner(bytes: Array(headerValue.utf8))
        var challenges: [AuthChallenge] = []
        while true {
            scanner.skip { $0 == UInt8(ascii: ",") || ChallengeScanner.isWhitespace($0) }
            guard !scanner.isAtEnd else { break }
            guard let scheme = scanner.token() else {
                // Not a token: skip this list member so that one malformed challenge does not hide the others.
                scanner.skip { $0 != UInt8(ascii: ",") }
                continue
            }
            scanner.skip(ChallengeScanner.isWhitespace)
            var parameters: [String: String] = [:]
            if let token68 = scanner.token68() {
                parameters[""] = token68
            } else {
                while let (name, value) = scanner.parameter() {
                    // RFC 9110 forbids repeated names; keeping the first makes a later duplicate unable to override.
                    if parameters[name] == nil {
                        parameters[name] = value
                    }
                }
            }
            challenges.append(AuthChallenge(scheme: scheme, parameters: parameters))
        }
        return challenges
    }
}

/// A cursor over the bytes of a header value; every read either consumes what it returns or leaves the cursor put.
private struct ChallengeScanner {
    let bytes: [UInt8]
    var index = 0

    var isAtEnd: Bool { index >= bytes.count }

    static func isWhitespace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// RFC 9110 `tchar`.
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// RFC 9110 `token68` characters before the trailing `=` padding.
    static func isToken68Character(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: Array("-._~+/".utf8).contains(byte)
        }
    }

    mutating func skip(_ predicate: (UInt8) -> Bool) {
        while !isAtEnd && predicate(bytes[index]) {
            index += 1
        }
    }

    mutating func token() -> String? {
        let start = index
        skip(Self.isTokenCharacter)
        return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
    }

    /// A token68 is only recognised when it is the whole of the challenge's data, since `key=value` starts the same.
    mutating func token68() -> String? {
        let start = index
        skip(Self.isToken68Character)
        guard index > start else { return nil }
        skip { $0 == UInt8(ascii: "=") }
        let end = index
        skip(Self.isWhitespace)
        guard isAtEnd || bytes[index] == UInt8(ascii: ",") else {
            index = start
            return nil
        }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The next `name = value` of the current challenge, or `nil` (cursor unmoved) where the next challenge starts.
    mutating func parameter() -> (name: String, value: String)? {
        let start = index
        skip { $0 == UInt8(ascii: ",") || Self.isWhitespace($0) }
        guard let name = token() else {
            index = start
            return nil
        }
        skip(Self.isWhitespace)
        guard !isAtEnd, bytes[index] == UInt8(ascii: "=") else {
            index = start
            return nil
        }
        index += 1
        skip(Self.isWhitespace)
        guard isAtEnd || bytes[index] != UInt8(ascii: "\"") else {
            return (name.lowercased(), quotedString())
        }
        // Wider than a token: some registries send URLs unquoted, and a realm cut at its ':' would be useless.
        let valueStart = index
        skip { $0 != UInt8(ascii: ",") && !Self.isWhitespace($0) }
        return (name.lowercased(), String(decoding: bytes[valueStart..<index], as: UTF8.self))
    }

    /// A `quoted-string` with its backslash escapes removed; an unterminated one runs to the end of the header.
    private mutating func quotedString() -> String {
        index += 1
        var value: [UInt8] = []
        while !isAtEnd {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\"") {
                break
            }
            if byte == UInt8(ascii: "\\") && !isAtEnd {
                value.append(bytes[index])
                index += 1
            } else {
                value.append(byte)
            }
        }
        return String(decoding: value, as: UTF8.self)
    }
}
