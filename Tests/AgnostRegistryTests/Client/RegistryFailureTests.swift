import Testing

@testable import AgnostRegistry

/// The sentence each failing status becomes, with the registry's own error codes.
struct RegistryFailureTests {
    static let denied = Array(
        #"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#.utf8
    )
    static let invalid = Array(#"{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"}]}"#.utf8)

    @Test func forbiddenSaysTheCredentialsMayNotPushAndCarriesTheRegistrysWords() {
        let error = RegistrySession.failure(
            status: 403,
            body: Self.denied,
            doing: "uploading sha256:ab",
            context: "r/x"
        )
        #expect(error.code == .forbidden)
        #expect(
            error.message
                == "uploading sha256:ab is forbidden (403): DENIED requested access to the resource is denied; "
                + "the credentials may not push to this repository"
        )
        #expect(error.context == "r/x")
    }

    @Test func anInvalidManifestIsInvalidContent() {
        let error = RegistrySession.failure(
            status: 400,
            body: Self.invalid,
            doing: "storing the manifest",
            context: "r/x:v1"
        )
        #expect(error.code == .invalidContent)
        #expect(
            error.message == "storing the manifest was rejected as invalid (400): MANIFEST_INVALID manifest invalid"
        )
    }

    @Test(arguments: [(404, RegistryError.Code.notFound), (500, .unavailable), (418, .unavailable)])
    func otherStatusesHaveTheirOwnCode(status: Int, code: RegistryError.Code) {
        let error = RegistrySession.failure(status: status, body: Array("<html>".utf8), doing: "fetching", context: "r")
        #expect(error.code == code)
        #expect(error.message.contains("\(status)"))
        #expect(!error.message.contains("html"), "a body that is not the API's JSON is left out")
    }
}
