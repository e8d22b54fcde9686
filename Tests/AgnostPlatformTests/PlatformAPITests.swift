import AgnostHTTP
import AgnostPlatform
import Foundation
import Testing

/// The REST API over HTTP, on the embedded store: what each request gets, and what each token may do.
@Suite struct PlatformAPITests {
    struct Served {
        var url: String
        var admin: String
        var platform: Platform

        func call(
            _ method: String,
            _ path: String,
            token: String?,
            json: Any? = nil,
            yaml: String? = nil,
            headers: [(name: String, value: String)] = []
        ) async throws -> (status: Int, headers: [(name: String, value: String)], body: [String: Any]) {
            var headers = headers
            if let token { headers.append(("Authorization", "Bearer \(token)")) }
            var body: [UInt8] = []
            if let json {
                body = Array(try JSONSerialization.data(withJSONObject: json))
                headers.append(("Content-Type", "application/json"))
            } else if let yaml {
                body = Array(yaml.utf8)
                headers.append(("Content-Type", "application/yaml"))
            }
            let request = HTTPClientRequest(method: method, url: url + "/v1" + path, headers: headers, body: body)
            let response = try await withHTTPClient { client in try await client.execute(request) }
            let object =
                response.body.isEmpty
                ? [:] : (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:])
            return (response.status, response.headers, object)
        }
    }

    func withServer(_ body: (Served) async throws -> Void) async throws {
        try await StoreUnderTest.sqlite.withStore { store in
            let platform = Platform(store: store, sealer: try SecretSealer(key: Array(repeating: 9, count: 32)))
            let admin = try #require(try await platform.bootstrapAdminToken())
            try await withPlatformServer(platform, PlatformServerConfiguration(port: 0)) { url in
                try await body(Served(url: url, admin: admin, platform: platform))
            }
        }
    }

    @Test func appsAndVersionsRoundTripWithRevisionsAndProblems() async throws {
        try await withServer { served in
            var response = try await served.call("POST", "/apps", token: served.admin, json: ["name": "todo"])
            #expect(response.status == 201)
            #expect(response.body["name"] as? String == "todo")
            #expect(response.headers.first { $0.name.lowercased() == "etag" }?.value == "\"1\"")
            let created = try #require(response.body["createdAt"] as? String)
            #expect(created.hasSuffix("Z") && created.contains("."), "\(created)")

            response = try await served.call("POST", "/apps", token: served.admin, json: ["name": "todo"])
            #expect(response.status == 409 && response.body["title"] as? String == "Conflict")
            #expect((response.body["detail"] as? String)?.contains("exists already") == true)

            // Two updates from revision 1: one wins, the other gets 412 and changes nothing.
            let first = try await served.call(
                "PATCH",
                "/apps/todo",
                token: served.admin,
                json: ["description": "first"],
                headers: [("If-Match", "\"1\"")]
            )
            let second = try await served.call(
                "PATCH",
                "/apps/todo",
                token: served.admin,
                json: ["description": "second"],
                headers: [("If-Match", "\"1\"")]
            )
            #expect([first.status, second.status] == [Int]([200, 412]))
            response = try await served.call("GET", "/apps/todo", token: served.admin)
            #expect(response.body["description"] as? String == "first")

            response = try await served.call(
                "POST",
                "/apps/todo/versions",
                token: served.admin,
                yaml: PlatformTests.spec
            )
            #expect(response.status == 201, "\(response.body)")
            #expect(response.body["name"] as? String == "v1" && response.body["state"] as? String == "uploaded")

            let bad = "app: todo\nversion: v2\nendpoints:\n  - name: x\n    method: FETCH\n    path: nope\n"
            response = try await served.call("POST", "/apps/todo/versions", token: served.admin, yaml: bad)
            #expect(response.status == 422)
            let errors = response.body["errors"] as? [String] ?? []
            #expect(
                errors.contains { $0.hasPrefix("agnost.yaml:5:") } && errors.contains { $0.hasPrefix("agnost.yaml:6:") }
            )

            response = try await served.call("GET", "/apps/todo/versions?limit=1", token: served.admin)
            #expect(response.status == 200 && (response.body["items"] as? [Any])?.count == 1)
            #expect(response.body["next"] is String == false)
            response = try await served.call("GET", "/apps/todo/versions/v9", token: served.admin)
            #expect(response.status == 404)

            response = try await served.call("POST", "/apps", token: served.admin, json: ["nom": "x"])
            #expect(response.status == 400, "\(response.body)")
        }
    }

    @Test func eachTokenGetsExactlyWhatItsRoleAndAppsAllow() async throws {
        try await withServer { served in
            _ = try await served.platform.createApp(name: "todo", description: "")
            _ = try await served.platform.createApp(name: "shop", description: "")
            let viewer = try await served.platform.createToken(name: "ro", role: .viewer, apps: nil).token
            let shopDeployer = try await served.platform.createToken(name: "shop-ci", role: .deployer, apps: ["shop"])
                .token

            var response = try await served.call("GET", "/apps", token: nil)
            #expect(response.status == 401 && response.body["title"] as? String == "Unauthorized")
            response = try await served.call("GET", "/apps", token: "agp_nope_nope")
            #expect(response.status == 401 && !(response.body["detail"] as? String ?? "").contains("agp_nope"))

            response = try await served.call("GET", "/apps", token: viewer)
            #expect(response.status == 200 && (response.body["items"] as? [Any])?.count == 2)
            response = try await served.call("POST", "/apps", token: viewer, json: ["name": "blog"])
            #expect(response.status == 403 && (response.body["detail"] as? String)?.contains("viewer") == true)
            response = try await served.call("POST", "/apps/todo/versions", token: viewer, yaml: PlatformTests.spec)
            #expect(response.status == 403)

            response = try await served.call("GET", "/apps", token: shopDeployer)
            let names = (response.body["items"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(names == ["shop"])
            response = try await served.call("GET", "/apps/todo", token: shopDeployer)
            #expect(response.status == 403 && (response.body["detail"] as? String)?.contains("'todo'") == true)
            response = try await served.call(
                "POST",
                "/apps/todo/versions",
                token: shopDeployer,
                yaml: PlatformTests.spec
            )
            #expect(response.status == 403)
            let shopSpec = PlatformTests.spec.replacingOccurrences(of: "app: todo", with: "app: shop")
            response = try await served.call("POST", "/apps/shop/versions", token: shopDeployer, yaml: shopSpec)
            #expect(response.status == 201, "\(response.body)")
            response = try await served.call("POST", "/apps", token: shopDeployer, json: ["name": "blog"])
            #expect(response.status == 403)
        }
    }
}

extension PlatformAPITests {
    /// Resources, links, keys and tokens over HTTP: secrets go in and never come out, in any answer.
    @Test func resourcesLinksKeysAndTokensKeepTheirSecrets() async throws {
        try await withServer { served in
            try await withRedisServer { port in
                let password = "Pw-\(UUID().uuidString)"
                var answers: [String] = []
                func call(
                    _ method: String,
                    _ path: String,
                    json: Any? = nil,
                    token: String? = nil,
                    headers: [(name: String, value: String)] = []
                ) async throws -> (status: Int, headers: [(name: String, value: String)], body: [String: Any]) {
                    let response = try await served.call(
                        method,
                        path,
                        token: token ?? served.admin,
                        json: json,
                        headers: headers
                    )
                    answers.append(
                        String(decoding: try JSONSerialization.data(withJSONObject: response.body), as: UTF8.self)
                    )
                    return response
                }
                _ = try await call("POST", "/apps", json: ["name": "todo"])
                _ = try await served.call("POST", "/apps/todo/versions", token: served.admin, yaml: PlatformTests.spec)

                var response = try await call(
                    "POST",
                    "/resources",
                    json: [
                        "name": "cache", "app": "todo", "type": "redis",
                        "uri": "redis://:\(password)@127.0.0.1:\(port)/0",
                    ]
                )
                #expect(response.status == 201, "\(response.body)")
                #expect(response.body["hasUri"] as? Bool == true && response.body["hasPassword"] as? Bool == false)
                let reachability = response.body["reachability"] as? [String: Any]
                #expect(reachability?["reachable"] as? Bool == true, "\(response.body)")
                response = try await call(
                    "POST",
                    "/resources",
                    json: ["name": "maindb", "type": "postgres", "host": "127.0.0.1", "port": 1, "password": password]
                )
                #expect(response.status == 201)
                #expect((response.body["reachability"] as? [String: Any])?["reachable"] as? Bool == false)
                response = try await call("GET", "/resources/cache?app=todo")
                #expect(response.status == 200 && response.body["name"] as? String == "cache")
                response = try await call("POST", "/resources/cache/check?app=todo")
                #expect(response.status == 200)
                response = try await call("GET", "/resources")
                #expect((response.body["items"] as? [[String: Any]])?.map { $0["name"] as? String } == ["maindb"])

                response = try await call(
                    "PUT",
                    "/apps/todo/versions/v1/links/cache",
                    json: ["resource": "cache"],
                    headers: [("If-Match", "\"1\"")]
                )
                #expect(response.status == 200, "\(response.body)")
                #expect(
                    ((response.body["links"] as? [String: Any])?["cache"] as? [String: Any])?["resource"] as? String
                        == "cache"
                )
                response = try await call(
                    "PUT",
                    "/apps/todo/versions/v1/links/cache",
                    json: ["resource": "maindb"],
                    headers: [("If-Match", "\"2\"")]
                )
                #expect(response.status == 400 && (response.body["detail"] as? String)?.contains("postgres") == true)

                response = try await call("POST", "/apps/todo/versions/v1/keys", json: ["name": "mobile"])
                #expect(response.status == 201)
                let key = try #require(response.body["key"] as? String)
                response = try await call("GET", "/apps/todo/versions/v1/keys")
                let listed = response.body["items"] as? [[String: Any]] ?? []
                #expect(listed.count == 1 && listed.first?["valid"] as? Bool == true)
                response = try await call("DELETE", "/apps/todo/versions/v1/keys/mobile")
                #expect(response.status == 204)
                response = try await call("GET", "/apps/todo/versions/v1/keys")
                #expect((response.body["items"] as? [[String: Any]])?.first?["valid"] as? Bool == false)

                response = try await call(
                    "POST",
                    "/tokens",
                    json: ["name": "ci", "role": "deployer", "apps": ["todo"]]
                )
                #expect(response.status == 201)
                let token = try #require(response.body["token"] as? String)
                response = try await call("GET", "/tokens")
                #expect((response.body["items"] as? [Any])?.count == 2)
                response = try await call("GET", "/resources", token: token)
                #expect(response.status == 403)
                response = try await call("GET", "/resources?app=todo", token: token)
                #expect(response.status == 200)
                response = try await call(
                    "POST",
                    "/resources",
                    json: ["name": "x", "app": "todo", "type": "redis", "host": "h"],
                    token: token
                )
                #expect(response.status == 403)
                response = try await call("GET", "/tokens", token: token)
                #expect(response.status == 403)

                // Keys and tokens appear in the one answer that made them, and nowhere else; secrets in none.
                #expect(answers.filter { $0.contains(password) }.isEmpty)
                #expect(answers.filter { $0.contains(key) }.count == 1)
                #expect(answers.filter { $0.contains(token) }.count == 1)
            }
        }
    }
}

