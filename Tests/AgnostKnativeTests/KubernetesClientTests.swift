import AgnostHTTP
import AgnostTestSupport
import Foundation
import Synchronization
import Testing

@testable import AgnostKnative

/// Runs `body` with a client of `server`, which is stopped afterwards.
func withClient<T>(
    credentials: ClusterAccess.Credentials = .bearer("SECRET-TOKEN-abc"),
    provider: ((ClusterAccess) -> CredentialProvider)? = nil,
    retryPolicy: RetryPolicy = RetryPolicy(maximumAttempts: 3, initialBackoff: .milliseconds(10)),
    watchIdleTimeout: Duration = .seconds(120),
    isolation: isolated (any Actor)? = #isolation,
    _ handler: @escaping ScriptedServer.Handler,
    _ body: (KubernetesClient, ScriptedServer) async throws -> T
) async throws -> T {
    let server = try ScriptedServer(handler)
    defer { server.stop() }
    let access = ClusterAccess(
        server: server.url,
        namespace: "default",
        contextName: "kind-test",
        userName: "deployer",
        credentials: credentials,
        source: "kubeconfig /tmp/test-config"
    )
    let client = KubernetesClient(
        access: access,
        credentials: provider?(access),
        retryPolicy: retryPolicy,
        requestTimeout: .seconds(10),
        watchIdleTimeout: watchIdleTimeout
    )
    return try await body(client, server)
}

func serviceJSON(resourceVersion: String, generation: Int = 1, ready: String = "Unknown") -> String {
    #"{"apiVersion":"serving.knative.dev/v1","kind":"Service","metadata":{"name":"todo-v1","namespace":"default","#
        + #""uid":"u-1","resourceVersion":"\#(resourceVersion)","generation":\#(generation),"#
        + #""labels":{"app.kubernetes.io/managed-by":"agnost-fn"},"annotations":{"a":"b"},"#
        + #""creationTimestamp":"2026-12-02T00:00:00Z"},"status":{"conditions":[{"type":"Ready","status":"\#(ready)"}]}}"#
}

func watchLine(_ type: String, _ object: String) -> [UInt8] {
    Array(#"{"type":"\#(type)","object":\#(object)}"#.utf8) + [10]
}

func kubernetesError<T>(_ body: () async throws(KubernetesError) -> T) async -> KubernetesError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}

