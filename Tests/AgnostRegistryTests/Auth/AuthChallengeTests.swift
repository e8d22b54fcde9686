import Testing

@testable import AgnostRegistry

struct AuthChallengeTests {
    @Test func parsesDockerRegistryBearerChallenge() {
        let challenges = AuthChallenge.parse(
            #"Bearer realm="https://auth.example.com/token",service="registry.example.com","#
                + #"scope="repository:samalba/my-app:pull,push""#
        )
        #expect(
            challenges == [
                AuthChallenge(
                    scheme: "bearer",
                    parameters: [
                        "realm": "https://auth.example.com/token",
                        "service": "registry.example.com",
                        "scope": "repository:samalba/my-app:pull,push",
                    ]
                )
            ]
        )
    }

    @Test func parsesBasicChallenge() {
        #expect(
            AuthChallenge.parse(#"Basic realm="Registry Realm""#)
                == [AuthChallenge(scheme: "basic", parameters: ["realm": "Registry Realm"])]
        )
    }

    @Test func parsesSeveralChallengesInOneHeader() {
        let challenges = AuthChallenge.parse(
            #"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple", Bearer"#
        )
        #expect(challenges.map(\.scheme) == ["newauth", "basic", "bearer"])
        #expect(challenges[0].parameters == ["realm": "apps", "type": "1", "title": #"Login to "apps""#])
        #expect(challenges[1].parameters == ["realm": "simple"])
        #expect(challenges[2].parameters.isEmpty)
    }

    @Test func keepsCommasAndEscapesInsideQuotedStrings() {
        let challenges = AuthChallenge.parse(#"Bearer realm="a, b", scope="x\\y\"z,w" , Basic realm=r"#)
        #expect(challenges.count == 2)
        #expect(challenges[0].parameters == ["realm": "a, b", "scope": #"x\y"z,w"#])
        #expect(challenges[1].parameters == ["realm": "r"])
    }

    @Test func toleratesWhitespaceAndCaseAndEmptyListMembers() {
        let challenges = AuthChallenge.parse("  ,BEARER   Realm = \"https://a/t\" ,\tService=reg ,, ")
        #expect(
            challenges == [AuthChallenge(scheme: "bearer", parameters: ["realm": "https://a/t", "service": "reg"])]
        )
    }

    @Test func storesToken68UnderTheEmptyKey() {
        let challenges = AuthChallenge.parse("Negotiate YWxhZGRpbjpvcGVu/c2VzYW1l==, Basic realm=\"x\"")
        #expect(challenges.count == 2)
        #expect(challenges[0] == AuthChallenge(scheme: "negotiate", parameters: ["": "YWxhZGRpbjpvcGVu/c2VzYW1l=="]))
        #expect(challenges[1].parameters == ["realm": "x"])
    }

    @Test func skipsWhatIsNotAChallenge() {
        #expect(AuthChallenge.parse("").isEmpty)
        #expect(AuthChallenge.parse("@@@, Basic realm=\"x\"").map(\.scheme) == ["basic"])
    }

    @Test func readsUnquotedURLsWhole() {
        let challenges = AuthChallenge.parse("Bearer realm=https://auth.example.com/token,service=reg")
        #expect(challenges.first?.parameters == ["realm": "https://auth.example.com/token", "service": "reg"])
    }
}