extension PlatformAPITests {
    /// Deployments and resource removal over HTTP: who may ask, and what each refusal says.
    @Test func deploymentsAndRemovalsAnswerEachRoleAndSayWhatIsMissing() async throws {
        try await withServer { served in
            _ = try await served.platform.createApp(name: "todo", description: "")
            _ = try await served.platform.createApp(name: "shop", description: "")
            _ = try await served.platform.uploadVersion(app: "todo", spec: PlatformTests.spec)
            let viewer = try await served.platform.createToken(name: "ro", role: .viewer, apps: nil).token
            let shop = try await served.platform.createToken(name: "shop-ci", role: .deployer, apps: ["shop"]).token
            let deployer = try await served.platform.createToken(name: "ci", role: .deployer, apps: nil).token
            let image = ["image": "127.0.0.1:5000/todo@sha256:" + String(repeating: "0", count: 64)]
            let path = "/apps/todo/versions/v1/deployments"

            var response = try await served.call("POST", path, token: nil, json: image)
            #expect(response.status == 401)
            response = try await served.call("POST", path, token: viewer, json: image)
            #expect(response.status == 403 && (response.body["detail"] as? String)?.contains("deploy") == true)
            response = try await served.call("POST", path, token: shop, json: image)
            #expect(response.status == 403 && (response.body["detail"] as? String)?.contains("'todo'") == true)
            response = try await served.call("POST", path, token: deployer, json: ["image": "todo:latest"])
            #expect(response.status == 400 && (response.body["detail"] as? String)?.contains("digest") == true)
            response = try await served.call("POST", path, token: deployer, json: image)
            #expect(response.status == 409, "\(response.body)")
            #expect((response.body["detail"] as? String)?.contains("'maindb', 'cache'") == true, "\(response.body)")

            for (name, type) in [("pg", "postgres"), ("kv", "redis")] {
                response = try await served.call(
                    "POST",
                    "/resources",
                    token: served.admin,
                    json: ["name": name, "type": type, "host": "127.0.0.1", "port": 1]
                )
                #expect(response.status == 201)
            }
            for (declared, resource) in [("maindb", "pg"), ("cache", "kv")] {
                response = try await served.call(
                    "PUT",
                    "/apps/todo/versions/v1/links/\(declared)",
                    token: deployer,
                    json: ["resource": resource],
                    headers: [("If-Match", "*")]
                )
                #expect(response.status == 200, "\(response.body)")
            }
            // Linked, but this platform has no cluster: 503 and nothing recorded.
            response = try await served.call("POST", path, token: deployer, json: image)
            #expect(response.status == 503 && (response.body["detail"] as? String)?.contains("cluster") == true)
            response = try await served.call("GET", path, token: viewer)
            #expect(response.status == 200 && (response.body["items"] as? [Any])?.isEmpty == true)
            response = try await served.call("GET", path + "/20261203-101010-123-abcd", token: viewer)
            #expect(response.status == 404)
            response = try await served.call("GET", path + "/not-an-id", token: viewer)
            #expect(response.status == 404 && (response.body["detail"] as? String)?.contains("'not-an-id'") == true)

            response = try await served.call("DELETE", "/resources/pg", token: deployer)
            #expect(response.status == 403)
            response = try await served.call("DELETE", "/resources/pg", token: served.admin)
            #expect(response.status == 409)
            #expect((response.body["detail"] as? String)?.contains("version 'v1' of app 'todo' (as 'maindb')") == true)
            response = try await served.call(
                "POST",
                "/resources",
                token: served.admin,
                json: ["name": "spare", "type": "redis", "host": "127.0.0.1", "port": 1]
            )
            response = try await served.call("DELETE", "/resources/spare", token: served.admin)
            #expect(response.status == 204)
            response = try await served.call("GET", "/resources/spare", token: served.admin)
            #expect(response.status == 404)
        }
    }

