import Testing

@testable import AgnostRegistry

struct TokenRequestTests {
    private func bearer(_ parameters: [String: String]) -> AuthChallenge {
        AuthChallenge(scheme: "bearer", parameters: parameters)
    }

    @Test func buildsTheRepositoryScope() {
        let url = TokenRequest.tokenURL(
            challenge: bearer(["realm": "https://auth.example.com/token", "service": "registry.example.com"]),
            scopes: [TokenRequest.scope("samalba/my-app", actions: ["pull", "push"])]
        )
        #expect(
            url == "https://auth.example.com/token?service=registry.example.com"
                + "&scope=repository%3Asamalba%2Fmy-app%3Apull%2Cpush"
        )
    }

    @Test func addsTheChallengesOwnScopeToOurs() {
        let challenge = AuthChallenge.parse(
            #"Bearer realm="https://auth.example.com/token",service="registry.example.com","#
                + #"scope="repository:samalba/my-app:pull""#
        )[0]
        let url = TokenRequest.tokenURL(challenge: challenge, scopes: ["repository:other/app:pull,push"])
        #expect(
            url == "https://auth.example.com/token?service=registry.example.com"
                + "&scope=repository%3Aother%2Fapp%3Apull%2Cpush&scope=repository%3Asamalba%2Fmy-app%3Apull"
        )
    }

    @Test func sendsEachOfSeveralChallengeScopes() {
        let url = TokenRequest.tokenURL(
            challenge: bearer(["realm": "https://a.example/t", "scope": "repository:a:pull repository:b:pull"]),
            scopes: ["repository:a:pull"]
        )
        #expect(url == "https://a.example/t?scope=repository%3Aa%3Apull&scope=repository%3Ab%3Apull")
    }

    @Test func appendsToARealmWithAQuery() {
        let url = TokenRequest.tokenURL(
            challenge: bearer(["realm": "http://auth.local:8080/token?a=b", "service": "my service&more"]),
            scopes: ["repository:app:pull"]
        )
        #expect(url == "http://auth.local:8080/token?a=b&service=my%20service%26more&scope=repository%3Aapp%3Apull")
    }

    @Test func theRefreshGrantIsAFormForTheRealmWithEveryScopeInOneField() throws {
        let challenge = bearer([
            "realm": "https://auth.example.com/token", "service": "registry.example.com", "scope": "repository:a:pull",
        ])
        let grant = try #require(
            TokenRequest.refreshGrant(
                challenge: challenge,
                scopes: ["repository:b:pull,push"],
                refreshToken: "r+t/=",
                clientID: "agnost-fn"
            )
        )
        #expect(grant.url == "https://auth.example.com/token")
        #expect(
            grant.form == "grant_type=refresh_token&refresh_token=r%2Bt%2F%3D&service=registry.example.com"
                + "&client_id=agnost-fn&scope=repository%3Ab%3Apull%2Cpush%20repository%3Aa%3Apull"
        )
        #expect(
            TokenRequest.refreshGrant(challenge: bearer(["realm": "/x"]), scopes: [], refreshToken: "t", clientID: "c")
                == nil
        )
    }

    @Test func noURLWithoutAnHTTPRealm() {
        #expect(TokenRequest.tokenURL(challenge: bearer(["service": "s"]), scopes: ["repository:a:pull"]) == nil)
        for realm in ["ftp://auth.example.com/token", "/token", "Registry Realm", "https:///token"] {
            #expect(
                TokenRequest.tokenURL(challenge: bearer(["realm": realm]), scopes: ["repository:a:pull"]) == nil,
                "\(realm)"
            )
        }
    }
}
