import Foundation
import Synchronization

/// What an exec credential plugin printed: an `ExecCredential`'s status.
struct ExecCredential: Sendable, Equatable {
    var token: String?
    /// PEM text, not base64.
    var clientCertificate: [UInt8]?
    var clientKey: [UInt8]?
    /// nil: valid until the server refuses it.
    var expiration: Date?

    /// Reads the plugin's stdout. Errors never quote it: it holds the token.
    static func decode(_ output: Data, apiVersion: String, plugin: String) throws(KubeconfigError) -> ExecCredential {
        struct Document: Decodable {
            var kind: String?
            var apiVersion: String?
            var status: Status?
        }
        struct Status: Decodable {
            var token: String?
            var clientCertificateData: String?
            var clientKeyData: String?
            var expirationTimestamp: String?
        }
        guard let document = try? JSONDecoder().decode(Document.self, from: output), document.kind == "ExecCredential"
        else {
            throw KubeconfigError(
                .credentialPlugin,
                "the credential plugin \(plugin) printed no ExecCredential JSON on stdout (its output is not shown, "
                    + "as it may hold a secret); check that it is a client.authentication.k8s.io plugin",
                context: plugin
            )
        }
        guard document.apiVersion == apiVersion else {
            throw KubeconfigError(
                .credentialPlugin,
                "the credential plugin \(plugin) answered with apiVersion \"\(document.apiVersion ?? "")\", but the "
                    + "kubeconfig asks for \(apiVersion); make them agree",
                context: plugin
            )
        }
        let status = document.status
        let token = status?.token.flatMap { $0.isEmpty ? nil : $0 }
        let certificate = status?.clientCertificateData.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        let key = status?.clientKeyData.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        guard token != nil || (certificate != nil && key != nil), (certificate == nil) == (key == nil) else {
            throw KubeconfigError(
                .credentialPlugin,
                "the ExecCredential of the credential plugin \(plugin) has neither a status.token nor both "
                    + "status.clientCertificateData and status.clientKeyData",
                context: plugin
            )
        }
        var expiration: Date? = nil
        if let timestamp = status?.expirationTimestamp, !timestamp.isEmpty {
            guard let date = parseTimestamp(timestamp) else {
                throw KubeconfigError(
                    .credentialPlugin,
                    "the ExecCredential of the credential plugin \(plugin) has status.expirationTimestamp "
                        + "\"\(timestamp)\", which is not an RFC 3339 time such as 2026-01-02T15:04:05Z",
                    context: plugin
                )
            }
            expiration = date
        }
        return ExecCredential(token: token, clientCertificate: certificate, clientKey: key, expiration: expiration)
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

/// Runs an exec credential plugin as `kubectl` does: with `KUBERNETES_EXEC_INFO` in its environment, no terminal,
/// and a deadline, after which it and its children are killed.
struct ExecPluginRunner: Sendable {
    var plugin: ClusterAccess.ExecPlugin
    /// Names the user and context in messages.
    var owner: String
    var environment: [String: String]
    var timeout: Duration

    private var name: String { "\(plugin.command) (user \(owner))" }

    func run() async throws(KubeconfigError) -> ExecCredential {
        let executable = try locate()
        let output = try await Self.launch(
            executable: executable,
            arguments: plugin.arguments,
            environment: try pluginEnvironment(),
            timeout: timeout,
            name: name,
            hint: hint
        )
        return try ExecCredential.decode(output, apiVersion: plugin.apiVersion, plugin: name)
    }

    private var hint: String {
        plugin.installHint.map { "\n\($0.trimmingCharacters(in: .whitespacesAndNewlines))" } ?? ""
    }

    private func locate() throws(KubeconfigError) -> String {
        let command = plugin.command
        let candidates =
            command.contains("/")
            ? [command]
            : (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map { "\($0)/\(command)" }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            let place = command.contains("/") ? "at \(command)" : "on PATH"
            throw KubeconfigError(
                .credentialPlugin,
                "the credential plugin \(plugin.command) of user \(owner) was not found \(place); install it\(hint)",
                context: plugin.command
            )
        }
        return found
    }

    func pluginEnvironment() throws(KubeconfigError) -> [String: String] {
        var environment = environment
        for variable in plugin.environment { environment[variable.name] = variable.value }
        var spec: [String: Any] = ["interactive": false]
        if let cluster = plugin.cluster {
            var info: [String: Any] = ["server": cluster.server]
            if let serverName = cluster.tlsServerName { info["tls-server-name"] = serverName }
            if cluster.insecureSkipTLSVerify { info["insecure-skip-tls-verify"] = true }
            if let authority = cluster.certificateAuthorityData {
                info["certificate-authority-data"] = Data(authority).base64EncodedString()
            }
            spec["cluster"] = info
        }
        let document: [String: Any] = ["apiVersion": plugin.apiVersion, "kind": "ExecCredential", "spec": spec]
        guard let json = try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]) else {
            throw KubeconfigError(.credentialPlugin, "cannot encode KUBERNETES_EXEC_INFO for \(name)", context: name)
        }
        environment["KUBERNETES_EXEC_INFO"] = String(decoding: json, as: UTF8.self)
        return environment
    }