    /// What schemathesis found the server refusing or taking against the document: an RFC 3339 time without
    /// fractional seconds was refused as not ISO 8601, and a `limit` past the document's maximum was quietly cut.
    @Test func anyRFC3339TimeIsReadAndALimitOutsideTheDocumentIsRefused() async throws {
        try await withServer { served in
            _ = try await served.call("POST", "/apps", token: served.admin, json: ["name": "todo"])
            _ = try await served.call("POST", "/apps/todo/versions", token: served.admin, yaml: PlatformTests.spec)
            let times = [
                "whole": ("2099-01-01T00:00:00Z", "2099-01-01T00:00:00.000Z"),
                "fraction": ("2099-01-01T00:00:00.25Z", "2099-01-01T00:00:00.250Z"),
                "offset": ("2099-01-01T01:00:00.5+01:00", "2099-01-01T00:00:00.500Z"),
            ]
            for (name, (sent, shown)) in times {
                let response = try await served.call(
                    "POST",
                    "/apps/todo/versions/v1/keys",
                    token: served.admin,
                    json: ["name": name, "expiresAt": sent]
                )
                #expect(response.status == 201, "\(sent): \(response.body)")
                #expect((response.body["record"] as? [String: Any])?["expiresAt"] as? String == shown)
            }
            let notATime = try await served.call(
                "POST",
                "/apps/todo/versions/v1/keys",
                token: served.admin,
                json: ["name": "never", "expiresAt": "tomorrow"]
            )
            #expect(notATime.status == 400)
            #expect((notATime.body["detail"] as? String)?.contains("'tomorrow' is not an RFC 3339 time") == true)

            for path in ["/apps", "/apps/todo/versions", "/apps/todo/versions/v1/keys", "/resources", "/tokens"] {
                for limit in [0, 501] {
                    let response = try await served.call("GET", "\(path)?limit=\(limit)", token: served.admin)
                    #expect(response.status == 400, "\(path)?limit=\(limit)")
                    #expect((response.body["detail"] as? String)?.contains("not from 1 to 500") == true)
                }
                let widest = try await served.call("GET", "\(path)?limit=500", token: served.admin)
                #expect(widest.status == 200, "\(path)?limit=500: \(widest.body)")
            }
        }
    }
}

