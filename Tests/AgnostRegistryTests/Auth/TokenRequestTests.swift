import Testing

@testable import AgnostRegistry

struct TokenRequestTests {
    private func bearer(_ parameters: [String: String]) -> AuthChallenge {
        AuthChallenge(scheme: "bearer", parameters: parameters)
    }

    @Test func buildsTheRepositoryScope() {
        let url = TokenRequest.tokenURL(
            challenge: bearer(["realm": "https://auth.example.com/token", "service": "registry.example.com"]),
            repository: "samalba/my-app",
            actions: ["pull", "push"]
        )
        #expect(
            url == "https://auth.example.com/token?service=registry.example.com"
                + "&scope=repository%3Asamalba%2Fmy-app%3Apull%2Cpush"
        )
    }

    @Test func prefersTheChallengesOwnScope() {
        let challenge = AuthChallenge.parse(
            #"Bearer realm="https://auth.example.com/token",service="registry.example.com","#
                + #"scope="repository:samalba/my-app:pull""#
        )[0]
        let url = TokenRequest.tokenURL(challenge: challenge, repository: "other/app", actions: ["pull", "push"])
        #expect(
            url == "https://auth.example.com/token?service=registry.example.com"
                + "&scope=repository%3Asamalba%2Fmy-app%3Apull"
        )
    }

    @Test func sendsEachOfSeveralChallengeScopes() {
        let url = TokenRequest.tokenURL(
            challenge: bearer(["realm": "https://a.example/t", "scope": "repository:a:pull repository:b:pull"]),
            repository: "c",
            actions: ["pull"]
        )
        #expect(url == "https://a.example/t?scope=repository%3Aa%3Apull&scope=repository%3Ab%3Apull")
    }

    @Test func appendsToARealmWithAQuery() {
        let url = TokenRequest.tokenURL(
            challenge: bearer(["realm": "http://auth.local:8080/token?a=b", "service": "my service&more"]),
            repository: "app",
            actions: ["pull"]
        )
        #expect(url == "http://auth.local:8080/token?a=b&service=my%20service%26more&scope=repository%3Aapp%3Apull")
    }

    @Test func noURLWithoutAnHTTPRealm() {
        #expect(TokenRequest.tokenURL(challenge: bearer(["service": "s"]), repository: "a", actions: ["pull"]) == nil)
        for realm in ["ftp://auth.example.com/token", "/token", "Registry Realm", "https:///token"] {
            #expect(
                TokenRequest.tokenURL(challenge: bearer(["realm": realm]), repository: "a", actions: ["pull"]) == nil,
                "\(realm)"
            )
        }
    }
}
