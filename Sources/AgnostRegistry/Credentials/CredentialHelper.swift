import Foundation

/// A Docker credential helper, `docker-credential-NAME` on `PATH`, spoken to as Docker's credential-helpers client
/// does: the action as the only argument, the server URL or a JSON document on stdin, JSON or an error on stdout.
///
/// ```swift
/// let helper = CredentialHelper(name: "pass", environment: ProcessInfo.processInfo.environment)
/// let credentials = try helper.get(serverURL: "registry.example.com")
/// ```
struct CredentialHelper {
    let name: String
    let environment: [String: String]

    /// What helpers answer, on stdout or stderr, when they hold nothing for a server.
    private static let notFoundMessage = "credentials not found in native keychain"

    var program: String { "docker-credential-\(name)" }

    /// The credentials the helper holds for `serverURL`, or `nil` when it has none.
    func get(serverURL: String) throws(RegistryError) -> RegistryCredentials? {
        guard let output = try run("get", input: Data(serverURL.utf8), serverURL: serverURL, secret: nil) else {
            return nil
        }
        struct Answer: Decodable {
            var username: String?
            var secret: String?
            enum CodingKeys: String, CodingKey {
                case username = "Username"
                case secret = "Secret"
            }
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: output) else {
            // The output is not quoted: it may hold the secret in a shape this client did not expect.
            throw RegistryError(
                .credentials,
                "credential helper \(program) answered 'get' with something other than "
                    + "{\"ServerURL\", \"Username\", \"Secret\"}; check that it is a Docker credential helper",
                context: serverURL
            )
        }
        guard let secret = answer.secret, !secret.isEmpty else { return nil }
        return RegistryCredentials(username: answer.username ?? "", secret: secret)
    }

    func store(_ credentials: RegistryCredentials, serverURL: String) throws(RegistryError) {
        let document: [String: String] = [
            "ServerURL": serverURL, "Username": credentials.username, "Secret": credentials.secret,
        ]
        let input: Data
        do {
            input = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
        } catch {
            throw RegistryError(.credentials, "cannot encode credentials for \(program): \(error)", context: serverURL)
        }
        _ = try run("store", input: input, serverURL: serverURL, secret: credentials.secret)
    }

    /// Whether the helper held credentials for `serverURL` (and has now forgotten them).
    func erase(serverURL: String) throws(RegistryError) -> Bool {
        try run("erase", input: Data(serverURL.utf8), serverURL: serverURL, secret: nil) != nil
    }

    /// The helper's stdout, or `nil` when it answered that it holds nothing for the server.
    ///
    /// - Parameter secret: removed from any error output quoted back, in case a helper echoes its input.
    private func run(_ action: String, input: Data, serverURL: String, secret: String?) throws(RegistryError) -> Data? {
        guard let executable = locate() else {
            throw RegistryError(
                .credentials,
                "credential helper \(program) is not on PATH; install it, or remove it from Docker's config.json",
                context: serverURL
            )
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [action]
        process.environment = environment
        let inputPipe = Pipe()
        let outputPipe = Pipe()
        let errorPipe = Pipe()
        process.standardInput = inputPipe
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        do {
            // Written before the helper starts: the input fits the pipe's buffer, and a helper that exits without
            // reading it cannot then kill this process with SIGPIPE.
            try inputPipe.fileHandleForWriting.write(contentsOf: input)
            try process.run()
            try inputPipe.fileHandleForWriting.close()
        } catch {
            throw RegistryError(
                .credentials,
                "cannot run credential helper \(executable): \(error)",
                context: serverURL
            )
        }
        // Both pipes are drained at once: a helper blocked on a full stderr would never finish its stdout.
        let errorReader = errorPipe.fileHandleForReading
        nonisolated(unsafe) var errorOutput = Data()
        let drained = DispatchGroup()
        DispatchQueue.global().async(group: drained) { errorOutput = errorReader.readDataToEndOfFile() }
        let output = outputPipe.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()

        guard process.terminationReason == .exit && process.terminationStatus == 0 else {
            // Helpers print their errors on stdout (docker-credential-helpers) or stderr (others); look at both.
            var message = [output, errorOutput]
                .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
                .filter { !$0.isEmpty }
                .joined(separator: "; ")
            if message.contains(Self.notFoundMessage) {
                return nil
            }
            if let secret, !secret.isEmpty {
                message = message.replacingOccurrences(of: secret, with: "<secret>")
            }
            let status =
                process.terminationReason == .exit
                ? "exit status \(process.terminationStatus)" : "signal \(process.terminationStatus)"
            throw RegistryError(
                .credentials,
                "credential helper \(program) failed to \(action) credentials (\(status))"
                    + (message.isEmpty ? "" : ": \(message)"),
                context: serverURL
            )
        }
        return output
    }

    /// The first executable `docker-credential-NAME` on the `PATH` of `environment`, as `exec.LookPath` finds it.
    private func locate() -> String? {
        let folders = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return folders.map { URL(fileURLWithPath: $0).appendingPathComponent(program).path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
