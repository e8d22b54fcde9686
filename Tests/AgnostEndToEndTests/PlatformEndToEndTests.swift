import AgnostDigest
import AgnostHTTP
import AgnostTestSupport
import Foundation
import Testing

/// `agnost-fn platform serve` as an operator runs it.
@Suite struct PlatformEndToEndTests {
    static let key = Data((0..<32).map { UInt8($0 * 11 % 256) }).base64EncodedString()

    func status(_ url: String, token: String?) throws -> Int {
        let headers = token.map { [(name: "Authorization", value: "Bearer \($0)")] } ?? []
        return try withHTTPClient { client in
            try client.send(HTTPClientRequest(url: url + "/apps", headers: headers)).status
        }
    }

    /// Synchronous, as the other tests with a BackgroundProcess: setpriv's parent-death signal follows the thread
    /// that started the child, and a pool thread an async test gave back may exit and take the server with it.
    @Test func theFirstStartPrintsAnAdminTokenOnceAndTheDataOutlivesARestart() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-platform-\(UUID())")
        defer { try? FileManager.default.removeItem(at: data) }
        let environment = Commands.environment.merging(["AGNOST_PLATFORM_KEY": Self.key]) { $1 }
        let arguments = ["platform", "serve", "--listen", "127.0.0.1:0", "--data", data.path]

