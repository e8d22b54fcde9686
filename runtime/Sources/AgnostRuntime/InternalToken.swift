import AgnostBundle
import AgnostDigest
import HTTPTypes

/// The version's internal token, from ``EventContract/internalTokenVariable``; it prints as `<redacted>`, so
/// that no log line, error or dump of the configuration carries it.
package struct InternalToken: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    package let value: String

    package init(_ value: String) {
        self.value = value
    }

    package var description: String { "<redacted>" }
    package var debugDescription: String { "<redacted>" }
    package var customMirror: Mirror { Mirror(self, children: []) }
}

/// Decides whether a caller of `/agnost/cron/…` or `/agnost/queue/…` holds a credential for that path: the
/// internal token itself, or the ``SenderToken`` of that sender.
///
/// The accepted tokens are derived and hashed once at start-up; a presented token is hashed and compared with
/// each in constant time, as ``APIKeyVerifier`` does, so timing tells nothing about how close a guess was.
struct InternalTokenVerifier: Sendable {
    private let accepted: [SenderToken.Sender: [SHA256Digest]]

    init(_ token: InternalToken?) {
        var accepted: [SenderToken.Sender: [SHA256Digest]] = [:]
        if let token, !token.value.isEmpty {
            let internalHash = SHA256.hash(token.value.utf8)
            for sender in SenderToken.Sender.allCases {
                accepted[sender] = [internalHash, SHA256.hash(SenderToken.derive(from: token.value, for: sender).utf8)]
            }
        }
        self.accepted = accepted
    }

    var isConfigured: Bool { !accepted.isEmpty }

    func accepts(_ presented: String?, for sender: SenderToken.Sender) -> Bool {
        guard let presented, !presented.isEmpty, let hashes = accepted[sender] else { return false }
        let digest = SHA256.hash(presented.utf8)
        var matched = false
        for hash in hashes {
            matched = hash.constantTimeEquals(digest) || matched
        }
        return matched
    }
}
