import AgnostOCI
import Foundation

/// Docker's `config.json`: where `docker login` keeps credentials, either in `auths` or with a credential helper.
///
/// The whole JSON object is kept, so that writing it back changes only the credentials and leaves Docker's other
/// settings (`psFormat`, `proxies`, …) as they were.
///
/// ```swift
/// let environment = ProcessInfo.processInfo.environment
/// let config = try DockerConfig(path: DockerConfig.defaultPath(environment: environment))
/// if let found = try config.credentials(for: image.credentialKey, environment: environment) {
///     print("using \(found.credentials) from \(found.source)")   // using user alice from auths in /root/…
/// }
/// ```
public struct DockerConfig {
    public let path: String
    private var root: [String: Any]

    /// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`, as Docker looks for it.
    ///
    /// ```swift
    /// DockerConfig.defaultPath(environment: ["HOME": "/root"])   // "/root/.docker/config.json"
    /// ```
    public static func defaultPath(environment: [String: String]) -> String {
        if let folder = environment["DOCKER_CONFIG"], !folder.isEmpty {
            return URL(fileURLWithPath: folder).appendingPathComponent("config.json").path
        }
        let home =
            environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.path
        return URL(fileURLWithPath: home).appendingPathComponent(".docker/config.json").path
    }

    /// Reads the file; a missing (or empty) file is an empty configuration, as it is for Docker.
    ///
    /// ```swift
    /// let config = try DockerConfig(path: "/root/.docker/config.json")
    /// ```
    public init(path: String) throws(RegistryError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            root = [:]
            return
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RegistryError(.credentials, "cannot read Docker's configuration: \(error)", context: path)
        }
        guard !String(decoding: data, as: UTF8.self).allSatisfy(\.isWhitespace) else {
            root = [:]
            return
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw RegistryError(
                .credentials,
                "Docker's configuration is not valid JSON (\(error.localizedDescription)); fix it, or move it away "
                    + "to start afresh",
                context: path
            )
        }
        guard let dictionary = object as? [String: Any] else {
            throw RegistryError(
                .credentials,
                "Docker's configuration is not a JSON object; fix it, or move it away to start afresh",
                context: path
            )
        }
        root = dictionary
    }

    /// The credentials for a registry and where they came from, found in Docker's order: `credHelpers[registry]`,
    /// else `credsStore`, else `auths`; `nil` when there are none.
    ///
    /// ```swift
    /// let found = try config.credentials(for: "localhost:5000", environment: environment)
    /// // (user alice, "auths in /root/.docker/config.json")
    /// ```
    ///
    /// - Parameter registryKey: `ImageReference.credentialKey`.
    /// - Parameter environment: where a credential helper is looked for (`PATH`) and the environment it runs in.
    public func credentials(
        for registryKey: String,
        environment: [String: String]
    ) throws(RegistryError) -> (credentials: RegistryCredentials, source: String)? {
        if let helper = try helper(for: registryKey, environment: environment) {
            return try helper.get(serverURL: registryKey).map { ($0, "credential helper \(helper.program)") }
        }
        let auths = try section("auths")
        for key in matchingKeys(in: auths, for: registryKey) {
            guard let entry = auths[key] as? [String: Any] else {
                throw malformed("auths[\"\(key)\"] is not an object")
            }
            if let credentials = try credentials(in: entry, key: key) {
                return (credentials, "auths in \(path)")
            }
        }
        return nil
    }

    /// Stores credentials as `docker login` does: with the registry's credential helper when one is configured
    /// (leaving an empty `auths` entry, which Docker uses to list the registries logged in to), else in `auths`;
    /// then saves the file.
    ///
    /// ```swift
    /// try config.store(RegistryCredentials(username: "alice", secret: password), for: "localhost:5000",
    ///                  environment: environment)
    /// ```
    public mutating func store(
        _ credentials: RegistryCredentials,
        for registryKey: String,
        environment: [String: String]
    ) throws(RegistryError) {
        var auths = try section("auths")
        if let helper = try helper(for: registryKey, environment: environment) {
            try helper.store(credentials, serverURL: registryKey)
            auths[registryKey] = [String: Any]()
        } else if credentials.isIdentityToken {
            auths[registryKey] = ["identitytoken": credentials.secret]
        } else {
            auths[registryKey] = [
                "auth": Data("\(credentials.username):\(credentials.secret)".utf8).base64EncodedString()
            ]
        }
        root["auths"] = auths
        try save()
    }

    /// Forgets a registry's credentials as `docker logout` does: in its credential helper when one is configured,
    /// and in `auths` (every key naming the registry); saves the file when `auths` changed.
    ///
    /// ```swift
    /// let wasLoggedIn = try config.erase(registryKey: "localhost:5000", environment: environment)
    /// ```
    ///
    /// - Returns: whether there was anything to forget.
    public mutating func erase(registryKey: String, environment: [String: String]) throws(RegistryError) -> Bool {
        var auths = try section("auths")
        var erased = false
        if let helper = try helper(for: registryKey, environment: environment) {
            erased = try helper.erase(serverURL: registryKey)
        }
        let keys = matchingKeys(in: auths, for: registryKey)
        guard !keys.isEmpty else { return erased }
        for key in keys {
            auths[key] = nil
        }
        root["auths"] = auths
        try save()
        return true
    }

    /// Writes the file with sorted keys and mode 0600, through a temporary file renamed over it, so that a crash
    /// cannot leave half a file and the secrets in it are never readable by others, not even for a moment.
    public func save() throws(RegistryError) {
        let data: Data
        do {
            data = try JSONSerialization.data(
                withJSONObject: root,
                options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            )
        } catch {
            throw RegistryError(.credentials, "cannot encode Docker's configuration: \(error)", context: path)
        }
        // Docker writes through a symbolic link (a config.json kept with dotfiles), so the rename targets the file.
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        let folder = target.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try FileManager.default.createDirectory(
                at: folder,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw RegistryError(.fileSystem, "cannot create the folder \(folder.path): \(error)", context: path)
        }
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw RegistryError(
                .fileSystem,
                "cannot create \(temporary.path): \(String(cString: strerror(errno)))",
                context: path
            )
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: data + Data("\n".utf8))
            try handle.synchronize()
            try handle.close()
        } catch {
            unlink(temporary.path)
            throw RegistryError(.fileSystem, "cannot write \(temporary.path): \(error)", context: path)
        }
        guard rename(temporary.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw RegistryError(.fileSystem, "cannot replace \(target.path): \(reason)", context: path)
        }
    }

    /// Docker's choice: `credHelpers[registry]` when present (an empty name there means `auths`, overriding
    /// `credsStore`), else a non-empty `credsStore`.
    private func helper(
        for registryKey: String,
        environment: [String: String]
    ) throws(RegistryError) -> CredentialHelper? {
        let helpers = try section("credHelpers")
        let name: String
        if let entry = helpers[registryKey] {
            guard let entry = entry as? String else {
                throw malformed("credHelpers[\"\(registryKey)\"] is not a string")
            }
            name = entry
        } else if let store = root["credsStore"] {
            guard let store = store as? String else { throw malformed("credsStore is not a string") }
            name = store
        } else {
            return nil
        }
        return name.isEmpty ? nil : CredentialHelper(name: name, environment: environment)
    }

    /// The exact key first, then keys whose host is the registry (`https://localhost:5000/v1/` for `localhost:5000`),
    /// as Docker's file store matches them.
    private func matchingKeys(in auths: [String: Any], for registryKey: String) -> [String] {
        let others = auths.keys.filter { $0 != registryKey && Self.hostname(of: $0) == registryKey }.sorted()
        return (auths[registryKey] == nil ? [] : [registryKey]) + others
    }

    /// Docker's `ConvertToHostname`: the key without `http://` or `https://` and without any path.
    private static func hostname(of key: String) -> Substring {
        var rest = Substring(key)
        for scheme in ["http://", "https://"] where rest.hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
        }
        return rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
    }

    /// An `auths` entry's credentials: an identity token, else `auth` (base64 of `user:password`), else the
    /// `username` and `password` fields; `nil` for an entry without any (as `docker login` with a helper leaves).
    private func credentials(in entry: [String: Any], key: String) throws(RegistryError) -> RegistryCredentials? {
        if let token = entry["identitytoken"] as? String, !token.isEmpty {
            return RegistryCredentials(username: RegistryCredentials.identityTokenUsername, secret: token)
        }
        if let auth = entry["auth"] as? String, !auth.isEmpty {
            guard let decoded = Data(base64Encoded: auth).flatMap({ String(data: $0, encoding: .utf8) }),
                let colon = decoded.firstIndex(of: ":"), colon != decoded.startIndex
            else {
                throw malformed(
                    "auths[\"\(key)\"].auth is not the base64 of user:password; log in to \(key) again",
                    remedy: .logIn(registry: key)
                )
            }
            // Docker trims the NUL padding some tools leave after the password.
            let password = decoded[decoded.index(after: colon)...].trimmingCharacters(in: CharacterSet(["\0"]))
            return RegistryCredentials(username: String(decoded[..<colon]), secret: password)
        }
        if let username = entry["username"] as? String, !username.isEmpty, let password = entry["password"] as? String {
            return RegistryCredentials(username: username, secret: password)
        }
        return nil
    }

    /// A top-level object such as `auths`; absent is empty, but another type is an error rather than being lost on
    /// the next save.
    private func section(_ name: String) throws(RegistryError) -> [String: Any] {
        guard let value = root[name] else { return [:] }
        guard let object = value as? [String: Any] else { throw malformed("\(name) is not an object") }
        return object
    }

    private func malformed(_ problem: String, remedy: RegistryError.Remedy? = nil) -> RegistryError {
        RegistryError(.credentials, "Docker's configuration is malformed: \(problem)", context: path, remedy: remedy)
    }
}