        let first = try BackgroundProcess(Commands.agnostFn, arguments, environment: environment)
        let line = try first.waitForLine(containing: "platform on ")
        let url = try #require(line.firstMatch(of: /http:\/\/127\.0\.0\.1:\d+\/v1/).map { String($0.0) })
        let token = try #require(first.output.first { $0.hasPrefix("agp_") })
        #expect(try status(url, token: token) == 200)
        #expect(try status(url, token: nil) == 401)
        #expect(try first.stop() == 0, "\(first.output.joined(separator: "\n"))")
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("platform.sqlite").path))

        let second = try BackgroundProcess(Commands.agnostFn, arguments, environment: environment)
        let restarted = try second.waitForLine(containing: "platform on ")
        let secondURL = try #require(restarted.firstMatch(of: /http:\/\/127\.0\.0\.1:\d+\/v1/).map { String($0.0) })
        #expect(try status(secondURL, token: token) == 200)
        #expect(!second.output.contains { $0.hasPrefix("agp_") || $0.contains("first start") })
        #expect(try second.stop() == 0)
        // The token is a secret: it is printed once, on the first start, and in no other line.
        #expect((first.output + second.output).filter { $0.contains(token) } == [token])
    }

    /// The first admin token made ahead, as on Kubernetes, where standard output lands in the pod's log: the platform
    /// keeps it and prints only that it did; the CLI lists, creates and revokes tokens with it; a later start with
    /// tokens ignores the variable. No line of the server ever holds a token.
    @Test func theFirstAdminTokenMayComeFromTheEnvironmentAndIsNeverPrinted() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-platform-\(UUID())")
        defer { try? FileManager.default.removeItem(at: data) }
        let made = try Commands.agnost("platform", "new-admin-token")
        #expect(made.status == 0, "\(made.standardError)")
        let token = made.standardOutput.trimmingCharacters(in: .newlines)
        #expect(token.wholeMatch(of: /agp_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}/) != nil, "\(made.standardOutput)")
        #expect(made.standardOutput == token + "\n" && made.standardError.isEmpty)
        #expect(try Commands.agnost("platform", "new-admin-token").standardOutput != made.standardOutput)

        // From a file, as a mounted Secret or kubectl --from-file gives it: with its newline.
        var environment = Commands.environment.merging([
            "AGNOST_PLATFORM_KEY": Self.key, "AGNOST_PLATFORM_ADMIN_TOKEN": token + "\n",
            "AGNOST_CONFIG": data.appendingPathComponent("config").path,
        ]) { $1 }
        environment["AGNOST_PLATFORM_TOKEN"] = nil
        let arguments = [
            "platform", "serve", "--listen", "127.0.0.1:0", "--data", data.appendingPathComponent("store").path,
        ]
        let first = try BackgroundProcess(Commands.agnostFn, arguments, environment: environment)
        let line = try first.waitForLine(containing: "platform on ")
        let url = try #require(line.firstMatch(of: /http:\/\/127\.0\.0\.1:\d+\/v1/).map { String($0.0) })
        #expect(first.output.contains { $0.contains("the admin token is the one AGNOST_PLATFORM_ADMIN_TOKEN holds") })
        #expect(try status(url, token: token) == 200)

        var cli = environment
        cli["AGNOST_PLATFORM_TOKEN"] = token
        func platform(_ arguments: String...) throws -> Commands.Outcome {
            try Commands.run(Commands.agnostFn, ["platform"] + arguments + ["--platform", url], environment: cli)
        }
        let created = try platform("tokens", "create", "backup", "--role", "admin")
        #expect(created.status == 0, "\(created.standardError)")
        let backup = created.standardOutput.trimmingCharacters(in: .newlines)
        #expect(backup.wholeMatch(of: /agp_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}/) != nil, "\(created.standardOutput)")
        let listed = try platform("tokens", "list", "--output", "json")
        let items = try #require(
            (try JSONSerialization.jsonObject(with: Data(listed.standardOutput.utf8)) as? [String: Any])?["items"]
                as? [[String: Any]]
        )
        #expect(items.compactMap { $0["name"] as? String }.sorted() == ["admin", "backup"])
        let adminID = String(token.split(separator: "_")[1])
        #expect(items.contains { $0["id"] as? String == adminID && $0["role"] as? String == "admin" })

        let pasted = try platform("tokens", "revoke", token)
        #expect(pasted.status != 0 && pasted.standardError.contains("not the token itself"), "\(pasted.standardError)")
        #expect(!(pasted.standardError + pasted.standardOutput).contains(token))

        // Its own token: revoked, and then the record cannot be read with it.
        let revoked = try platform("tokens", "revoke", adminID, "--output", "json")
        #expect(revoked.status == 0, "\(revoked.standardError)")
        #expect(revoked.standardError.contains("revoked token \(adminID)"), "\(revoked.standardError)")
        #expect(revoked.standardError.contains("the token this command used") && revoked.standardOutput.isEmpty)
        #expect(try status(url, token: token) == 401)
        #expect(try status(url, token: backup) == 200)

        // The backup is the last admin token for every app now; it can revoke, but not itself. Again with the
        // revoked token is 204, and --output json is its record, as the list shows it.
        cli["AGNOST_PLATFORM_TOKEN"] = backup
        let again = try platform("tokens", "revoke", adminID, "--output", "json")
        #expect(again.status == 0, "\(again.standardError)")
        let record = try #require(
            try JSONSerialization.jsonObject(with: Data(again.standardOutput.utf8)) as? [String: Any]
        )
        #expect(record["id"] as? String == adminID && record["revokedAt"] is String, "\(again.standardOutput)")
        let backupID = String(backup.split(separator: "_")[1])
        let last = try platform("tokens", "revoke", backupID)
        #expect(last.status == 1)
        #expect(last.standardError.contains("create another admin token"), "\(last.standardError)")
        let table = try platform("tokens", "list")
        #expect(table.standardOutput.split(separator: "\n").first?.hasPrefix("ID") == true, "\(table.standardOutput)")
        #expect(table.standardOutput.contains(adminID) && !table.standardOutput.contains(token))
        #expect(try first.stop() == 0, "\(first.output.joined(separator: "\n"))")

        // Tokens exist: another token in the variable is ignored, and says so.
        environment["AGNOST_PLATFORM_ADMIN_TOKEN"] = try Commands.agnost("platform", "new-admin-token").standardOutput
        let second = try BackgroundProcess(Commands.agnostFn, arguments, environment: environment)
        let restarted = try second.waitForLine(containing: "platform on ")
        let secondURL = try #require(restarted.firstMatch(of: /http:\/\/127\.0\.0\.1:\d+\/v1/).map { String($0.0) })
        #expect(second.output.contains { $0.contains("AGNOST_PLATFORM_ADMIN_TOKEN is ignored") }, "\(second.output)")
        let ignored = try #require(environment["AGNOST_PLATFORM_ADMIN_TOKEN"]).trimmingCharacters(in: .newlines)
        #expect(try status(secondURL, token: ignored) == 401)
        #expect(try status(secondURL, token: backup) == 200)
        #expect(try second.stop() == 0)

        let everything = first.output + second.output
        #expect(!everything.contains { $0.contains(token) || $0.contains(ignored) || $0.contains("agp_") })
        let cliOutput = [listed, revoked, again, last, table].map { $0.standardOutput + $0.standardError }
        #expect(!cliOutput.contains { $0.contains(token) || $0.contains(backup) })
    }

    /// A variable that holds no platform token stops the start before the store is opened (going on would print a
    /// new token into the log the variable keeps it out of), names the variable, and never repeats its value.
    @Test func anAdminTokenThatIsNoPlatformTokenStopsTheStartWithoutRepeatingIt() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-platform-\(UUID())")
        defer { try? FileManager.default.removeItem(at: data) }
        for value in ["agp_admin_hunter2-hunter2", "hunter2-hunter2", ""] {
            let result = try Commands.run(
                Commands.agnostFn,
                ["platform", "serve", "--listen", "127.0.0.1:0", "--data", data.path],
                environment: Commands.environment.merging([
                    "AGNOST_PLATFORM_KEY": Self.key, "AGNOST_PLATFORM_ADMIN_TOKEN": value,
                ]) { $1 }
            )
            #expect(result.status == 1, "\(value): \(result.standardError)")
            #expect(
                result.standardError.contains("error: AGNOST_PLATFORM_ADMIN_TOKEN does not hold a platform token")
                    && result.standardError.contains("agnost-fn platform new-admin-token"),
                "\(result.standardError)"
            )
            #expect(!(result.standardError + result.standardOutput).contains("hunter2"))
            #expect(!result.standardOutput.contains("agp_"))
            #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("platform.sqlite").path))
        }
    }

    @Test func withoutAKeyOrWithABadAddressItSaysWhatToDo() throws {
        var environment = Commands.environment
        environment["AGNOST_PLATFORM_KEY"] = nil
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-platform-\(UUID())")
        defer { try? FileManager.default.removeItem(at: data) }
        let noKey = try Commands.run(
            Commands.agnostFn,
            ["platform", "serve", "--listen", "127.0.0.1:0", "--data", data.path],
            environment: environment
        )
        #expect(noKey.status == 1)
        #expect(noKey.standardError.contains("AGNOST_PLATFORM_KEY") && noKey.standardError.contains("openssl rand"))
        let shortKey = try Commands.run(
            Commands.agnostFn,
            ["platform", "serve", "--listen", "127.0.0.1:0", "--data", data.path],
            environment: environment.merging(["AGNOST_PLATFORM_KEY": "c2hvcnQ="]) { $1 }
        )
        #expect(shortKey.status == 1 && shortKey.standardError.contains("not 32 bytes"))
        let badListen = try Commands.agnost("platform", "serve", "--listen", "localhost")
        #expect(badListen.status != 0 && badListen.standardError.contains("--listen takes host:port"))
        let badStore = try Commands.agnost("platform", "serve", "--store", "postgres://x")
        #expect(badStore.status != 0 && badStore.standardError.contains("--store takes sqlite:PATH"))
    }

    /// `AGNOST_PLATFORM_STORE` names the store when `--store` does not, so that a MongoDB password need not be an
    /// argument, which the process list shows; a bad one is refused by its name, without repeating a password.
    @Test func theStoreMayComeFromTheEnvironmentAndTheOptionWins() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-platform-\(UUID())")
        defer { try? FileManager.default.removeItem(at: data) }
        let fromEnvironment = data.appendingPathComponent("from-environment.sqlite")
        var environment = Commands.environment.merging(["AGNOST_PLATFORM_KEY": Self.key]) { $1 }
        environment["AGNOST_PLATFORM_STORE"] = "sqlite:" + fromEnvironment.path
        let arguments = ["platform", "serve", "--listen", "127.0.0.1:0", "--data", data.path]

        let server = try BackgroundProcess(Commands.agnostFn, arguments, environment: environment)
        let line = try server.waitForLine(containing: "platform on ")
        #expect(line.contains("records in \(fromEnvironment.path)"), "\(line)")
        #expect(try server.stop() == 0)
        #expect(FileManager.default.fileExists(atPath: fromEnvironment.path))

        let fromOption = data.appendingPathComponent("from-option.sqlite")
        let overridden = try BackgroundProcess(
            Commands.agnostFn,
            arguments + ["--store", "sqlite:" + fromOption.path],
            environment: environment
        )
        #expect(try overridden.waitForLine(containing: "platform on ").contains("records in \(fromOption.path)"))
        #expect(try overridden.stop() == 0)

        environment["AGNOST_PLATFORM_STORE"] = "mongo://agnost:s3cret@db"
        let bad = try Commands.run(Commands.agnostFn, arguments, environment: environment)
        #expect(bad.status != 0)
        #expect(bad.standardError.contains("AGNOST_PLATFORM_STORE takes sqlite:PATH"), "\(bad.standardError)")
        #expect(!bad.standardError.contains("s3cret"))
    }

    /// The API end to end, as a deployer's tooling drives it: an app, a version (and a bad one), a real Redis
    /// resource with a password, checked and linked, a key, a deployment through the Kubernetes API-server
    /// fixture; the Secret gets the linked settings and the key's hash, and neither the password nor the key
    /// appears in any answer or in anything the platform printed.
    @Test func aDeploymentThroughTheAPIPutsTheLinkedSettingsInTheSecretAndNoSecretEverShows() throws {
        let cluster = try KubeAPIServerFixture()
        defer { cluster.stop() }
        let redis = try RedisFixture()
        defer { redis.stop() }
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-platform-\(UUID())")
        defer { try? FileManager.default.removeItem(at: data) }
        let server = try BackgroundProcess(
            Commands.agnostFn,
            [
                "platform", "serve", "--listen", "127.0.0.1:0", "--data", data.path, "--kubeconfig",
                cluster.kubeconfigPath,
            ],
            environment: Commands.environment.merging(["AGNOST_PLATFORM_KEY": Self.key]) { $1 }
        )
        let line = try server.waitForLine(containing: "platform on ")
        let url = try #require(line.firstMatch(of: /http:\/\/127\.0\.0\.1:\d+\/v1/).map { String($0.0) })
        let admin = try #require(server.output.first { $0.hasPrefix("agp_") })
        let password = "pw-\(UUID().uuidString)"
        var answers: [String] = []
        func call(
            _ method: String,
            _ path: String,
            _ body: String? = nil,
            type: String = "application/json",
            headers: [(name: String, value: String)] = []
        ) throws -> (status: Int, body: [String: Any]) {
            var fields = [(name: "Authorization", value: "Bearer \(admin)")] + headers
            if body != nil { fields.append(("Content-Type", type)) }
            let response = try withHTTPClient { client in
                try client.send(
                    HTTPClientRequest(
                        method: method,
                        url: url + path,
                        headers: fields,
                        body: body.map { Array($0.utf8) }
                    )
                )
            }
            let text = String(decoding: response.body, as: UTF8.self)
            answers.append(text)
            let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
            return (response.status, object)
        }

        #expect(try call("POST", "/apps", #"{"name":"shop"}"#).status == 201)
        let spec =
            "app: shop\nversion: v1\nendpoints:\n  - name: list\n    method: GET\n    path: /items\n"
            + "    handler: list\nresources:\n  - name: cache\n    type: redis\n"
        #expect(try call("POST", "/apps/shop/versions", spec, type: "application/yaml").status == 201)
        let bad = try call("POST", "/apps/shop/versions", "app: shop\nversion: v2\nnope: 1\n", type: "application/yaml")
        #expect(
            bad.status == 422
                && (bad.body["errors"] as? [String])?.contains { $0.hasPrefix("agnost.yaml:3:1: error:") } == true
        )

        let added = try call(
            "POST",
            "/resources",
            #"{"name":"sessions","app":"shop","type":"redis","host":"127.0.0.1","port":\#(redis.port),"password":"\#(password)"}"#
        )
        #expect(added.status == 201)
        #expect((added.body["reachability"] as? [String: Any])?["reachable"] as? Bool == true, "\(added.body)")
        let closed = try ClosedPort()
        let unreachable = try call(
            "POST",
            "/resources",
            #"{"name":"gone","app":"shop","type":"redis","host":"127.0.0.1","port":\#(closed.port)}"#
        )
        #expect((unreachable.body["reachability"] as? [String: Any])?["reachable"] as? Bool == false)
        let linked = try call(
            "PUT",
            "/apps/shop/versions/v1/links/cache",
            #"{"resource":"sessions"}"#,
            headers: [("If-Match", "*")]
        )
        #expect(linked.status == 200, "\(linked.body)")
        let created = try call("POST", "/apps/shop/versions/v1/keys", #"{"name":"web"}"#)
        let key = try #require(created.body["key"] as? String)

        let image = "127.0.0.1:5000/shop@sha256:" + String(repeating: "c", count: 64)
        let requested = try call("POST", "/apps/shop/versions/v1/deployments", #"{"image":"\#(image)"}"#)
        #expect(requested.status == 202, "\(requested.body)")
        let id = try #require(requested.body["id"] as? String)
        var outcome = ""
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            outcome = try call("GET", "/apps/shop/versions/v1/deployments/\(id)").body["outcome"] as? String ?? ""
            if ["ready", "failed", "superseded"].contains(outcome) { break }
            usleep(100_000)
        }
        #expect(outcome == "ready")
        #expect(try call("GET", "/apps/shop/versions/v1").body["state"] as? String == "deployed")

        let secret = try #require(try cluster.object("secrets", group: nil, namespace: "demo", name: "shop-v1"))
        let values = (secret["data"] as? [String: String] ?? [:]).compactMapValues {
            Data(base64Encoded: $0).flatMap { String(data: $0, encoding: .utf8) }
        }
        #expect(values["AGNOST_RESOURCE_CACHE_HOST"] == "127.0.0.1")
        #expect(values["AGNOST_RESOURCE_CACHE_PORT"] == String(redis.port))
        #expect(values["AGNOST_RESOURCE_CACHE_PASSWORD"] == password)
        #expect(values["AGNOST_RESOURCE_CACHE_URI"] == "redis://:\(password)@127.0.0.1:\(redis.port)")
        #expect(values["AGNOST_API_KEYS"] == SHA256.hash(key.utf8).hexString)

        #expect(try server.stop() == 0)
        let everything = answers + server.output
        #expect(!everything.contains { $0.contains(password) }, "the resource's password never leaves the Secret")
        #expect(everything.filter { $0.contains(key) }.count == 1, "the key is in the answer that made it alone")
    }

    /// On a MongoDB wire-protocol peer, which keeps nothing: the start makes the indexes, stores the admin token
    /// (as nothing answers that one exists) with a majority write, and serves until SIGTERM.
    @Test func onAMongoDBStoreItMakesTheIndexesAndTheFirstAdminToken() throws {
        let mongo = try MockMongo()
        defer { mongo.stop() }
        let server = try BackgroundProcess(
            Commands.agnostFn,
            ["platform", "serve", "--listen", "127.0.0.1:0", "--store", mongo.uri],
            environment: Commands.environment.merging(["AGNOST_PLATFORM_KEY": Self.key]) { $1 }
        )
        let line = try server.waitForLine(containing: "platform on ")
        #expect(line.contains("records in \(mongo.uri)"), "\(line)")
        #expect(server.output.contains { $0.hasPrefix("agp_") })
        #expect(try server.stop() == 0, "\(server.output.joined(separator: "\n"))")
        let commands = try mongo.commands()
        // One per record kind: app, version, resource, apiKey, deployment, accessToken.
        #expect(commands.filter { $0.name == "createIndexes" }.count == 6)
        let insert = try #require(commands.first { $0.name == "insert" }, "\(commands.map(\.name))")
        #expect(insert.document["insert"] as? String == "accessToken")
        #expect((insert.document["writeConcern"] as? [String: Any])?["w"] as? String == "majority")
    }

    @Test func aMongoDBStoreThatCannotBeReachedIsNamedWithoutItsPassword() throws {
        let closed = try ClosedPort()
        let store = "mongodb://agnost:S3cret-pw@127.0.0.1:\(closed.port)/agnost?serverSelectionTimeoutMS=200"
        let result = try Commands.run(
            Commands.agnostFn,
            ["platform", "serve", "--listen", "127.0.0.1:0", "--store", store],
            environment: Commands.environment.merging(["AGNOST_PLATFORM_KEY": Self.key]) { $1 }
        )
        #expect(result.status == 1)
        #expect(
            result.standardError.contains(
                "the MongoDB store mongodb://agnost@127.0.0.1:\(closed.port)/agnost is unavailable"
            ),
            "\(result.standardError)"
        )
        #expect(!(result.standardError + result.standardOutput).contains("S3cret-pw"))
        let typo = try Commands.agnost("platform", "serve", "--store", "mongodb:/agnost:S3cret-pw@db")
        #expect(typo.status != 0 && typo.standardError.contains("--store takes sqlite:PATH or a MongoDB connection"))
        #expect(!typo.standardError.contains("S3cret-pw"))
    }
}
