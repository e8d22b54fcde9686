import Foundation

/// The token request of the distribution token protocol: where a client asks for a Bearer token after a challenge.
///
/// ```swift
/// let challenge = AuthChallenge.parse(#"Bearer realm="https://auth.example.com/token",service="registry""#)[0]
/// TokenRequest.tokenURL(challenge: challenge, scopes: [TokenRequest.scope("team/app", actions: ["pull", "push"])])
/// // "https://auth.example.com/token?service=registry&scope=repository%3Ateam%2Fapp%3Apull%2Cpush"
/// ```
public enum TokenRequest {
    /// `repository:NAME:ACTIONS`, the scope of a repository.
    public static func scope(_ repository: String, actions: [String]) -> String {
        "repository:\(repository):\(actions.joined(separator: ","))"
    }

    /// The realm with `service` and `scope` added to its query, or `nil` when the challenge names no http(s) realm.
    ///
    /// The token asked for covers `scopes`, everything the client means to do (push here, pull from where blobs are
    /// mounted), so that one token serves the whole session; and the challenge's own space-separated `scope`, which
    /// names what the refused request needed. Each becomes a `scope` parameter, as the token protocol expects.
    public static func tokenURL(challenge: AuthChallenge, scopes: [String]) -> String? {
        guard var components = realm(of: challenge) else { return nil }
        var query: [String] = []
        if let service = challenge.parameters["service"], !service.isEmpty {
            query.append("service=\(encoded(service))")
        }
        query += allScopes(challenge: challenge, scopes: scopes).map { "scope=\(encoded($0))" }
        if let existing = components.percentEncodedQuery, !existing.isEmpty {
            query.insert(existing, at: 0)
        }
        components.percentEncodedQuery = query.isEmpty ? nil : query.joined(separator: "&")
        return components.string
    }

    /// The OAuth2 refresh-token grant Docker uses for identity tokens: a form `POST`ed to the realm, answered with
    /// an `access_token`. Nil when the challenge names no http(s) realm.
    ///
    /// ```swift
    /// let (url, form) = TokenRequest.refreshGrant(challenge: challenge, scopes: ["repository:app:pull,push"],
    ///                                             refreshToken: "eyJ…", clientID: "agnost-fn")!
    /// // form: "grant_type=refresh_token&refresh_token=eyJ…&service=registry&client_id=agnost-fn&scope=…"
    /// ```
    public static func refreshGrant(
        challenge: AuthChallenge,
        scopes: [String],
        refreshToken: String,
        clientID: String
    ) -> (url: String, form: String)? {
        guard let realm = realm(of: challenge)?.string else { return nil }
        var fields = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)]
        if let service = challenge.parameters["service"], !service.isEmpty { fields.append(("service", service)) }
        fields.append(("client_id", clientID))
        let asked = allScopes(challenge: challenge, scopes: scopes)
        if !asked.isEmpty { fields.append(("scope", asked.joined(separator: " "))) }
        return (realm, fields.map { "\($0)=\(encoded($1))" }.joined(separator: "&"))
    }

    /// The challenge's realm, when it is an http(s) URL with a host.
    private static func realm(of challenge: AuthChallenge) -> URLComponents? {
        guard let realm = challenge.parameters["realm"], let components = URLComponents(string: realm),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else {
            return nil
        }
        return components
    }

    /// `scopes`, then the challenge's own, each once.
    private static func allScopes(challenge: AuthChallenge, scopes: [String]) -> [String] {
        let challenged = (challenge.parameters["scope"] ?? "").split(separator: " ").map(String.init)
        var asked: [String] = []
        for scope in scopes + challenged where !asked.contains(scope) { asked.append(scope) }
        return asked
    }

    /// Encodes all but RFC 3986's unreserved characters, so that `:` `/` `,` `&` `+` and `=` in a value cannot be
    /// read as query syntax by any server.
    private static func encoded(_ value: some StringProtocol) -> String {
        var text = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF".unicodeScalars)
                text.unicodeScalars.append(contentsOf: ["%", digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
            }
        }
        return text
    }
}
