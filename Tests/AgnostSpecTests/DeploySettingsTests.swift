import AgnostSpec
import Testing

/// `image:` and the Knative settings under `scaling:` that deploy renders into the Service.
@Suite("Diagnostics: image and scaling resources")
struct DeploySettingsTests {
    static let header = "app: todo\nversion: v1\nqueues: [{ name: emails, handler: send }]\n"

    @Test(arguments: [
        "registry.example.com/team/todo", "registry.example.com/team/todo:1.0", "localhost:5000/todo",
        "localhost:5000/todo:v1", "todo", "team/todo_app", "[::1]:5000/todo", "ghcr.io/a--b/c.d",
    ])
    func validImagesAreKept(image: String) {
        let result = check(Self.header + "image: '\(image)'\n")
        #expect(result.diagnostics.isEmpty)
        #expect(result.spec?.image == image)
    }

    @Test func imageIsOptional() {
        #expect(check(Self.header).spec?.image == nil)
    }

    @Test func aDigestIsRefusedBecauseDeployPinsItItself() {
        let digest = "sha256:" + String(repeating: "a", count: 64)
        #expect(
            diagnostics(Self.header + "image: localhost:5000/todo@\(digest)\n") == [
                "agnost.yaml:4:27: error: image 'localhost:5000/todo@\(digest)' names a digest; write the repository "
                    + "(and optionally a tag) only: deploying pushes the image and pins the Service to the digest it got"
            ]
        )
    }

    @Test(arguments: [
        ("Registry.example.com/Team/todo", "must be lowercase, but 'Team' is not"),
        ("localhost:5000//todo", "has an empty path component (a leading, trailing or double '/')"),
        ("localhost:5000/todo:-x", "has an invalid tag '-x'"),
        ("local_host:5000/todo", "has an invalid registry host 'local_host:5000'"),
        ("exa mple.com/todo", "has an invalid registry host 'exa mple.com'"),
        ("team/to do", "has the path component 'to do'"),
        ("localhost:5000", "names a registry but no repository"),
        ("bad-.example.com/todo", "has an invalid registry host 'bad-.example.com'"),
    ])
    func invalidImagesSayWhatIsWrong(image: String, problem: String) throws {
        let result = check(Self.header + "image: \"\(image)\"\n")
        let diagnostic = try #require(result.diagnostics.first)
        #expect(result.diagnostics.count == 1)
        #expect(diagnostic.location == at(4, 9))
        #expect(diagnostic.message.hasPrefix("image '\(image)' \(problem)"), "\(diagnostic.message)")
        #expect(result.spec == nil)
    }

    @Test func resourcesAndTargetReachTheModel() throws {
        let result = check(
            Self.header + """
                scaling:
                  target: 80
                  cpu: { request: 100m, limit: 1 }
                  memory: { request: 0.5Gi, limit: 1e9 }
                """
        )
        #expect(result.diagnostics.isEmpty)
        let scaling = try #require(result.spec?.scaling)
        #expect(scaling.target == 80)
        #expect(scaling.cpu == ComputeQuantities(request: "100m", limit: "1"))
        #expect(scaling.memory == ComputeQuantities(request: "0.5Gi", limit: "1e9"))
    }

    @Test func requestAboveLimitIsRefusedComparingAmountsNotText() {
        // 1Gi is 1073741824 bytes, more than 1G (10^9); 1500m is more than 1.
        #expect(
            diagnostics(
                Self.header + """
                    scaling:
                      cpu: { request: 1500m, limit: 1 }
                      memory: { request: 1Gi, limit: 1G }
                    """
            ) == [
                "agnost.yaml:5:19: error: scaling.cpu.request (1500m) is more than scaling.cpu.limit (1); Kubernetes "
                    + "refuses a request above the limit, so lower the request or raise the limit",
                "agnost.yaml:6:22: error: scaling.memory.request (1Gi) is more than scaling.memory.limit (1G); "
                    + "Kubernetes refuses a request above the limit, so lower the request or raise the limit",
            ]
        )
    }

    @Test func equalRequestAndLimitInDifferentUnitsAreAccepted() {
        let result = check(
            Self.header + "scaling: { cpu: { request: 500m, limit: 0.5 }, memory: { request: 1Ki, limit: 1024 } }\n"
        )
        #expect(result.diagnostics.isEmpty)
    }

    @Test(arguments: ["-1", "0", "1.2.3", "12x", "Mi", "1e", "1e99", ".", "1 Gi", "true"])
    func invalidQuantitiesNameTheKey(quantity: String) throws {
        let result = check(Self.header + "scaling:\n  memory:\n    limit: \(quantity)\n")
        let diagnostic = try #require(result.diagnostics.first)
        #expect(result.diagnostics.count == 1)
        #expect(diagnostic.location == at(6, 12))
        #expect(diagnostic.message.hasPrefix("scaling.memory.limit "), "\(diagnostic.message)")
        #expect(result.spec == nil)
    }

    @Test func unknownKeysUnderCPUAreReported() {
        #expect(
            diagnostics(Self.header + "scaling: { cpu: { requests: 1 } }\n") == [
                "agnost.yaml:4:19: error: unknown key 'requests' in scaling.cpu; did you mean 'request'?"
            ]
        )
    }

    @Test func milliBytesOfMemoryWarn() {
        #expect(
            diagnostics(Self.header + "scaling: { memory: { limit: 128m } }\n") == [
                "agnost.yaml:4:29: warning: scaling.memory.limit '128m' is 128 thousandths of a byte (m is milli); "
                    + "write 128Mi for mebibytes or 128M for megabytes"
            ]
        )
    }

    @Test func targetIsAtLeastOneAndWarnsAboveConcurrency() {
        #expect(
            diagnostics(Self.header + "scaling: { target: 0 }\n") == [
                "agnost.yaml:4:20: error: scaling.target must be at least 1, found 0"
            ]
        )
        #expect(
            diagnostics(Self.header + "scaling: { concurrency: 10, target: 20 }\n") == [
                "agnost.yaml:4:37: warning: scaling.target (20) is above scaling.concurrency (10); a replica never "
                    + "serves more than scaling.concurrency requests, so the autoscaler aims at that instead"
            ]
        )
    }

    @Test func concurrencyAboveKnativesDefaultLimitWarns() {
        #expect(
            diagnostics(Self.header + "scaling: { concurrency: 1001 }\n") == [
                "agnost.yaml:4:25: warning: scaling.concurrency 1001 is above 1000, the default "
                    + "container-concurrency-max-limit of Knative; the cluster's config-defaults must allow it, or "
                    + "the Service is rejected"
            ]
        )
    }

    @Test(arguments: ["PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION", "AGNOST_INTERNAL_TOKEN", "AGNOST_API_KEYS"])
    func platformVariablesCannotBeSet(name: String) throws {
        let result = check(Self.header + "env:\n  \(name): x\n")
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.severity == .error)
        #expect(diagnostic.message.contains("environment variable '\(name)'"))
    }
}
