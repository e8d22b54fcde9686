import AgnostDigest
import AgnostRuntime
import Testing

struct ConfigurationTests {
    @Test func defaults() throws {
        let configuration = try RuntimeConfiguration(environment: [:])
        #expect(configuration.port == 8080)
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.maxBodyBytes == 1_048_576)
        #expect(configuration.logLevel == .info)
        #expect(configuration.logFormat == .json)
        #expect(configuration.apiKeyHashes.isEmpty)
        #expect(configuration.headerTimeout == .seconds(10))
        #expect(configuration.idleTimeout == .seconds(120))
    }

    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)), ("10s", .seconds(10)), ("2m", .seconds(120)), ("1h", .seconds(3600)),
    ])
    func readsTimeLimits(text: String, expected: Duration) throws {
        let configuration = try RuntimeConfiguration(environment: [
            "AGNOST_HEADER_TIMEOUT": text, "AGNOST_IDLE_TIMEOUT": text,
        ])
        #expect(configuration.headerTimeout == expected)
        #expect(configuration.idleTimeout == expected)
    }

    @Test(arguments: ["", "10", "0s", "-1s", "1.5s", "10 s", "10sec", "s", "99999999999s"])
    func rejectsBadTimeLimitsNamingTheVariable(text: String) {
        let error = #expect(throws: RuntimeStartupError.self) {
            try RuntimeConfiguration(environment: ["AGNOST_HEADER_TIMEOUT": text, "AGNOST_IDLE_TIMEOUT": text])
        }
        for name in ["AGNOST_HEADER_TIMEOUT", "AGNOST_IDLE_TIMEOUT"] {
            #expect(
                error?.message.contains(
                    "\(name) must be a duration greater than 0: a whole number followed by ms, s, m or h, "
                        + "like 500ms or 10s; got '\(text)'"
                ) == true
            )
        }
    }

    @Test func readsEverySetting() throws {
        let hash = SHA256.hash("k".utf8)
        let configuration = try RuntimeConfiguration(environment: [
            "PORT": "9000", "AGNOST_HOST": "127.0.0.1", "AGNOST_MAX_BODY": "2048", "LOG_LEVEL": "DEBUG",
            "AGNOST_LOG_FORMAT": "text", "AGNOST_API_KEYS": " \(hash.hexString) ,\(hash.hexString.uppercased())",
            "K_SERVICE": "todo-v1", "K_REVISION": "todo-v1-00001",
        ])
        #expect(configuration.port == 9000)
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.maxBodyBytes == 2048)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.logFormat == .text)
        #expect(configuration.apiKeyHashes == [hash, hash])
        #expect(configuration.knative.map(\.name) == ["K_SERVICE", "K_REVISION"])
    }

    @Test func reportsEveryBadSettingAtOnceWithoutEchoingKeys() {
        let error = #expect(throws: RuntimeStartupError.self) {
            try RuntimeConfiguration(environment: [
                "PORT": "8012", "AGNOST_MAX_BODY": "-1", "LOG_LEVEL": "loud", "AGNOST_LOG_FORMAT": "xml",
                "AGNOST_API_KEYS": "plain-secret-key",
            ])
        }
        let message = error?.message ?? ""
        #expect(error?.code == .invalidEnvironment)
        #expect(message.contains("PORT=8012 is reserved by Knative"))
        #expect(message.contains("AGNOST_MAX_BODY must be a positive number of bytes, got '-1'"))
        #expect(message.contains("LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical"))
        #expect(message.contains("AGNOST_LOG_FORMAT must be json or text"))
        #expect(message.contains("entry 1 of AGNOST_API_KEYS is not a SHA-256 hash"))
        #expect(!message.contains("plain-secret-key"))
    }

    @Test func rejectsNonNumericPort() {
        #expect(throws: RuntimeStartupError.self) { try RuntimeConfiguration(environment: ["PORT": "http"]) }
        #expect(throws: RuntimeStartupError.self) { try RuntimeConfiguration(environment: ["PORT": "70000"]) }
    }
}
