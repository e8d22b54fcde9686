import AgnostDigest
import Testing

@testable import AgnostOCI

struct ImageReferenceTests {
    private static let hex = "4c1e3d2b5a69788796a5b4c3d2e1f0a1b2c3d4e5f60718293a4b5c6d7e8f9012"

    struct Valid: Sendable, CustomTestStringConvertible {
        let text: String
        let registry: String
        let repository: String
        let tag: String?
        let reference: String
        let description: String
        var testDescription: String { text }
    }

    @Test(
        arguments: [
            Valid(
                text: "ubuntu",
                registry: "docker.io",
                repository: "library/ubuntu",
                tag: nil,
                reference: "latest",
                description: "docker.io/library/ubuntu:latest"
            ),
            Valid(
                text: "user/app:v1",
                registry: "docker.io",
                repository: "user/app",
                tag: "v1",
                reference: "v1",
                description: "docker.io/user/app:v1"
            ),
            Valid(
                text: "docker.io/ubuntu:22.04",
                registry: "docker.io",
                repository: "library/ubuntu",
                tag: "22.04",
                reference: "22.04",
                description: "docker.io/library/ubuntu:22.04"
            ),
            Valid(
                text: "index.docker.io/team/app",
                registry: "docker.io",
                repository: "team/app",
                tag: nil,
                reference: "latest",
                description: "docker.io/team/app:latest"
            ),
            Valid(
                text: "localhost:5000/a/b:t",
                registry: "localhost:5000",
                repository: "a/b",
                tag: "t",
                reference: "t",
                description: "localhost:5000/a/b:t"
            ),
            Valid(
                text: "localhost/app",
                registry: "localhost",
                repository: "app",
                tag: nil,
                reference: "latest",
                description: "localhost/app:latest"
            ),
            Valid(
                text: "127.0.0.1:5000/x@sha256:\(hex)",
                registry: "127.0.0.1:5000",
                repository: "x",
                tag: nil,
                reference: "sha256:\(hex)",
                description: "127.0.0.1:5000/x@sha256:\(hex)"
            ),
            Valid(
                text: "registry.example.com/team/app:1.0@sha256:\(hex)",
                registry: "registry.example.com",
                repository: "team/app",
                tag: "1.0",
                reference: "sha256:\(hex)",
                description: "registry.example.com/team/app:1.0@sha256:\(hex)"
            ),
            Valid(
                text: "[::1]:5000/x",
                registry: "[::1]:5000",
                repository: "x",
                tag: nil,
                reference: "latest",
                description: "[::1]:5000/x:latest"
            ),
            Valid(
                text: "Registry.Example.com/a.b_c__d---e/f-g:V_1.x-y",
                registry: "Registry.Example.com",
                repository: "a.b_c__d---e/f-g",
                tag: "V_1.x-y",
                reference: "V_1.x-y",
                description: "Registry.Example.com/a.b_c__d---e/f-g:V_1.x-y"
            ),
        ]
    )
    func parsesValidReferences(_ valid: Valid) throws {
        let image = try ImageReference(parsing: valid.text)
        #expect(image.registry == valid.registry)
        #expect(image.repository == valid.repository)
        #expect(image.tag == valid.tag)
        #expect(image.reference == valid.reference)
        #expect(image.description == valid.description)
        #expect(try ImageReference(parsing: image.description).description == image.description)
    }

    @Test func keepsTheDigest() throws {
        let image = try ImageReference(parsing: "registry.example.com/team/app:1.0@sha256:\(Self.hex)")
        #expect(image.digest == SHA256Digest(hex: Self.hex))
        #expect(try ImageReference(parsing: "ubuntu").digest == nil)
    }

