/// A request URL in the form that may be shown: without userinfo, query and fragment, which carry passwords, tokens
/// and API keys.
struct RedactedURL {
    let display: String
    /// The parts left out of `display`.
    private let secrets: [Substring]

    init(_ raw: String) {
        // Searched as UTF-8, not as Characters: every delimiter is ASCII, and a client redacts each request's URL.
        let bytes = raw.utf8
        let authorityStart = Self.authorityStart(of: bytes)
        // Passwords are often pasted unencoded and may then hold `?`, `#` or `@`, so the userinfo runs to the last `@`
        // before the path rather than stopping at the first `?` or `#`.
        let pathStart = bytes[authorityStart...].firstIndex(of: UInt8(ascii: "/")) ?? raw.endIndex
        var secrets: [Substring] = []
        var rest = raw[authorityStart...]
        if let at = bytes[authorityStart..<pathStart].lastIndex(of: UInt8(ascii: "@")) {
            secrets.append(raw[authorityStart..<at])
            rest = raw[bytes.index(after: at)...]
        }
        if let queryStart = rest.utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) {
            secrets.append(rest[rest.utf8.index(after: queryStart)...])
            rest = rest[..<queryStart]
        }
        display = String(raw[..<authorityStart] + rest)
        self.secrets = secrets.filter { !$0.isEmpty }
    }

    /// Where the authority starts: after the scheme's `://`, or at the start when there is none.
    private static func authorityStart(of bytes: String.UTF8View) -> String.Index {
        var searched = bytes.startIndex
        while let colon = bytes[searched...].firstIndex(of: UInt8(ascii: ":")) {
            if bytes[colon...].dropFirst().starts(with: "//".utf8) { return bytes.index(colon, offsetBy: 3) }
            searched = bytes.index(after: colon)
        }
        return bytes.startIndex
    }

    /// Whether `text`, such as a message from libcurl, quotes a part of the URL that `display` leaves out.
    func isRevealed(by text: String) -> Bool {
        secrets.contains { text.contains($0) }
    }
}
