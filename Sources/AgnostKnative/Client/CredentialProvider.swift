import AgnostHTTP
import Foundation

/// How one request authenticates: its `Authorization` header, and a client certificate printed by an exec plugin.
///
/// Its description and mirror never show the header or the key.
public struct Authentication: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    /// `Bearer …` or `Basic …`; nil sends none.
    public var authorization: String?
    /// A certificate and key to present instead of those of the kubeconfig.
    public var clientCertificate: HTTPClient.PEMSource?
    public var clientKey: HTTPClient.PEMSource?

    public init(
        authorization: String? = nil,
        clientCertificate: HTTPClient.PEMSource? = nil,
        clientKey: HTTPClient.PEMSource? = nil
    ) {
        self.authorization = authorization
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
    }

    public var description: String {
        var parts: [String] = []
        if let authorization { parts.append("authorization: \(authorization.prefix { $0 != " " }) (redacted)") }
        if let clientCertificate { parts.append("client certificate: \(clientCertificate)") }
        return "Authentication(\(parts.joined(separator: ", ")))"
    }

    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

/// Gives each request its credentials, and keeps them current: a token file is re-read when it changes (a pod's
/// service-account token rotates), at least every minute and after a 401; an exec plugin's output is kept until its
/// `expirationTimestamp` and the plugin run again after it, or after a 401.
///
/// Concurrent requests share one run of a plugin.
///
/// ```swift
/// let provider = CredentialProvider(access: access)
/// var authentication = try await provider.authentication()
/// // … the server answers 401:
/// if await provider.refresh(afterRefusing: authentication) {
///     authentication = try await provider.authentication()  // retry once with it
/// }
/// ```
public actor CredentialProvider {
    private let credentials: ClusterAccess.Credentials
    private let owner: String
    private let environment: [String: String]
    private let pluginTimeout: Duration
    private let now: @Sendable () -> Date

    /// The last token read from the token file, and what the file looked like then.
    private var fileToken: (token: String, readAt: Date, modified: Date?, size: Int?)?
    private var execCredential: ExecCredential?
    private var execRun: Task<Result<ExecCredential, KubeconfigError>, Never>?

    /// How long a token file's content is trusted without looking at the file again.
    static let tokenFileInterval: TimeInterval = 60

    /// - Parameters:
    ///   - environment: what an exec plugin's environment starts from.
    ///   - pluginTimeout: how long an exec plugin may run before it is killed.
    ///   - now: the clock expiry and re-reading follow; tests move it.
    public init(
        access: ClusterAccess,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        pluginTimeout: Duration = .seconds(60),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        credentials = access.credentials
        owner = "\(access.userName), context \(access.contextName)"
        self.environment = environment
        self.pluginTimeout = pluginTimeout
        self.now = now
    }

    /// The credentials for the next request.
    public func authentication() async throws(KubeconfigError) -> Authentication {
        switch credentials {
        case .none:
            return Authentication()
        case .bearer(let token):
            return Authentication(authorization: "Bearer \(token)")
        case .basic(let username, let password):
            return Authentication(authorization: "Basic \(Data("\(username):\(password)".utf8).base64EncodedString())")
        case .tokenFile(let path):
            return Authentication(authorization: "Bearer \(try token(from: path, force: false))")
        case .exec(let plugin):
            return Self.authentication(from: try await credential(from: plugin))
        }
    }

    /// Forgets credentials the server refused with a 401 and returns whether asking again may succeed: true when
    /// a token file now holds another token, or an exec plugin is to be run again.
    ///
    /// - Parameter refused: what the refused request sent; when other requests already replaced it, nothing is
    ///   forgotten again.
    public func refresh(afterRefusing refused: Authentication) async -> Bool {
        switch credentials {
        case .none, .bearer, .basic:
            return false
        case .tokenFile(let path):
            guard let token = try? token(from: path, force: true) else { return false }
            return refused.authorization != "Bearer \(token)"
        case .exec:
            if let execCredential, Self.authentication(from: execCredential) == refused {
                self.execCredential = nil
            }
            return true
        }
    }

    private func token(from path: String, force: Bool) throws(KubeconfigError) -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let modified = attributes?[.modificationDate] as? Date
        let size = (attributes?[.size] as? NSNumber)?.intValue
        if !force, let fileToken, fileToken.modified == modified, fileToken.size == size,
            now().timeIntervalSince(fileToken.readAt) < Self.tokenFileInterval
        {
            return fileToken.token
        }
        let text = try? String(contentsOfFile: path, encoding: .utf8)
        let token = text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !token.isEmpty else {
            // As in client-go, the last token read stays in use while the file is being replaced.
            if let fileToken { return fileToken.token }
            throw KubeconfigError(
                .tokenFile,
                "the token file \(path) of user \(owner) "
                    + (text == nil ? "cannot be read; check that it exists and is readable" : "is empty"),
                context: path
            )
        }
        fileToken = (token, now(), modified, size)
        return token
    }

    private func credential(from plugin: ClusterAccess.ExecPlugin) async throws(KubeconfigError) -> ExecCredential {
        if let execCredential, execCredential.expiration.map({ now() < $0 }) ?? true {
            return execCredential
        }
        let run: Task<Result<ExecCredential, KubeconfigError>, Never>
        if let execRun {
            run = execRun
        } else {
            let runner = ExecPluginRunner(
                plugin: plugin,
                owner: owner,
                environment: environment,
                timeout: pluginTimeout
            )
            run = Task { () async -> Result<ExecCredential, KubeconfigError> in
                do throws(KubeconfigError) { return .success(try await runner.run()) } catch { return .failure(error) }
            }
            execRun = run
        }
        let result = await withTaskCancellationHandler {
            await run.value
        } onCancel: {
            run.cancel()
        }
        if execRun == run { execRun = nil }
        let credential = try result.get()
        execCredential = credential
        return credential
    }

    private static func authentication(from credential: ExecCredential) -> Authentication {
        Authentication(
            authorization: credential.token.map { "Bearer \($0)" },
            clientCertificate: credential.clientCertificate.map(HTTPClient.PEMSource.pem),
            clientKey: credential.clientKey.map(HTTPClient.PEMSource.pem)
        )
    }
}
