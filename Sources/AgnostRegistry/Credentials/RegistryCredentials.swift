import AgnostOCI

/// A user name and its password, or an identity token, for one registry.
///
/// The description names the user only, so that credentials can be put in messages and logs safely.
///
/// ```swift
/// let credentials = RegistryCredentials(username: "alice", secret: "correct horse")
/// print(credentials)   // user alice
/// ```
public struct RegistryCredentials: Sendable, Hashable, CustomStringConvertible {
    /// The user name Docker's credential helpers use to mean "the secret is an identity token, not a password".
    public static let identityTokenUsername = "<token>"

    public let username: String
    /// A password, or an identity token when `username` is `<token>`.
    public let secret: String

    public init(username: String, secret: String) {
        self.username = username
        self.secret = secret
    }

    /// Whether `secret` is an identity token (an OAuth refresh token) rather than a password.
    public var isIdentityToken: Bool { username == Self.identityTokenUsername }

    public var description: String { isIdentityToken ? "an identity token" : "user \(username)" }
}

extension ImageReference {
    /// The key Docker's `config.json` and credential helpers file this registry's credentials under.
    ///
    /// ```swift
    /// try ImageReference(parsing: "ubuntu").credentialKey             // "https://index.docker.io/v1/"
    /// try ImageReference(parsing: "localhost:5000/app").credentialKey // "localhost:5000"
    /// ```
    public var credentialKey: String { registry == "docker.io" ? "https://index.docker.io/v1/" : registry }
}
