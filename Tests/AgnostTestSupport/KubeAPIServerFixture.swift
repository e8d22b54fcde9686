import Foundation
import Synchronization

/// A Kubernetes API server with Knative's resources (`kube_apiserver.py`) on a free loopback port, over HTTPS with a
/// CA made here, and a kubeconfig for it; stopped, with every process it started, and its folder removed by
/// ``stop()`` or deinit.
///
/// No real API server can run on these machines, so this is the one stand-in the project allows: it implements what
/// the deployer calls as a real server answers it (server-side apply, watch, `Status` errors), validates against the
/// Knative CRDs in `../shared/knative-crds` and Knative's webhook rules, and runs a simulated controller.
///
/// ```swift
/// let cluster = try KubeAPIServerFixture(bundleCommand: echoServer)
/// defer { cluster.stop() }
/// let status = try Tool.run(agnostFn, ["deploy", "--kubeconfig", cluster.kubeconfigPath])
/// let service = try cluster.object("services", group: "serving.knative.dev", namespace: "demo", name: "todo-v1")
/// ```
///
/// The kubeconfig's contexts, all in namespace `demo` and trusting the CA through `certificate-authority-data`:
/// `fixture` (the current one: bearer token of user `deployer`), `fixture-cert` (client certificate of user
/// `cert-user`), `fixture-wrong-token` (user `intruder`, whose token the server does not know) and `fixture-viewer`
/// (user `viewer`, who may only get, list and watch).
public final class KubeAPIServerFixture: @unchecked Sendable {
    public let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
        "agnost-kube-\(UUID().uuidString)"
    )
    .path
    /// The port the server listens on, which it picked itself.
    public private(set) var port = 0
    /// The bearer token of user `deployer`, whom the `fixture` context uses.
    public let deployerToken = "deployer-\(UUID().uuidString)"
    /// The bearer token of user `viewer` (read-only), whom the `fixture-viewer` context uses.
    public let viewerToken = "viewer-\(UUID().uuidString)"
    /// A token the server does not know, which the `fixture-wrong-token` context uses.
    public let wrongToken = "intruder-\(UUID().uuidString)"
    /// The fixture's own user, allowed the test hooks, whose requests stay out of ``requests()``.
    private let adminToken = "fixture-admin-\(UUID().uuidString)"
    private let process = Process()
    private let errors = LockedData()
    private var lifeline: Pipe?
    private let stopped = Mutex(false)

    public var server: String { "https://127.0.0.1:\(port)" }
    public var caPath: String { "\(folder)/ca.crt" }
    public var kubeconfigPath: String { "\(folder)/kubeconfig" }
    /// The client certificate and key of user `cert-user`, issued by ``caPath``.
    public var clientCertificatePath: String { "\(folder)/client.crt" }
    public var clientKeyPath: String { "\(folder)/client.key" }
    /// What the server wrote to stderr so far: tracebacks of fixture bugs, for a failing test's message.
    public var stderr: String { String(decoding: errors.contents, as: UTF8.self) }

    /// Starts the server.
    ///
    /// - Parameters:
    ///   - knative: serve Knative's resources; without them every serving and eventing path answers 404, as a
    ///     cluster without Knative does.
    ///   - eventing: serve Knative Eventing's (PingSources, Triggers, Brokers); false is a cluster with Knative
    ///     Serving alone.
    ///   - bundleCommand: an executable the controller starts for each revision, with the container's `env`, `PORT`,
    ///     `AGNOST_HOST`, `K_SERVICE`, `K_REVISION` and `K_CONFIGURATION`; the revision is ready once it answers
    ///     `GET /agnost/ready` with 200, and `status.url` then reaches it through a proxy. Without one, revisions
    ///     are ready at once and `status.url` is `http://SERVICE.NAMESPACE.example.com`.
    ///   - watchHistory: how many changes the server keeps for watches to resume from; older resource versions get
    ///     410 Expired.
    ///   - deployerRole: a YAML file with an `rbac.authorization.k8s.io/v1` Role whose rules the server enforces for
    ///     user `deployer`, as RBAC would once the Role is bound to it (`knative/rbac.yaml`, say); nil lets the
    ///     deployer do everything.
    public init(
        knative: Bool = true,
        eventing: Bool = true,
        bundleCommand: String? = nil,
        watchHistory: Int = 500,
        deployerRole: String? = nil
    ) throws {
        try FileManager.default.createDirectory(atPath: "\(folder)/state", withIntermediateDirectories: true)
        do {
            try makeCertificates()
            try "\(deployerToken),deployer\n\(viewerToken),viewer\n\(adminToken),fixture-admin\n"
                .write(toFile: "\(folder)/tokens.csv", atomically: true, encoding: .utf8)
            try start(
                knative: knative,
                eventing: eventing,
                bundleCommand: bundleCommand,
                watchHistory: watchHistory,
                deployerRole: deployerRole
            )
            try writeKubeconfig()
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// Stops the server and every revision process, and removes the folder; later calls do nothing.
    public func stop() {
        guard
            !stopped.withLock({
                let was = $0; $0 = true; return was
            })
        else { return }
        // Closing the lifeline stops the server, as when this process dies: no signal is needed, which matters
        // because the test runner's threads block SIGTERM and children keep that mask across exec.
        try? lifeline?.fileHandleForWriting.close()
        if process.isRunning {
            let deadline = ProcessDeadline(process, after: .seconds(10))
            process.waitUntilExit()
            deadline.cancel()
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Every request the server answered, in order, except the fixture's own.
    public func requests() throws -> [FixtureRequest] {
        let text = (try? String(contentsOfFile: "\(folder)/state/requests.jsonl", encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { line in
            guard
                let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let method = entry["method"] as? String, let path = entry["path"] as? String,
                let status = entry["status"] as? Int
            else { throw FixtureFailure("the API server's request log has a line of another form: \(line)") }
            return FixtureRequest(
                method: method,
                path: path,
                contentType: entry["contentType"] as? String,
                user: entry["user"] as? String,
                status: status
            )
        }
    }

    /// The stored object, or nil when there is none; `group` nil for the core group (Secrets).
    public func object(_ plural: String, group: String?, namespace: String, name: String) throws -> [String: Any]? {
        let prefix = group.map { "/apis/\($0)/v1" } ?? "/api/v1"
        let (status, body) = try call("GET", "\(prefix)/namespaces/\(namespace)/\(plural)/\(name)")
        if status == 404 { return nil }
        guard status == 200, let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw FixtureFailure(
                "GET \(plural) \(namespace)/\(name) answered \(status): \(String(decoding: body, as: UTF8.self))"
            )
        }
        return object
    }

    /// Makes the next revision the controller creates fail with this reason and message, as Knative reports an
    /// image that cannot be pulled, say.
    public func failNextRevision(reason: String = "RevisionFailed", message: String) throws {
        let body = try JSONSerialization.data(withJSONObject: ["reason": reason, "message": message])
        try expectOK(try call("POST", "/fixture/fail-next-revision", body: body), "arming a revision failure")
    }

    /// Ends every open watch stream abruptly, as a broken connection would.
    public func dropWatches() throws {
        try expectOK(try call("POST", "/fixture/drop-watches"), "dropping the watches")
    }

    /// The host header the Service's proxy last received, and the ports of the revisions it routes to.
    public func proxy(namespace: String, service: String) throws -> (lastHost: String?, ports: [Int])? {
        let (status, body) = try call("GET", "/fixture/proxies")
        try expectOK((status, body), "reading the proxies")
        guard
            let proxies = try JSONSerialization.jsonObject(with: body) as? [String: Any],
            let proxy = proxies["\(namespace)/\(service)"] as? [String: Any]
        else { return nil }
        let routes = proxy["routes"] as? [[Int]] ?? []
        return (proxy["lastHost"] as? String, routes.compactMap { $0.last })
    }

    /// Creates the Broker `name` in `namespace` (server-side apply, as `kubectl apply` would) and gives it the
    /// status Knative Eventing's controller reports for a working one: `Ready=True` and `status.address.url`.
    ///
    /// ```swift
    /// try cluster.addBroker()  // demo/default, at http://broker-ingress.knative-eventing.svc.cluster.local/demo/default
    /// ```
    public func addBroker(namespace: String = "demo", name: String = "default", brokerClass: String? = nil) throws {
        let annotations = brokerClass.map { "\n  annotations:\n    eventing.knative.dev/broker.class: \($0)" } ?? ""
        let body = """
            apiVersion: eventing.knative.dev/v1
            kind: Broker
            metadata:
              name: \(name)
              namespace: \(namespace)\(annotations)
            spec: {}

            """
        let applied = try call(
            "PATCH",
            "/apis/eventing.knative.dev/v1/namespaces/\(namespace)/brokers/\(name)?fieldManager=kubectl",
            body: Data(body.utf8),
            contentType: "application/apply-patch+yaml"
        )
        // 201 creates it, 200 finds it there already.
        try expectOK((applied.status == 201 ? 200 : applied.status, applied.body), "applying Broker \(name)")
        try setBrokerStatus(
            namespace: namespace,
            name: name,
            ready: "True",
            url: "http://broker-ingress.knative-eventing.svc.cluster.local/\(namespace)/\(name)"
        )
    }

    /// Writes the Broker's status as its controller would: the `Ready` condition (`True`, `False`, `Unknown`) with
    /// its reason and message, and the address, or none.
    public func setBrokerStatus(
        namespace: String = "demo",
        name: String = "default",
        ready: String,
        reason: String? = nil,
        message: String? = nil,
        url: String? = nil
    ) throws {
        var condition: [String: Any] = ["type": "Ready", "status": ready, "lastTransitionTime": "2026-12-01T10:00:00Z"]
        condition["reason"] = reason
        condition["message"] = message
        var status: [String: Any] = ["conditions": [condition], "observedGeneration": 1]
        if let url { status["address"] = ["url": url] }
        let body = try JSONSerialization.data(withJSONObject: [
            "group": "eventing.knative.dev", "plural": "brokers", "namespace": namespace, "name": name,
            "status": status,
        ])
        try expectOK(try call("POST", "/fixture/status", body: body), "writing the status of Broker \(name)")
    }

    private func expectOK(_ answer: (status: Int, body: Data), _ what: String) throws {
        guard answer.status == 200 else {
            throw FixtureFailure("\(what) answered \(answer.status): \(String(decoding: answer.body, as: UTF8.self))")
        }
    }

    /// One request as the fixture's admin, through `curl`: AgnostTestSupport links no HTTP client of its own.
    private func call(
        _ method: String,
        _ path: String,
        body: Data? = nil,
        contentType: String = "application/json"
    ) throws -> (status: Int, body: Data) {
        let output = "\(folder)/response-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: output) }
        var arguments = [
            "-sS", "--max-time", "20", "--cacert", caPath, "-X", method, "-H", "Authorization: Bearer \(adminToken)",
            "-o", output, "-w", "%{http_code}",
        ]
        if let body {
            let input = "\(folder)/request-\(UUID().uuidString)"
            try body.write(to: URL(fileURLWithPath: input))
            arguments += ["-H", "Content-Type: \(contentType)", "--data-binary", "@\(input)"]
        }
        let (status, printed) = try Tool.run("/usr/bin/curl", arguments + ["\(server)\(path)"], timeout: .seconds(30))
        guard status == 0, let code = Int(printed.suffix(3)) else {
            throw FixtureFailure("curl \(method) \(path) failed: \(printed)\n\(stderr)")
        }
        return (code, (try? Data(contentsOf: URL(fileURLWithPath: output))) ?? Data())
    }

    /// The server's certificate for 127.0.0.1 and the client-certificate user's, issued by the CA that the
    /// kubeconfig names (`ca.crt`).
    private func makeCertificates() throws {
        _ = try TestPKI(
            in: URL(fileURLWithPath: folder),
            leaves: [
                .server("server", commonName: "kube-apiserver", subjectAltName: "IP:127.0.0.1"),
                .client("client", subject: "/CN=cert-user/O=deployers"),
            ]
        )
    }

    private func start(
        knative: Bool,
        eventing: Bool,
        bundleCommand: String?,
        watchHistory: Int,
        deployerRole: String?
    ) throws {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let crds = here.appendingPathComponent("../../../shared/knative-crds").standardized.path
        guard FileManager.default.fileExists(atPath: crds) else {
            throw FixtureFailure("the Knative CRDs are not at \(crds), where the API-server fixture reads them")
        }
        var arguments = [
            "python3", here.appendingPathComponent("kube_apiserver.py").path, "--state", "\(folder)/state", "--cert",
            "\(folder)/server.crt", "--key", "\(folder)/server.key", "--client-ca", caPath, "--tokens",
            "\(folder)/tokens.csv", "--crds", crds, "--read-only", "viewer", "--admin", "fixture-admin", "--history",
            String(watchHistory),
        ]
        if !knative { arguments.append("--without-knative") }
        if knative && !eventing { arguments.append("--without-eventing") }
        if let bundleCommand { arguments += ["--bundle-command", bundleCommand] }
        if let deployerRole { arguments += ["--role", "deployer=\(deployerRole)"] }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        let errorOutput = Pipe()
        let lifeline = Pipe()
        self.lifeline = lifeline
        process.standardOutput = output
        process.standardError = errorOutput
        process.standardInput = lifeline
        try process.run()
        let errors = self.errors
        // A blocking reader thread: Foundation's readabilityHandler crashes libdispatch when the pipe closes.
        Thread.detachNewThread {
            while case let data = errorOutput.fileHandleForReading.availableData, !data.isEmpty { errors.append(data) }
        }
        let line = LockedData()
        let printed = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let handle = output.fileHandleForReading
            while case let data = handle.readData(ofLength: 1), let byte = data.first, byte != 10 {
                line.append(data)
            }
            printed.signal()
            // Keep draining, so that the server never blocks on a full pipe.
            while !handle.availableData.isEmpty {}
        }
        guard printed.wait(timeout: .now() + 20) == .success else {
            throw FixtureFailure("the API-server fixture did not start within 20 s: \(stderr)")
        }
        let ready = try? JSONSerialization.jsonObject(with: line.contents) as? [String: Any]
        guard let port = ready?["port"] as? Int else {
            process.waitUntilExit()
            throw FixtureFailure("the API-server fixture printed no port: \(stderr)")
        }
        self.port = port
    }

    private func writeKubeconfig() throws {
        func base64(_ path: String) throws -> String {
            try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(path)")).base64EncodedString()
        }
        let contexts = [
            ("fixture", "deployer"), ("fixture-cert", "cert-user"), ("fixture-wrong-token", "intruder"),
            ("fixture-viewer", "viewer"),
        ]
        let contextEntries = contexts.map { name, user in
            "- name: \(name)\n  context:\n    cluster: fixture\n    user: \(user)\n    namespace: demo"
        }
        try """
        apiVersion: v1
        kind: Config
        current-context: fixture
        clusters:
        - name: fixture
          cluster:
            server: \(server)
            certificate-authority-data: \(try base64("ca.crt"))
        contexts:
        \(contextEntries.joined(separator: "\n"))
        users:
        - name: deployer
          user:
            token: \(deployerToken)
        - name: cert-user
          user:
            client-certificate-data: \(try base64("client.crt"))
            client-key-data: \(try base64("client.key"))
        - name: intruder
          user:
            token: \(wrongToken)
        - name: viewer
          user:
            token: \(viewerToken)

        """.write(toFile: kubeconfigPath, atomically: true, encoding: .utf8)
    }
}

/// One request the API-server fixture answered, from its log.
public struct FixtureRequest: Sendable, Equatable, CustomStringConvertible {
    public let method: String
    /// The path with its query, as sent.
    public let path: String
    public let contentType: String?
    /// The authenticated user, nil when authentication failed.
    public let user: String?
    public let status: Int

    public var description: String { "\(method) \(path) → \(status)" }
}