    /// Runs the plugin on a thread of its own and returns its stdout. Cancelling the task kills it.
    private static func launch(
        executable: String,
        arguments: [String],
        environment: [String: String],
        timeout: Duration,
        name: String,
        hint: String
    ) async throws(KubeconfigError) -> Data {
        let run = PluginProcess()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<PluginProcess.Result, Never>) in
                DispatchQueue.global().async {
                    continuation.resume(
                        returning: run.run(
                            executable: executable,
                            arguments: arguments,
                            environment: environment,
                            timeout: timeout
                        )
                    )
                }
            }
        } onCancel: {
            run.kill(.cancelled)
        }
        switch result {
        case .failedToStart(let reason):
            throw KubeconfigError(
                .credentialPlugin,
                "cannot run the credential plugin \(name): \(reason)\(hint)",
                context: executable
            )
        case .stopped(.cancelled):
            throw KubeconfigError(.credentialPlugin, "running the credential plugin \(name) was cancelled")
        case .stopped(.deadline):
            throw KubeconfigError(
                .credentialPlugin,
                "the credential plugin \(name) did not finish within \(timeout.components.seconds) s and was stopped; it may be waiting "
                    + "for input it cannot get here, or for a network that does not answer",
                context: executable
            )
        case .exited(let status, let signalled, let output, let errorOutput):
            guard status == 0, !signalled else {
                // Its stderr says why; its stdout would hold the token, so it is never shown.
                let lines = String(decoding: errorOutput, as: UTF8.self)
                    .split(whereSeparator: \.isNewline)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }
                let tail = lines.suffix(5).joined(separator: "\n")
                let how = signalled ? "was killed by signal \(status)" : "failed with exit status \(status)"
                throw KubeconfigError(
                    .credentialPlugin,
                    "the credential plugin \(name) \(how)"
                        + (tail.isEmpty ? " and wrote nothing on stderr" : ":\n\(tail)")
                        + hint,
                    context: executable
                )
            }
            return output
        }
    }
}

/// One run of a plugin process, which a deadline or a cancellation may kill from another thread.
private final class PluginProcess: Sendable {
    enum Stop: Sendable {
        case deadline
        case cancelled
    }

    enum Result: Sendable {
        case failedToStart(String)
        case stopped(Stop)
        case exited(status: Int32, signalled: Bool, output: Data, errorOutput: Data)
    }

    private struct State {
        var processGroup: Int32?
        var stop: Stop?
    }

    private let state = Mutex(State())

    /// Kills the plugin and its children, or makes it be killed as soon as it starts.
    func kill(_ reason: Stop) {
        let group: Int32? = state.withLock { state in
            if state.stop == nil { state.stop = reason }
            return state.processGroup
        }
        // Foundation starts each child in a process group of its own, which the plugin's children share.
        if let group { _ = Foundation.kill(-group, SIGKILL) }
    }

    func run(executable: String, arguments: [String], environment: [String: String], timeout: Duration) -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        // No terminal: plugins are run as with interactiveMode Never.
        process.standardInput = FileHandle.nullDevice
        let outputPipe = Pipe()
        let errorPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        do {
            try process.run()
        } catch {
            return .failedToStart("\(error)")
        }
        let alreadyStopped = state.withLock { state in
            state.processGroup = process.processIdentifier
            return state.stop != nil
        }
        if alreadyStopped { kill(.cancelled) }
        let deadline = DispatchWorkItem { [self] in kill(.deadline) }
        let (seconds, attoseconds) = timeout.components
        DispatchQueue.global().asyncAfter(
            deadline: .now() + .milliseconds(Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)),
            execute: deadline
        )
        // Both pipes are drained at once: a plugin blocked on a full stderr would never finish its stdout.
        let errorReader = errorPipe.fileHandleForReading
        let errorOutput = Mutex(Data())
        let drained = DispatchGroup()
        DispatchQueue.global().async(group: drained) {
            let data = errorReader.readDataToEndOfFile()
            errorOutput.withLock { $0 = data }
        }
        let output = outputPipe.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        deadline.cancel()
        let stop = state.withLock { state in
            state.processGroup = nil
            return state.stop
        }
        if let stop { return .stopped(stop) }
        return .exited(
            status: process.terminationStatus,
            signalled: process.terminationReason == .uncaughtSignal,
            output: output,
            errorOutput: errorOutput.withLock { $0 }
        )
    }
}