    @Test(
        arguments: [
            ("Ubuntu", "must be lowercase"),
            ("team/App:v1", "must be lowercase"),
            ("team//app", "empty component"),
            ("team/app/", "empty component"),
            ("/app", "empty component"),
            ("localhost:5000/", "empty component"),
            ("app:-bad", "the tag '-bad'"),
            ("app:", "the tag ''"),
            ("app:v1!", "the tag 'v1!'"),
            ("app:\(String(repeating: "t", count: 129))", "1 to 128"),
            ("app@sha256:abc", "64 lowercase hex"),
            ("app@sha256:\(hex.uppercased())", "64 lowercase hex"),
            ("app@sha512:\(hex)", "only sha256"),
            ("localhost:5000", "names a registry but no repository"),
            ("registry.example.com:443", "names a registry but no repository"),
            ("[::1]:5000", "names a registry but no repository"),
            ("localhost:5000@sha256:\(hex)", "names a registry but no repository"),
            ("localhost:port/app", "port"),
            ("-bad.example.com/app", "not a valid host name"),
            ("[::1/app", "no closing ']'"),
            ("team/a--_b", "separated by"),
            ("app_", "separated by"),
            ("", "no repository"),
            (hex, "image ID"),
        ]
    )
    func refusesInvalidReferences(text: String, problem: String) {
        let error = #expect(throws: ImageError.self) { try ImageReference(parsing: text) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.context == text)
        #expect(error?.message.contains(problem) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("for example") == true)
    }

    @Test func namesTheOptionInErrors() {
        let error = #expect(throws: ImageError.self) { try ImageReference(parsing: "Todo", option: "--image") }
        #expect(error?.context == "--image")
        #expect(error?.message.contains("'Todo'") == true)
    }

    @Test func refusesNamesLongerThan255Characters() throws {
        let long = String(repeating: "a", count: 240)
        _ = try ImageReference(parsing: "r.io/\(long)")
        #expect(throws: ImageError.self) { try ImageReference(parsing: "registry.example.com/\(long)") }
    }

    @Test(
        arguments: [
            ("localhost/app", true),
            ("localhost:5000/app", true),
            ("127.0.0.1:5000/app", true),
            ("127.1.2.3/app", true),
            ("[::1]:5000/app", true),
            ("[::1]/app", true),
            ("ubuntu", false),
            ("registry.example.com/app", false),
            ("127.0.0.1.example.com/app", false),
            ("128.0.0.1:5000/app", false),
            ("127.0.0.300/app", false),
            ("[::2]:5000/app", false),
            ("localhost.example.com:5000/app", false),
        ]
    )
    func knowsLocalRegistries(text: String, isLocal: Bool) throws {
        #expect(try ImageReference(parsing: text).isLocal == isLocal)
    }

    @Test func apiHostForDockerHub() throws {
        #expect(try ImageReference(parsing: "ubuntu").apiHost == "registry-1.docker.io")
        #expect(try ImageReference(parsing: "localhost:5000/todo").apiHost == "localhost:5000")
    }

    @Test func takesADefaultTagOnlyWhenItNamesNeitherTagNorDigest() throws {
        let digest = try #require(SHA256Digest(hex: Self.hex))
        #expect(
            try ImageReference(parsing: "localhost:5000/todo").tagged(byDefault: "v1").description
                == "localhost:5000/todo:v1"
        )
        #expect(try ImageReference(parsing: "localhost:5000/todo").tagged(byDefault: nil).tag == "latest")
        #expect(try ImageReference(parsing: "localhost:5000/todo:2").tagged(byDefault: "v1").tag == "2")
        let pinned = try ImageReference(parsing: "localhost:5000/todo@\(digest)").tagged(byDefault: "v1")
        #expect(pinned.tag == nil && pinned.digest == digest)
        #expect(throws: ImageError.self) {
            try ImageReference(parsing: "localhost:5000/todo").tagged(byDefault: "no good")
        }
    }

    @Test func copiesWithAnotherTagOrADigest() throws {
        let image = try ImageReference(parsing: "localhost:5000/todo:v1")
        let digest = try #require(SHA256Digest(hex: Self.hex))
        let pinned = image.with(digest: digest)
        #expect(pinned.description == "localhost:5000/todo:v1@sha256:\(Self.hex)")
        #expect(pinned.reference == "sha256:\(Self.hex)")
        let retagged = try pinned.with(tag: "v2")
        #expect(retagged.description == "localhost:5000/todo:v2@sha256:\(Self.hex)")
        #expect(try image.with(tag: "v2").reference == "v2")
        let error = #expect(throws: ImageError.self) { try image.with(tag: "no good") }
        #expect(error?.code == .invalidArgument)
    }
}
