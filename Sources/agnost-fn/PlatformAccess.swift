import AgnostPlatform
import AgnostRegistry
import ArgumentParser
import Foundation

/// `--platform URL`, and the token for it: `AGNOST_PLATFORM_TOKEN`, else what `platform login` stored.
struct PlatformOptionGroup: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The platform's address. Default: $AGNOST_PLATFORM_URL.",
            valueName: "url"
        )
    )
    var platform: String?

    var url: String? { platform ?? ProcessInfo.processInfo.environment["AGNOST_PLATFORM_URL"] }

    /// A client for the platform, with its token; without one, says how to log in and exits 1.
    func client() throws -> PlatformClient {
        guard let url else {
            throw ValidationError("name the platform with --platform URL, or set AGNOST_PLATFORM_URL")
        }
        return try PlatformCredentials.client(for: url)
    }
}

/// Platform tokens kept as Docker keeps registry credentials: `~/.agnost/platforms.json` (or
/// `$AGNOST_CONFIG/platforms.json`) in Docker's `config.json` format, mode 0600, an identity token per platform
/// address, or in the credential helper that file names.
enum PlatformCredentials {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static var path: String {
        let folder =
            environment["AGNOST_CONFIG"]
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.agnost"
        return folder + "/platforms.json"
    }

    static func config() throws -> DockerConfig {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        do throws(RegistryError) {
            return try DockerConfig(path: path)
        } catch {
            Console.error(error.description)
            throw ExitCode.failure
        }
    }

    static func client(for url: String) throws -> PlatformClient {
        let normalized = try parse(url)
        if let token = environment["AGNOST_PLATFORM_TOKEN"], !token.isEmpty {
            return try make(normalized, token)
        }
        let stored = try config()
        let found: (credentials: RegistryCredentials, source: String)?
        do throws(RegistryError) {
            found = try stored.credentials(for: normalized, environment: environment)
        } catch {
            Console.error(error.description)
            throw ExitCode.failure
        }
        guard let found else {
            Console.error(
                "no token for \(normalized): log in with 'agnost-fn platform login \(normalized)' "
                    + "(the token on stdin), or set AGNOST_PLATFORM_TOKEN"
            )
            throw ExitCode.failure
        }
        return try make(normalized, found.credentials.secret)
    }

    static func parse(_ url: String) throws -> String {
        do throws(PlatformClientError) {
            return try PlatformClient.normalized(url)
        } catch {
            throw ValidationError(error.message)
        }
    }

    static func make(_ url: String, _ token: String) throws -> PlatformClient {
        do throws(PlatformClientError) {
            return try PlatformClient(url: url, token: token)
        } catch {
            throw ValidationError(error.message)
        }
    }
}

extension Console {
    /// Runs a platform call; its refusal or failure is printed with any lines that came with it, and exits 1.
    static func platform<Value: Sendable>(
        _ body: () async throws(PlatformClientError) -> Value
    ) async throws -> Value {
        do throws(PlatformClientError) {
            return try await body()
        } catch {
            for line in error.details { status(line) }
            self.error(error.message)
            throw ExitCode.failure
        }
    }
}