extension PlatformAPITests {
    /// Also from schemathesis: a description past the document's 1,000 characters was kept, and `?app=` (empty)
    /// listed the shared resources as if no app had been named.
    @Test func aLongDescriptionAndAnEmptyAppAreRefused() async throws {
        try await withServer { served in
            let long = String(repeating: "é", count: 1001)
            var response = try await served.call(
                "POST",
                "/apps",
                token: served.admin,
                json: ["name": "todo", "description": long]
            )
            #expect(response.status == 400 && (response.body["detail"] as? String)?.contains("1001") == true)
            response = try await served.call(
                "POST",
                "/apps",
                token: served.admin,
                json: ["name": "todo", "description": String(long.dropLast())]
            )
            #expect(response.status == 201)
            response = try await served.call(
                "PATCH",
                "/apps/todo",
                token: served.admin,
                json: ["description": long],
                headers: [("If-Match", "\"1\"")]
            )
            #expect(response.status == 400)
            for query in ["?app=", "?app=Todo"] {
                response = try await served.call("GET", "/resources\(query)", token: served.admin)
                #expect(response.status == 400, "\(query): \(response.body)")
            }
        }
    }
}

extension PlatformAPITests {
    /// `DELETE /v1/tokens/{id}`: an admin token for every app alone may revoke; the token is refused on its next
    /// request as an unknown one is, stays listed with `revokedAt`, and the last admin token for every app stays.
    @Test func aRevokedTokenIsRefusedAtOnceStaysListedAndTheLastAdminStays() async throws {
        try await withServer { served in
            _ = try await served.call("POST", "/apps", token: served.admin, json: ["name": "todo"])
            let platform = served.platform
            let (ci, record) = try await platform.createToken(name: "ci", role: .deployer, apps: nil)
            let viewer = try await platform.createToken(name: "ro", role: .viewer, apps: nil).token
            let todoAdmin = try await platform.createToken(name: "todo-admin", role: .admin, apps: ["todo"]).token
            let id = record.value.id
            #expect(try await served.call("GET", "/apps", token: ci).status == 200)

            var response = try await served.call("DELETE", "/tokens/\(id)", token: nil)
            #expect(response.status == 401)
            for token in [viewer, ci, todoAdmin] {
                response = try await served.call("DELETE", "/tokens/\(id)", token: token)
                #expect(response.status == 403)
                let type = response.headers.first { $0.name.lowercased() == "content-type" }?.value
                #expect(type?.hasPrefix("application/problem+json") == true, "\(type ?? "no content type")")
                #expect((response.body["detail"] as? String)?.contains("revoke tokens") == true, "\(response.body)")
            }
            #expect(
                try await served.call("GET", "/apps", token: ci).status == 200,
                "refused revocations change nothing"
            )

            response = try await served.call("DELETE", "/tokens/\(id)", token: served.admin)
            #expect(response.status == 204)
            response = try await served.call("GET", "/apps", token: ci)
            let unknown = try await served.call("GET", "/apps", token: try Platform.newToken())
            #expect(response.status == 401)
            #expect(response.body["detail"] as? String == unknown.body["detail"] as? String)
            #expect(try await served.call("DELETE", "/tokens/\(id)", token: served.admin).status == 204)
            #expect(try await served.call("DELETE", "/tokens/0123456789abcdef", token: served.admin).status == 404)

            response = try await served.call("GET", "/tokens", token: served.admin)
            let items = try #require(response.body["items"] as? [[String: Any]])
            let revoked = items.filter { $0["revokedAt"] != nil }.compactMap { $0["name"] as? String }
            #expect(items.count == 4 && revoked == ["ci"], "\(items)")
            let revokedAt = try #require(items.first { $0["id"] as? String == id }?["revokedAt"] as? String)
            #expect(revokedAt.hasSuffix("Z"), "\(revokedAt)")

            // The first admin token is the one admin token for every app: todo-admin cannot make tokens for all.
            let adminID = String(served.admin.split(separator: "_")[1])
            response = try await served.call("DELETE", "/tokens/\(adminID)", token: served.admin)
            #expect(response.status == 409)
            #expect(
                (response.body["detail"] as? String)?.contains("create another admin token") == true,
                "\(response.body)"
            )
            #expect(try await served.call("GET", "/apps", token: served.admin).status == 200)
            let backup = try await platform.createToken(name: "backup", role: .admin, apps: nil).token
            #expect(try await served.call("DELETE", "/tokens/\(adminID)", token: backup).status == 204)
            #expect(try await served.call("GET", "/apps", token: served.admin).status == 401)
        }
    }
}
