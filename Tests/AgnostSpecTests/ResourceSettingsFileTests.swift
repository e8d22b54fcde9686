import AgnostSpec
import Testing

/// The settings file of a local run: what it gives each declared resource, and every mistake in it by line.
@Suite struct ResourceSettingsFileTests {
    func check(_ yaml: String, declared: [String] = ["maindb", "cache"]) -> ResourceSettingsCheckResult {
        ResourceSettingsFile.check(source: yaml, file: "agnost.resources.yaml", declared: declared)
    }

    @Test func eachDeclaredResourceGetsWhatItsEntryGives() throws {
        let result = check(
            """
            # local services
            maindb:
              uri: postgresql://app:secret@127.0.0.1:5432/app
            cache:
              host: 127.0.0.1
              port: 6379
              password: 12345
              tls: true
              options:
                db: 2
            """
        )
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let settings = try #require(result.settings)
        #expect(settings.map(\.name) == ["maindb", "cache"])
        #expect(settings[0].uri == "postgresql://app:secret@127.0.0.1:5432/app" && settings[0].host == nil)
        #expect(settings[1].host == "127.0.0.1" && settings[1].port == 6379)
        #expect(settings[1].password == "12345", "a password of digits is taken as written")
        #expect(settings[1].tls && settings[1].options == ["db": "2"])
    }

    @Test func anEmptyFileOrOneOfCommentsGivesNothing() {
        for source in ["", "\n", "# nothing yet\n", "---\n# later\n"] {
            let result = check(source)
            #expect(result.settings == [] && result.diagnostics.isEmpty, "\(source.debugDescription)")
        }
    }

    @Test func everyMistakeIsReportedWithItsLine() {
        let result = check(
            """
            maindb:
              hots: 127.0.0.1
              port: 70000
              tls: maybe
            mainbd:
              host: x
            cache: redis://x
            """
        )
        #expect(result.settings == nil)
        let lines = result.diagnostics.map(\.description)
        #expect(lines.contains { $0.hasPrefix("agnost.resources.yaml:2:3: error: unknown key 'hots'") }, "\(lines)")
        #expect(
            lines.contains(
                "agnost.resources.yaml:3:9: error: port of resource 'maindb' must be a number from 1 to 65535"
            )
        )
        #expect(lines.contains("agnost.resources.yaml:4:8: error: tls of resource 'maindb' must be true or false"))
        #expect(
            lines.contains("agnost.resources.yaml:2:3: error: resource 'maindb' needs a uri or a host to connect to")
        )
        #expect(
            lines.contains {
                $0.hasPrefix("agnost.resources.yaml:5:1: error: unknown key 'mainbd'")
                    && $0.contains("did you mean 'maindb'?")
            },
            "\(lines)"
        )
        #expect(
            lines.contains {
                $0.hasPrefix("agnost.resources.yaml:7:8: error: the settings of resource 'cache' must be a mapping")
            },
            "\(lines)"
        )
    }

    @Test func aFileThatIsNotAMappingOrNotYAMLIsRefused() {
        #expect(
            check("- maindb\n").diagnostics.map(\.description) == [
                "agnost.resources.yaml:1:1: error: the file must map each resource name to its settings, found a list"
            ]
        )
        #expect(check("maindb: [\n").settings == nil)
        #expect(
            check("maindb:\n  host: x\n", declared: []).diagnostics.first?.message.contains("declares no resources")
                == true
        )
    }
}
