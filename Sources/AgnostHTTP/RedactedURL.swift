/// A request URL in the form that may be shown: without userinfo, query and fragment, which carry passwords, tokens
/// and API keys.
struct RedactedURL {
    let display: String
    /// The parts left out of `display`.
    private let secrets: [Substring]

    init(_ raw: String) {
        let authorityStart = raw.firstRange(of: "://")?.upperBound ?? raw.startIndex
        // Passwords are often pasted unencoded and may then hold `?`, `#` or `@`, so the userinfo runs to the last `@`
        // before the path rather than stopping at the first `?` or `#`.
        let pathStart = raw[authorityStart...].firstIndex(of: "/") ?? raw.endIndex
        var secrets: [Substring] = []
        var rest = raw[authorityStart...]
        if let at = raw[authorityStart..<pathStart].lastIndex(of: "@") {
            secrets.append(raw[authorityStart..<at])
            rest = raw[raw.index(after: at)...]
        }
        if let queryStart = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            secrets.append(rest[rest.index(after: queryStart)...])
            rest = rest[..<queryStart]
        }
        display = String(raw[..<authorityStart] + rest)
        self.secrets = secrets.filter { !$0.isEmpty }
    }

    /// Whether `text`, such as a message from libcurl, quotes a part of the URL that `display` leaves out.
    func isRevealed(by text: String) -> Bool {
        secrets.contains { text.contains($0) }
    }
}
