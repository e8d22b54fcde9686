import AgnostOCI
import Foundation
import Testing

@testable import AgnostRegistry

/// A temporary Docker configuration folder with fake credential helpers first on `PATH`.
private final class Sandbox {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
        "agnost-credentials-\(UUID().uuidString)"
    )
    var configPath: String { folder.appendingPathComponent("docker/config.json").path }
    var bin: URL { folder.appendingPathComponent("bin") }
    var environment: [String: String] { ["PATH": "\(bin.path):/usr/bin:/bin", "HOME": folder.path] }

    init(config: String? = nil) throws {
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        if let config {
            try FileManager.default.createDirectory(
                at: folder.appendingPathComponent("docker"),
                withIntermediateDirectories: true
            )
            try Data(config.utf8).write(to: URL(fileURLWithPath: configPath))
        }
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// Writes `docker-credential-NAME`, which holds credentials for `server` only and logs each call as
    /// `ACTION STDIN` to `NAME.log`.
    func helper(_ name: String, holds server: String, username: String = "alice") throws {
        let script = """
            #!/bin/sh
            input=$(cat)
            printf '%s %s\\n' "$1" "$input" >> '\(folder.path)/\(name).log'
            case "$1" in
            get)
                if [ "$input" = '\(server)' ]; then
                    printf '{"ServerURL":"%s","Username":"\(username)","Secret":"helper-secret"}\\n' "$input"
                    exit 0
                fi ;;
            store) exit 0 ;;
            erase) if [ "$input" = '\(server)' ]; then exit 0; fi ;;
            *) echo "unknown action $1" >&2; exit 2 ;;
            esac
            echo "credentials not found in native keychain"
            exit 1
            """
        let url = bin.appendingPathComponent("docker-credential-\(name)")
        try Data(script.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }

    func calls(_ name: String) -> [String] {
        let log = (try? String(contentsOf: folder.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
        return log.split(separator: "\n").map(String.init)
    }

    func savedJSON() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: configPath))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

struct DockerConfigTests {
    @Test func credentialKeysAreDockersForDockerHubAndTheHostElsewhere() throws {
        #expect(try ImageReference(parsing: "ubuntu").credentialKey == "https://index.docker.io/v1/")
        #expect(try ImageReference(parsing: "localhost:5000/todo").credentialKey == "localhost:5000")
        #expect(try ImageReference(parsing: "registry.example.com/app").credentialKey == "registry.example.com")
    }

    private static func auth(_ user: String, _ password: String) -> String {
        Data("\(user):\(password)".utf8).base64EncodedString()
    }

    @Test func defaultPathFollowsDockerConfigThenHome() {
        #expect(
            DockerConfig.defaultPath(environment: ["DOCKER_CONFIG": "/etc/dc", "HOME": "/h"]) == "/etc/dc/config.json"
        )
        #expect(DockerConfig.defaultPath(environment: ["DOCKER_CONFIG": "", "HOME": "/h"]) == "/h/.docker/config.json")
    }

    @Test func missingFileIsAnEmptyConfig() throws {
        let sandbox = try Sandbox()
        let config = try DockerConfig(path: sandbox.configPath)
        #expect(try config.credentials(for: "localhost:5000", environment: sandbox.environment) == nil)
    }

    @Test func readsBase64AuthFromAuths() throws {
        let sandbox = try Sandbox(
            config: #"{"auths": {"localhost:5000": {"auth": "\#(Self.auth("alice", "pa:ss"))"}}}"#
        )
        let found = try DockerConfig(path: sandbox.configPath)
            .credentials(for: "localhost:5000", environment: sandbox.environment)
        #expect(found?.credentials == RegistryCredentials(username: "alice", secret: "pa:ss"))
        #expect(found?.source == "auths in \(sandbox.configPath)")
    }

    @Test func readsUsernameAndPasswordFieldsAndIdentityTokens() throws {
        let sandbox = try Sandbox(
            config: """
                {"auths": {
                    "a.example.com": {"username": "bob", "password": "hunter2"},
                    "b.example.com": {"auth": "\(Self.auth("ignored", ""))", "identitytoken": "refresh-me"},
                    "c.example.com": {}
                }}
                """
        )
        let config = try DockerConfig(path: sandbox.configPath)
        let environment = sandbox.environment
        #expect(
            try config.credentials(for: "a.example.com", environment: environment)?.credentials
                == RegistryCredentials(username: "bob", secret: "hunter2")
        )
        let token = try config.credentials(for: "b.example.com", environment: environment)?.credentials
        #expect(token == RegistryCredentials(username: "<token>", secret: "refresh-me"))
        #expect(token?.isIdentityToken == true)
        #expect(try config.credentials(for: "c.example.com", environment: environment) == nil)
    }

    @Test func matchesKeysWrittenWithASchemeAndPath() throws {
        let sandbox = try Sandbox(
            config: """
                {"auths": {
                    "https://localhost:5000/v1/": {"auth": "\(Self.auth("alice", "one"))"},
                    "http://registry.example.com": {"auth": "\(Self.auth("bob", "two"))"},
                    "https://index.docker.io/v1/": {"auth": "\(Self.auth("carol", "three"))"}
                }}
                """
        )
        let config = try DockerConfig(path: sandbox.configPath)
        let environment = sandbox.environment
        #expect(
            try config.credentials(for: "localhost:5000", environment: environment)?.credentials.username == "alice"
        )
        #expect(
            try config.credentials(for: "registry.example.com", environment: environment)?.credentials.username == "bob"
        )
        #expect(
            try config.credentials(for: "https://index.docker.io/v1/", environment: environment)?.credentials.username
                == "carol"
        )
        #expect(try config.credentials(for: "localhost", environment: environment) == nil)
        #expect(
            try config.credentials(for: "index.docker.io", environment: environment)?.credentials.username == "carol"
        )
    }

    @Test func refusesAnAuthThatIsNotBase64UserColonPassword() throws {
        let sandbox = try Sandbox(config: #"{"auths": {"localhost:5000": {"auth": "\#(Self.auth("nocolon", ""))x"}}}"#)
        let error = #expect(throws: RegistryError.self) {
            try DockerConfig(path: sandbox.configPath).credentials(
                for: "localhost:5000",
                environment: sandbox.environment
            )
        }
        #expect(error?.code == .credentials)
        #expect(error?.context == sandbox.configPath)
    }

    @Test func credHelpersBeatCredsStoreBeatAuths() throws {
        let sandbox = try Sandbox(
            config: """
                {"credHelpers": {"registry.example.com": "special"}, "credsStore": "desktop",
                 "auths": {"registry.example.com": {"auth": "\(Self.auth("file", "file-secret"))"},
                           "other.example.com": {"auth": "\(Self.auth("file", "file-secret"))"}}}
                """
        )
        try sandbox.helper("special", holds: "registry.example.com", username: "special-user")
        try sandbox.helper("desktop", holds: "other.example.com", username: "desktop-user")
        let config = try DockerConfig(path: sandbox.configPath)
        let special = try config.credentials(for: "registry.example.com", environment: sandbox.environment)
        #expect(special?.credentials == RegistryCredentials(username: "special-user", secret: "helper-secret"))
        #expect(special?.source == "credential helper docker-credential-special")
        let desktop = try config.credentials(for: "other.example.com", environment: sandbox.environment)
        #expect(desktop?.credentials.username == "desktop-user")
        #expect(desktop?.source == "credential helper docker-credential-desktop")
        #expect(sandbox.calls("special") == ["get registry.example.com"])
        #expect(sandbox.calls("desktop") == ["get other.example.com"])
    }

    @Test func anEmptyCredHelperMeansAuthsEvenWithACredsStore() throws {
        let sandbox = try Sandbox(
            config: """
                {"credHelpers": {"localhost:5000": ""}, "credsStore": "desktop",
                 "auths": {"localhost:5000": {"auth": "\(Self.auth("alice", "pw"))"}}}
                """
        )
        let found = try DockerConfig(path: sandbox.configPath)
            .credentials(for: "localhost:5000", environment: sandbox.environment)
        #expect(found?.source == "auths in \(sandbox.configPath)")
    }

    @Test func helperWithoutCredentialsMeansNone() throws {
        let sandbox = try Sandbox(config: #"{"credsStore": "pass"}"#)
        try sandbox.helper("pass", holds: "registry.example.com")
        let config = try DockerConfig(path: sandbox.configPath)
        #expect(try config.credentials(for: "localhost:5000", environment: sandbox.environment) == nil)
        #expect(sandbox.calls("pass") == ["get localhost:5000"])
    }

    @Test func missingHelperIsAnErrorNamingIt() throws {
        let sandbox = try Sandbox(config: #"{"credsStore": "nowhere"}"#)
        let error = #expect(throws: RegistryError.self) {
            try DockerConfig(path: sandbox.configPath).credentials(
                for: "localhost:5000",
                environment: sandbox.environment
            )
        }
        #expect(error?.code == .credentials)
        #expect(error?.message.contains("docker-credential-nowhere") == true)
        #expect(error?.message.contains("PATH") == true)
    }

    @Test func failingHelperIsAnErrorWithItsOutputButNotTheSecret() throws {
        let sandbox = try Sandbox(config: #"{"credsStore": "broken"}"#)
        let script = "#!/bin/sh\ncat > /dev/null\necho \"keychain locked (was given hunter2)\" >&2\nexit 3\n"
        let url = sandbox.bin.appendingPathComponent("docker-credential-broken")
        try Data(script.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        var config = try DockerConfig(path: sandbox.configPath)
        let error = #expect(throws: RegistryError.self) {
            try config.store(
                RegistryCredentials(username: "alice", secret: "hunter2"),
                for: "localhost:5000",
                environment: sandbox.environment
            )
        }
        #expect(error?.code == .credentials)
        #expect(error?.message.contains("docker-credential-broken failed to store credentials (exit status 3)") == true)
        #expect(error?.message.contains("keychain locked") == true)
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test func helperAnsweringSomethingElseIsAnErrorThatDoesNotQuoteIt() throws {
        let sandbox = try Sandbox(config: #"{"credsStore": "odd"}"#)
        let url = sandbox.bin.appendingPathComponent("docker-credential-odd")
        try Data("#!/bin/sh\ncat > /dev/null\necho 'user=alice password=hunter2'\n".utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        let error = #expect(throws: RegistryError.self) {
            try DockerConfig(path: sandbox.configPath).credentials(
                for: "localhost:5000",
                environment: sandbox.environment
            )
        }
        #expect(error?.message.contains("docker-credential-odd") == true)
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test func storeAndEraseInAuthsPreserveOtherKeysAndMode0600() throws {
        let sandbox = try Sandbox(
            config: """
                {"psFormat": "table {{.ID}}", "proxies": {"default": {"httpProxy": "http://proxy:3128"}},
                 "detachKeys": "ctrl-e,e", "experimental": true, "retries": 3}
                """
        )
        var config = try DockerConfig(path: sandbox.configPath)
        try config.store(
            RegistryCredentials(username: "alice", secret: "s3cret"),
            for: "localhost:5000",
            environment: sandbox.environment
        )

        let attributes = try FileManager.default.attributesOfItem(atPath: sandbox.configPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        var saved = try sandbox.savedJSON()
        #expect(saved["psFormat"] as? String == "table {{.ID}}")
        #expect(
            (saved["proxies"] as? [String: Any])?["default"] as? [String: String] == ["httpProxy": "http://proxy:3128"]
        )
        #expect(saved["experimental"] as? Bool == true)
        #expect(saved["retries"] as? Int == 3)
        #expect(
            saved["auths"] as? [String: [String: String]] == ["localhost:5000": ["auth": Self.auth("alice", "s3cret")]]
        )
        let text = try String(contentsOfFile: sandbox.configPath, encoding: .utf8)
        #expect(text.contains(#""experimental" : true"#))
        #expect(text.contains(#""http://proxy:3128""#))

        let reread = try DockerConfig(path: sandbox.configPath)
        #expect(
            try reread.credentials(for: "localhost:5000", environment: sandbox.environment)?.credentials
                == RegistryCredentials(username: "alice", secret: "s3cret")
        )

        #expect(try config.erase(registryKey: "localhost:5000", environment: sandbox.environment))
        #expect(try !config.erase(registryKey: "localhost:5000", environment: sandbox.environment))
        saved = try sandbox.savedJSON()
        #expect((saved["auths"] as? [String: Any])?.isEmpty == true)
        #expect(saved["psFormat"] as? String == "table {{.ID}}")
        #expect(try DockerConfig(path: sandbox.configPath).credentials(for: "localhost:5000", environment: [:]) == nil)
        let leftovers = try FileManager.default.contentsOfDirectory(
            atPath: sandbox.folder.appendingPathComponent("docker").path
        )
        #expect(leftovers == ["config.json"])
    }

    @Test func storeCreatesTheFolderPrivately() throws {
        let sandbox = try Sandbox()
        var config = try DockerConfig(path: sandbox.configPath)
        try config.store(
            RegistryCredentials(username: "<token>", secret: "refresh"),
            for: "registry.example.com",
            environment: sandbox.environment
        )
        let folder = try FileManager.default.attributesOfItem(
            atPath: sandbox.folder.appendingPathComponent("docker").path
        )
        #expect((folder[.posixPermissions] as? NSNumber)?.intValue == 0o700)
        #expect(
            try sandbox.savedJSON()["auths"] as? [String: [String: String]]
                == ["registry.example.com": ["identitytoken": "refresh"]]
        )
    }

    @Test func eraseRemovesEveryKeyNamingTheRegistry() throws {
        let sandbox = try Sandbox(
            config: """
                {"auths": {"localhost:5000": {"auth": "\(Self.auth("a", "1"))"},
                           "https://localhost:5000": {"auth": "\(Self.auth("a", "2"))"},
                           "localhost:5001": {"auth": "\(Self.auth("a", "3"))"}}}
                """
        )
        var config = try DockerConfig(path: sandbox.configPath)
        #expect(try config.erase(registryKey: "localhost:5000", environment: sandbox.environment))
        #expect((try sandbox.savedJSON()["auths"] as? [String: Any]).map { Array($0.keys) } == ["localhost:5001"])
    }

    @Test func storeAndEraseGoThroughTheHelper() throws {
        let sandbox = try Sandbox(config: #"{"credsStore": "pass", "psFormat": "x"}"#)
        try sandbox.helper("pass", holds: "registry.example.com")
        var config = try DockerConfig(path: sandbox.configPath)
        try config.store(
            RegistryCredentials(username: "alice", secret: "s3cret"),
            for: "registry.example.com",
            environment: sandbox.environment
        )
        #expect(
            sandbox.calls("pass")
                == [#"store {"Secret":"s3cret","ServerURL":"registry.example.com","Username":"alice"}"#]
        )
        let saved = try sandbox.savedJSON()
        #expect(saved["auths"] as? [String: [String: String]] == ["registry.example.com": [:]])
        #expect(saved["psFormat"] as? String == "x")
        #expect(try String(contentsOfFile: sandbox.configPath, encoding: .utf8).contains("s3cret") == false)

        #expect(try config.erase(registryKey: "registry.example.com", environment: sandbox.environment))
        #expect(try !config.erase(registryKey: "localhost:5000", environment: sandbox.environment))
        #expect(Array(sandbox.calls("pass").dropFirst()) == ["erase registry.example.com", "erase localhost:5000"])
        #expect((try sandbox.savedJSON()["auths"] as? [String: Any])?.isEmpty == true)
    }

    @Test func storeWithACredHelperUsesItRatherThanAuths() throws {
        let sandbox = try Sandbox(config: #"{"credHelpers": {"gcr.io": "gcloud"}}"#)
        try sandbox.helper("gcloud", holds: "gcr.io")
        var config = try DockerConfig(path: sandbox.configPath)
        try config.store(
            RegistryCredentials(username: "u", secret: "p"),
            for: "gcr.io",
            environment: sandbox.environment
        )
        try config.store(
            RegistryCredentials(username: "u", secret: "q"),
            for: "other.io",
            environment: sandbox.environment
        )
        #expect(sandbox.calls("gcloud") == [#"store {"Secret":"p","ServerURL":"gcr.io","Username":"u"}"#])
        #expect(
            try sandbox.savedJSON()["auths"] as? [String: [String: String]]
                == ["gcr.io": [:], "other.io": ["auth": Self.auth("u", "q")]]
        )
    }

    @Test func invalidJSONIsAnErrorNamingTheFile() throws {
        let sandbox = try Sandbox(config: #"{"auths": {"#)
        let error = #expect(throws: RegistryError.self) { try DockerConfig(path: sandbox.configPath) }
        #expect(error?.code == .credentials)
        #expect(error?.context == sandbox.configPath)
        #expect(error?.description.hasPrefix(sandbox.configPath) == true)
        #expect(error?.message.contains("not valid JSON") == true)
    }

    @Test func aNonObjectConfigOrSectionIsAnError() throws {
        let array = try Sandbox(config: "[]")
        #expect(throws: RegistryError.self) { try DockerConfig(path: array.configPath) }
        let sandbox = try Sandbox(config: #"{"auths": []}"#)
        var config = try DockerConfig(path: sandbox.configPath)
        let error = #expect(throws: RegistryError.self) {
            try config.store(RegistryCredentials(username: "a", secret: "b"), for: "x.io", environment: [:])
        }
        #expect(error?.message.contains("auths is not an object") == true)
        #expect(try String(contentsOfFile: sandbox.configPath, encoding: .utf8) == #"{"auths": []}"#)
    }

    @Test func credentialsNeverDescribeTheirSecret() {
        let password = RegistryCredentials(username: "alice", secret: "correct horse")
        #expect(password.description == "user alice")
        #expect(!"\(password)".contains("correct horse"))
        let token = RegistryCredentials(username: "<token>", secret: "eyJhbGci")
        #expect(!token.description.contains("eyJhbGci"))
    }
}
