import Foundation

/// The token request of the distribution token protocol: where a client asks for a Bearer token after a challenge.
///
/// ```swift
/// let challenge = AuthChallenge.parse(#"Bearer realm="https://auth.example.com/token",service="registry""#)[0]
/// TokenRequest.tokenURL(challenge: challenge, repository: "team/app", actions: ["pull", "push"])
/// // "https://auth.example.com/token?service=registry&scope=repository%3Ateam%2Fapp%3Apull%2Cpush"
/// ```
public enum TokenRequest {
    /// The realm with `service` and `scope` added to its query, or `nil` when the challenge names no http(s) realm.
    ///
    /// The challenge's own `scope` is used when it has one, since the registry knows best what the request needs;
    /// otherwise the scope is `repository:NAME:ACTIONS`. Several space-separated scopes become several `scope`
    /// parameters, as the token protocol expects.
    public static func tokenURL(challenge: AuthChallenge, repository: String, actions: [String]) -> String? {
        guard let realm = challenge.parameters["realm"], var components = URLComponents(string: realm),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else {
            return nil
        }
        var query: [String] = []
        if let service = challenge.parameters["service"], !service.isEmpty {
            query.append("service=\(encoded(service))")
        }
        if let scope = challenge.parameters["scope"], !scope.isEmpty {
            query += scope.split(separator: " ").map { "scope=\(encoded($0))" }
        } else if !actions.isEmpty {
            query.append("scope=\(encoded("repository:\(repository):\(actions.joined(separator: ","))"))")
        }
        if let existing = components.percentEncodedQuery, !existing.isEmpty {
            query.insert(existing, at: 0)
        }
        components.percentEncodedQuery = query.isEmpty ? nil : query.joined(separator: "&")
        return components.string
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