@Suite("Kubernetes client")
struct KubernetesClientTests {
    @Test("apply is a server-side apply PATCH: field manager, force, strict validation, dry run, content type")
    func applyRequest() async throws {
        try await withClient({ request, index in
            .json(index == 0 ? 201 : 200, serviceJSON(resourceVersion: "\(10 + index)", generation: 1 + index))
        }) { client, server in
            let body = Array(
                #"{"apiVersion":"serving.knative.dev/v1","kind":"Service","metadata":{"name":"todo-v1"}}"#.utf8
            )
            let created = try await client.apply(
                body,
                type: .knativeService,
                name: "todo-v1",
                namespace: "default",
                dryRun: false
            )
            #expect(created.statusCode == 201 && created.created)
            #expect(created.metadata.name == "todo-v1")
            #expect(created.metadata.resourceVersion == "10")
            #expect(created.metadata.generation == 1)
            #expect(created.metadata.uid == "u-1")
            #expect(created.metadata.labels["app.kubernetes.io/managed-by"] == "agnost-fn")
            #expect(created.metadata.creationTimestamp == "2026-12-02T00:00:00Z")
            let updated = try await client.apply(
                body,
                type: .knativeService,
                name: "todo-v1",
                namespace: "default",
                dryRun: true
            )
            #expect(updated.statusCode == 200 && !updated.created)
            #expect(updated.metadata.generation == 2)

            let requests = server.requests
            #expect(requests.count == 2)
            let first = requests[0]
            #expect(first.method == "PATCH")
            #expect(first.path == "/apis/serving.knative.dev/v1/namespaces/default/services/todo-v1")
            #expect(
                first.query == ["fieldManager": "agnost-fn", "force": "true", "fieldValidation": "Strict"]
            )
            #expect(first.headers["content-type"] == "application/apply-patch+yaml")
            #expect(first.headers["authorization"] == "Bearer SECRET-TOKEN-abc")
            #expect(first.headers["accept"] == "application/json")
            #expect(first.body == body)
            #expect(requests[1].query["dryRun"] == "All")

            let notJSON = await kubernetesError { () async throws(KubernetesError) in
                try await client.apply(Array("kind: Service".utf8), type: .secret, name: "s", namespace: "default")
            }
            #expect(notJSON?.code == .invalidArgument)
            #expect(server.requests.count == 2)
        }
    }

    @Test("get, list and delete: paths, selectors, propagation, and nil or false for a missing object")
    func getListDelete() async throws {
        try await withClient({ request, _ in
            switch (request.method, request.path) {
            case ("GET", "/api/v1/namespaces/default/secrets/present"):
                .json(200, #"{"kind":"Secret","metadata":{"name":"present"}}"#)
            case ("GET", "/apis/serving.knative.dev/v1/namespaces/default/services"):
                .json(
                    200,
                    #"{"kind":"ServiceList","metadata":{"resourceVersion":"77"},"items":[{"metadata":{"name":"a/b"}},"#
                        + #"{"metadata":{"name":"c"}}]}"#
                )
            case ("DELETE", "/apis/sources.knative.dev/v1/namespaces/default/pingsources/present"):
                .json(200, #"{"kind":"Status","status":"Success"}"#)
            default:
                .status(
                    404,
                    reason: "NotFound",
                    message: "not found",
                    details: #"{"name":"absent","kind":"x"}"#
                )
            }
        }) { client, server in
            #expect(try await client.get(type: .secret, name: "present", namespace: "default") != nil)
            #expect(try await client.get(type: .secret, name: "absent", namespace: "default") == nil)
            let list = try await client.list(
                type: .knativeService,
                namespace: "default",
                labelSelector: "app.kubernetes.io/name=todo,app.kubernetes.io/managed-by=agnost-fn"
            )
            #expect(list.resourceVersion == "77")
            #expect(list.items.map { ObjectMeta.decode(from: $0)?.name } == ["a/b", "c"])
            #expect(try await client.delete(type: .pingSource, name: "present", namespace: "default"))
            #expect(try await client.delete(type: .trigger, name: "absent", namespace: "default") == false)

            let requests = server.requests
            #expect(
                requests[2].query["labelSelector"]
                    == "app.kubernetes.io/name=todo,app.kubernetes.io/managed-by=agnost-fn"
            )
            #expect(requests[3].query["propagationPolicy"] == "Background")
            #expect(requests[4].path == "/apis/eventing.knative.dev/v1/namespaces/default/triggers/absent")
        }
    }

    @Test("a 404 for the resource type says Knative Serving is missing; one for an object is nil")
    func resourceTypeMissing() async throws {
        let servesKnative = Atomic<Bool>(false)
        try await withClient({ request, _ in
            if request.path == "/apis/serving.knative.dev/v1" {
                return servesKnative.load(ordering: .relaxed)
                    ? .json(200, #"{"kind":"APIResourceList","resources":[{"name":"services"}]}"#)
                    : .response(status: 404, headers: [:], body: Array("404 page not found".utf8))
            }
            // What an API server says for a path it does not serve: a Status naming nothing.
            return .status(404, reason: "NotFound", message: "the server could not find the requested resource")
        }) { client, server in
            let missing = await kubernetesError { () async throws(KubernetesError) in
                try await client.get(type: .knativeService, name: "todo-v1", namespace: "default")
            }
            #expect(missing?.code == .resourceTypeMissing)
            #expect(
                missing?.message
                    == "this cluster has no Knative Serving (serving.knative.dev/v1 services); see knative/README.md "
                    + "for what the cluster needs and how to install it"
            )
            let apply = await kubernetesError { () async throws(KubernetesError) in
                try await client.apply(Array("{}".utf8), type: .pingSource, name: "p", namespace: "default")
            }
            #expect(apply?.message.contains("this cluster has no Knative Eventing (sources.knative.dev/v1") == true)

            // With the type listed by discovery, the same answer means the object is missing.
            servesKnative.store(true, ordering: .relaxed)
            let object = try await client.get(type: .knativeService, name: "todo-v1", namespace: "default")
            #expect(object == nil)
            #expect(server.requests.contains { $0.path == "/apis/serving.knative.dev/v1" })
        }
    }

    @Test("Status answers become sentences: 401, 403, 404 namespace, 409, 422; none shows the token")
    func statusSentences() async throws {
        try await withClient({ request, _ in
            switch request.path.split(separator: "/").last {
            case "unauthorized":
                .status(401, reason: "Unauthorized", message: "Unauthorized")
            case "forbidden":
                .status(
                    403,
                    reason: "Forbidden",
                    message:
                        "services.serving.knative.dev \\\"forbidden\\\" is forbidden: User \\\"deployer\\\" cannot patch"
                )
            case "strict":
                .status(400, reason: "BadRequest", message: "strict decoding error: unknown field \\\"spec.x\\\"")
            case "nonamespace":
                .status(
                    404,
                    reason: "NotFound",
                    message: "namespaces \\\"nope\\\" not found",
                    details: #"{"name":"nope","kind":"namespaces"}"#
                )
            case "conflict":
                .status(
                    409,
                    reason: "Conflict",
                    message:
                        "Apply failed with 1 conflict: conflict with \\\"kubectl-edit\\\" using serving.knative.dev/v1",
                    details: #"{"causes":[{"reason":"FieldManagerConflict","message":"conflict with \"kubectl-edit\" "#
                        + #"using serving.knative.dev/v1","field":".spec.template.spec.containers[name=\"user-container\"].image"}]}"#
                )
            default:
                .status(
                    422,
                    reason: "Invalid",
                    message: "Service.serving.knative.dev \\\"invalid\\\" is invalid",
                    details: #"{"name":"invalid","kind":"Service","causes":["#
                        + #"{"reason":"FieldValueInvalid","message":"must be at most 1000","field":"spec.template.spec.containerConcurrency"},"#
                        + #"{"reason":"FieldValueForbidden","message":"reserved","field":"spec.template.spec.containers[0].env[0].name"}]}"#
                )
            }
        }) { client, _ in
            func apply(_ name: String) async -> KubernetesError? {
                await kubernetesError { () async throws(KubernetesError) in
                    try await client.apply(Array("{}".utf8), type: .knativeService, name: name, namespace: "default")
                }
            }
            let unauthorized = await apply("unauthorized")
            #expect(unauthorized?.code == .unauthorized)
            #expect(
                unauthorized?.message.hasPrefix(
                    "the cluster refused the credentials of user deployer (context kind-test): Unauthorized; "
                ) == true
            )
            let forbidden = await apply("forbidden")
            #expect(forbidden?.code == .forbidden)
            #expect(
                forbidden?.message.hasPrefix(
                    "user deployer (context kind-test) may not patch services.serving.knative.dev in namespace default"
                ) == true
            )
            #expect(forbidden?.message.contains("RBAC must grant the verbs patch and create") == true)
            #expect(forbidden?.message.contains("knative/rbac.yaml") == true)
            let strict = await apply("strict")
            #expect(strict?.code == .invalid)
            #expect(
                strict?.message
                    == "the cluster refused services.serving.knative.dev default/strict: strict decoding error: "
                    + "unknown field \"spec.x\""
            )
            let namespace = await apply("nonamespace")
            #expect(namespace?.code == .notFound)
            #expect(namespace?.message.hasPrefix("namespace nope does not exist") == true)
            let conflict = await apply("conflict")
            #expect(conflict?.code == .conflict)
            #expect(
                conflict?.message.contains(
                    "conflicts with field manager kubectl-edit, which owns "
                        + ".spec.template.spec.containers[name=\"user-container\"].image"
                ) == true
            )
            let invalid = await apply("invalid")
            #expect(invalid?.code == .invalid)
            #expect(
                invalid?.message
                    == "the cluster refused services.serving.knative.dev default/invalid as invalid:\n"
                    + "  - spec.template.spec.containerConcurrency: must be at most 1000\n"
                    + "  - spec.template.spec.containers[0].env[0].name: reserved"
            )
            #expect(invalid?.status?.details?.causes?.count == 2)
            for error in [unauthorized, forbidden, strict, namespace, conflict, invalid] {
                let text = "\(String(describing: error)) \(String(reflecting: error))"
                #expect(!text.contains("SECRET-TOKEN"))
                #expect(!text.contains("--"))
            }
        }
    }

    @Test("a 401 re-reads the token file and sends once more; a refused unchanged token names user and context")
    func unauthorizedRefreshesTokenFile() async throws {
        try await withTemporaryFolder { folder in
            let tokenPath = try folder.write("token", "old-token\n")
            try await withClient(
                credentials: .tokenFile(path: tokenPath),
                { request, index in
                    if request.headers["authorization"] == "Bearer new-token" {
                        return .json(200, #"{"kind":"Secret","metadata":{"name":"s"}}"#)
                    }
                    if index == 0 { try? Data("new-token\n".utf8).write(to: URL(fileURLWithPath: tokenPath)) }
                    return .status(401, reason: "Unauthorized", message: "Unauthorized")
                }
            ) { client, server in
                #expect(try await client.get(type: .secret, name: "s", namespace: "default") != nil)
                #expect(
                    server.requests.map { $0.headers["authorization"] } == ["Bearer old-token", "Bearer new-token"]
                )

                try Data("revoked\n".utf8).write(to: URL(fileURLWithPath: tokenPath))
                let refused = await kubernetesError { () async throws(KubernetesError) in
                    try await client.get(type: .secret, name: "s", namespace: "default")
                }
                #expect(refused?.code == .unauthorized)
                // Read again after the 401, the file holds the token just refused: no third attempt.
                #expect(server.requests.count == 3)
                #expect(refused?.message.contains("user deployer (context kind-test)") == true)
                #expect(refused?.message.contains("revoked") == false)
            }
        }
    }

    @Test("a 401 runs the exec plugin again and sends once more with its new token")
    func unauthorizedRerunsExecPlugin() async throws {
        try await withTemporaryFolder { folder in
            let plugin = ClusterAccess.ExecPlugin(
                apiVersion: "client.authentication.k8s.io/v1",
                command: KubeconfigCredentialTests.plugin,
                environment: [("AGNOST_TEST_RUNS", folder.path + "/runs")]
            )
            try await withClient(
                credentials: .exec(plugin),
                { request, _ in
                    request.headers["authorization"] == "Bearer token-2"
                        ? .json(200, #"{"kind":"Secret","metadata":{"name":"s"}}"#)
                        : .status(401, reason: "Unauthorized", message: "Unauthorized")
                }
            ) { client, server in
                #expect(try await client.get(type: .secret, name: "s", namespace: "default") != nil)
                #expect(server.requests.map { $0.headers["authorization"] } == ["Bearer token-1", "Bearer token-2"])
                // Cached now: the next call runs no plugin.
                #expect(try await client.get(type: .secret, name: "s", namespace: "default") != nil)
                let runs = try String(contentsOfFile: folder.path + "/runs", encoding: .utf8)
                #expect(runs.split(separator: "\n").count == 2)
            }
        }
    }

    @Test("5xx and 429 with Retry-After are retried; a 400 is not")
    func retries() async throws {
        try await withClient({ request, index in
            switch (request.path.hasSuffix("/flaky"), index) {
            case (true, 0): .status(503, reason: "ServiceUnavailable", message: "etcd leader election")
            case (true, 1): .json(429, #"{"kind":"Status","code":429}"#, headers: ["Retry-After": "0"])
            case (true, _): .json(200, #"{"kind":"Secret","metadata":{"name":"flaky"}}"#)
            default: .status(400, reason: "BadRequest", message: "bad")
            }
        }) { client, server in
            let flaky = try await client.get(type: .secret, name: "flaky", namespace: "default")
            #expect(flaky != nil)
            #expect(server.requests.count == 3)
            let bad = await kubernetesError { () async throws(KubernetesError) in
                try await client.get(type: .secret, name: "bad", namespace: "default")
            }
            #expect(bad?.code == .invalid)
            #expect(bad?.message == "the cluster refused secrets default/bad: bad")
            #expect(server.requests.count == 4)
        }
    }

    @Test("a cluster that is not there is said so, naming the URL and context")
    func unreachable() async throws {
        let closed = try ClosedPort()
        let access = ClusterAccess(
            server: "http://127.0.0.1:\(closed.port)",
            contextName: "kind-gone",
            userName: "me",
            credentials: .bearer("SECRET-TOKEN-x"),
            source: "kubeconfig /tmp/x"
        )
        let client = KubernetesClient(
            access: access,
            retryPolicy: RetryPolicy(maximumAttempts: 2, initialBackoff: .milliseconds(10))
        )
        let error = await kubernetesError { () async throws(KubernetesError) in
            try await client.list(type: .knativeService, namespace: "default")
        }
        #expect(error?.code == .unreachable)
        #expect(
            error?.message.hasPrefix(
                "cannot reach the Kubernetes API at http://127.0.0.1:\(closed.port) (context kind-gone): "
            ) == true
        )
        #expect(error?.message.contains("connection refused") == true)
        #expect(error?.message.contains("SECRET") == false)
    }
}

@Suite("Kubernetes client watch")
struct KubernetesClientWatchTests {
    @Test("a watch reads events as they arrive, reconnects after a dropped stream from the last resourceVersion")
    func watchReconnects() async throws {
        try await withClient({ request, index in
            switch index {
            case 0:
                // Two events, the second split across pieces, then the connection breaks.
                let second = watchLine("MODIFIED", serviceJSON(resourceVersion: "6", generation: 2))
                return .stream(
                    [
                        watchLine("ADDED", serviceJSON(resourceVersion: "5")), Array(second[..<40]),
                        Array(second[40...]),
                    ],
                    end: .drop
                )
            case 1:
                return .stream(
                    [
                        watchLine("BOOKMARK", #"{"kind":"Service","metadata":{"resourceVersion":"7"}}"#),
                        watchLine("MODIFIED", serviceJSON(resourceVersion: "8", ready: "True")),
                    ],
                    end: .hold
                )
            default:
                return .status(500, reason: "InternalError", message: "unexpected")
            }
        }) { client, server in
            var events: [WatchEvent] = []
            for try await event in client.watch(
                type: .knativeService,
                namespace: "default",
                name: "todo-v1",
                resourceVersion: "4"
            ) {
                events.append(event)
                if events.count == 4 { break }
            }
            #expect(events.map(\.type) == [.added, .modified, .bookmark, .modified])
            #expect(events.map { $0.metadata?.resourceVersion } == ["5", "6", "7", "8"])
            #expect(events[1].metadata?.generation == 2)

            let requests = server.requests
            #expect(requests.count == 2)
            #expect(requests[0].path == "/apis/serving.knative.dev/v1/namespaces/default/services")
            #expect(
                requests[0].query == [
                    "watch": "true", "allowWatchBookmarks": "true", "fieldSelector": "metadata.name=todo-v1",
                    "resourceVersion": "4",
                ]
            )
            #expect(requests[1].query["resourceVersion"] == "6")
            // Leaving the loop stopped the held stream.
            #expect(await server.wait { server.clientClosedHeldStreams == 1 })
        }
    }

    @Test("an ERROR event with 410 Gone lists afresh and goes on from the list's resourceVersion")
    func watchGone() async throws {
        try await withClient({ request, index in
            if request.query["watch"] == nil {
                return .json(
                    200,
                    #"{"kind":"ServiceList","metadata":{"resourceVersion":"100"},"items":[\#(serviceJSON(resourceVersion: "99"))]}"#
                )
            }
            if request.query["resourceVersion"] == "3" {
                let status =
                    #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource "#
                    + #"version: 3 (95)","reason":"Expired","code":410}"#
                return .stream([watchLine("ERROR", status)], end: .hold)
            }
            return .stream([watchLine("MODIFIED", serviceJSON(resourceVersion: "101"))], end: .hold)
        }) { client, server in
            var events: [WatchEvent] = []
            for try await event in client.watch(
                type: .knativeService,
                namespace: "default",
                name: "todo-v1",
                resourceVersion: "3"
            ) {
                events.append(event)
                if events.count == 2 { break }
            }
            #expect(events.map(\.type) == [.modified, .modified])
            #expect(events.map { $0.metadata?.resourceVersion } == ["99", "101"])
            let requests = server.requests
            #expect(requests.count == 3)
            #expect(requests[1].query == ["fieldSelector": "metadata.name=todo-v1"])
            #expect(requests[2].query["resourceVersion"] == "100")
        }
    }

    @Test("an ERROR event of another kind, or a refused watch, ends the stream with the error")
    func watchErrors() async throws {
        try await withClient({ request, _ in
            if request.path.contains("/revisions") {
                return .status(403, reason: "Forbidden", message: "cannot watch")
            }
            let status = #"{"kind":"Status","status":"Failure","message":"internal error","code":500}"#
            return .stream([watchLine("ERROR", status)], end: .hold)
        }) { client, _ in
            do {
                for try await _ in client.watch(
                    type: .knativeService,
                    namespace: "default",
                    name: "todo-v1",
                    resourceVersion: "1"
                ) {}
                Issue.record("the watch ended without an error")
            } catch let error as KubernetesError {
                #expect(error.message.contains("internal error"))
            }
            do {
                for try await _ in client.watch(
                    type: .knativeRevision,
                    namespace: "default",
                    name: nil,
                    resourceVersion: nil
                ) {}
                Issue.record("the refused watch ended without an error")
            } catch let error as KubernetesError {
                #expect(error.code == .forbidden)
                #expect(error.message.contains("may not watch revisions.serving.knative.dev in namespace default"))
            }
        }
    }

    @Test("a stream that keeps dropping without events ends after the retry policy's attempts")
    func watchGivesUp() async throws {
        let policy = RetryPolicy(maximumAttempts: 3, initialBackoff: .milliseconds(10))
        try await withClient(retryPolicy: policy, { _, _ in .stream([], end: .drop) }) { client, server in
            do {
                for try await _ in client.watch(
                    type: .knativeService,
                    namespace: "default",
                    name: "todo-v1",
                    resourceVersion: "1"
                ) {}
                Issue.record("the watch did not give up")
            } catch let error as KubernetesError {
                #expect(error.code == .unreachable)
                #expect(error.message.contains("cannot reach the Kubernetes API at \(server.url) (context kind-test)"))
            }
            #expect(server.requests.count == 3)
        }
    }

    @Test("a watch that stays silent past its idle timeout connects again, without giving up")
    func watchIdle() async throws {
        let policy = RetryPolicy(maximumAttempts: 2, initialBackoff: .milliseconds(10))
        try await withClient(
            retryPolicy: policy,
            watchIdleTimeout: .milliseconds(300),
            { _, index in
                index < 3
                    ? .stream([], end: .hold)
                    : .stream([watchLine("MODIFIED", serviceJSON(resourceVersion: "9"))], end: .hold)
            }
        ) { client, server in
            var events: [WatchEvent] = []
            for try await event in client.watch(
                type: .knativeService,
                namespace: "default",
                name: "todo-v1",
                resourceVersion: "8"
            ) {
                events.append(event)
                break
            }
            #expect(events.map { $0.metadata?.resourceVersion } == ["9"])
            // Three silent connections, more than the policy's two attempts would allow for failures.
            #expect(server.requests.count == 4)
            #expect(server.requests.allSatisfy { $0.query["resourceVersion"] == "8" })
        }
    }

    @Test("cancelling the consuming task stops the transfer at once")
    func watchCancellation() async throws {
        try await withClient({ _, _ in .stream([], end: .hold) }) { client, server in
            let consumer = Task {
                var count = 0
                for try await _ in client.watch(
                    type: .knativeService,
                    namespace: "default",
                    name: "todo-v1",
                    resourceVersion: "1"
                ) { count += 1 }
                return count
            }
            #expect(await server.wait { server.requests.count == 1 })
            let started = ContinuousClock.now
            consumer.cancel()
            let count = try await consumer.value
            #expect(count == 0)
            #expect(await server.wait(for: .seconds(5)) { server.clientClosedHeldStreams == 1 })
            #expect(ContinuousClock.now - started < .seconds(3))
            #expect(server.requests.count == 1)
        }
    }
}

@Suite("Kubernetes client watch decoding")
struct KubernetesClientWatchDecodingTests {
    @Test("lines are cut wherever the pieces end, blank lines skipped, and an overlong line refused")
    func splitter() {
        var splitter = JSONLineSplitter(limit: 16)
        #expect(splitter.append(Array(#"{"a":1}"#.utf8)) == [])
        #expect(splitter.append(Array("\n\r\n{\"b\"".utf8)) == [Array(#"{"a":1}"#.utf8)])
        #expect(splitter.append(Array(":2}\n{".utf8)) == [Array(#"{"b":2}"#.utf8)])
        #expect(splitter.append([UInt8](repeating: 0x20, count: 16)) == nil)
    }

    @Test("an event line gives its kind, object and resourceVersion; an ERROR line its Status")
    func lines() {
        let event = WatchLine.decode(Array(#"{"type":"DELETED","object":{"metadata":{"resourceVersion":"12"}}}"#.utf8))
        guard case .event(let kind, let object, let version) = event else {
            Issue.record("not an event: \(String(describing: event))")
            return
        }
        #expect(kind == .deleted)
        #expect(version == "12")
        #expect(ObjectMeta.decode(from: object)?.resourceVersion == "12")
        let error = WatchLine.decode(
            Array(
                #"{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}}"#.utf8
            )
        )
        #expect(error == .error(Status(status: nil, message: "too old", reason: "Expired", code: 410, details: nil)))
        #expect(WatchLine.decode(Array(#"{"type":"SOMETHING","object":{}}"#.utf8)) == nil)
        #expect(WatchLine.decode(Array("not json".utf8)) == nil)
    }
}
