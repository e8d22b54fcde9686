import AgnostOCI

/// A registry named on its own, as `login` and `logout` take it: `registry.example.com`, `localhost:5000`, or
/// `docker.io`.
///
/// ```swift
/// let host = try RegistryHost(parsing: "localhost:5000")   // host.credentialKey == "localhost:5000"
/// ```
public struct RegistryHost: Sendable, Hashable {
    /// Parsed as the registry part of an image reference, so that both agree on what a registry is.
    private let reference: ImageReference

    public init(parsing text: String) throws(RegistryError) {
        var host = Substring(text)
        for scheme in ["https://", "http://"] where host.hasPrefix(scheme) { host = host.dropFirst(scheme.count) }
        while host.hasSuffix("/") { host = host.dropLast() }
        guard !host.isEmpty, !host.contains("/") else {
            throw RegistryError(
                .invalidArgument,
                "'\(text)' is not a registry host; name it as HOST[:PORT], such as registry.example.com",
                context: text
            )
        }
        do {
            reference = try ImageReference(parsing: "\(host)/login", option: text)
        } catch {
            throw RegistryError(.invalidArgument, error.message, context: text)
        }
        // Without a dot or a port (and not localhost) the word would be read as a Docker Hub namespace.
        guard reference.registry == host else {
            throw RegistryError(
                .invalidArgument,
                "'\(text)' is not a registry host; a host has a dot or a port, or is localhost",
                context: text
            )
        }
    }

    public var name: String { reference.registry }
    public var credentialKey: String { reference.credentialKey }
    public var isLocal: Bool { reference.isLocal }
    var apiHost: String { reference.apiHost }
}

/// Checks credentials the way `docker login` does: `GET /v2/` with them, through whatever challenge the registry
/// sends, so that a wrong password is found before it is stored.
public enum RegistryLogin {
    public static func verify(
        _ host: RegistryHost,
        credentials: RegistryCredentials,
        plainHTTP: Bool
    ) async throws(RegistryError) {
        let session = try RegistrySession(
            registry: host.name,
            apiHost: host.apiHost,
            repository: "",
            plainHTTP: plainHTTP,
            credentials: (credentials, "the command line")
        )
        let response = try await session.send(method: "GET", target: "/v2/")
        guard response.status == 200 else {
            throw session.failure(response, doing: "logging in")
        }
    }
}
