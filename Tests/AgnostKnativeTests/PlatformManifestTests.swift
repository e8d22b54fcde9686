import Foundation
import Testing
import Yams

/// `knative/platform.yaml`, the control plane on a cluster: it parses, each object is one the API server takes,
/// and the objects fit together (selectors, ports, names, Secrets), as nothing else checks before a user applies it.
struct PlatformManifestTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    typealias Object = [String: Any]

    static func documents(_ file: String) throws -> [Object] {
        let text = try String(contentsOf: repository.appendingPathComponent(file), encoding: .utf8)
        return try Yams.load_all(yaml: text).map { document in
            try #require(document as? Object, "every document of \(file) is a mapping")
        }
    }

    /// The one object of `kind`, from the documents of platform.yaml.
    static func object(_ kind: String, in objects: [Object]) throws -> Object {
        let matching = objects.filter { $0["kind"] as? String == kind }
        try #require(matching.count == 1, "platform.yaml has one \(kind), not \(matching.count)")
        return matching[0]
    }

    /// `value` as JSON with sorted keys, to compare two trees that Yams read.
    static func canonical(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
    }

    static func isDNSLabel(_ name: String) -> Bool {
        name.wholeMatch(of: /[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/) != nil
    }

    @Test func everyObjectIsAKnownKindWithANameAndNoNamespace() throws {
        let objects = try Self.documents("knative/platform.yaml")
        let kinds = objects.compactMap { object -> String? in
            guard let apiVersion = object["apiVersion"] as? String, let kind = object["kind"] as? String else {
                return nil
            }
            return "\(apiVersion) \(kind)"
        }
        #expect(
            kinds.sorted() == [
                "apps/v1 Deployment", "rbac.authorization.k8s.io/v1 Role", "rbac.authorization.k8s.io/v1 RoleBinding",
                "v1 Service", "v1 ServiceAccount",
            ]
        )
        for object in objects {
            let metadata = try #require(object["metadata"] as? Object)
            let name = try #require(metadata["name"] as? String)
            #expect(Self.isDNSLabel(name), "\(name) is a DNS label")
            // Namespace-scoped: applied with --namespace, so a namespace written in would fight it.
            #expect(metadata["namespace"] == nil, "\(name) names no namespace")
        }
    }

    @Test func theDeploymentServesThePlatformWithItsSecretsFromSecretsAsNonRoot() throws {
        let objects = try Self.documents("knative/platform.yaml")
        let deployment = try Self.object("Deployment", in: objects)
        let spec = try #require(deployment["spec"] as? Object)
        let selector = try #require((spec["selector"] as? Object)?["matchLabels"] as? [String: String])
        let template = try #require(spec["template"] as? Object)
        let podLabels = try #require((template["metadata"] as? Object)?["labels"] as? [String: String])
        #expect(!selector.isEmpty && selector.allSatisfy { podLabels[$0.key] == $0.value })

        let pod = try #require(template["spec"] as? Object)
        let serviceAccount = try Self.object("ServiceAccount", in: objects)
        #expect(pod["serviceAccountName"] as? String == (serviceAccount["metadata"] as? Object)?["name"] as? String)
        let podSecurity = try #require(pod["securityContext"] as? Object)
        #expect(podSecurity["runAsNonRoot"] as? Bool == true)
        // runAsNonRoot alone lets the kubelet refuse an image whose user is a name; a number it can check.
        #expect((podSecurity["runAsUser"] as? Int).map { $0 > 0 } == true)

        let containers = try #require(pod["containers"] as? [Object])
        try #require(containers.count == 1)
        let container = containers[0]
        let command = (container["command"] as? [String] ?? []) + (container["args"] as? [String] ?? [])
        #expect(command.first?.hasSuffix("agnost-fn") == true)
        #expect(Array(command.dropFirst().prefix(2)) == ["platform", "serve"])
        let listen = try #require(command.firstIndex(of: "--listen").map { command[$0 + 1] })
        #expect(listen.hasPrefix("0.0.0.0:"), "the Service reaches the pod on its address, not on loopback")
        // The MongoDB URI holds a password: from the environment, never in the arguments, which `ps` shows.
        #expect(!command.contains("--store"))

        let environment = try #require(container["env"] as? [Object])
        var fromSecrets: [String: (secret: String, key: String)] = [:]
        for variable in environment {
            let name = try #require(variable["name"] as? String)
            #expect(variable["value"] == nil, "\(name) is not written into the manifest")
            let reference = try #require(
                ((variable["valueFrom"] as? Object)?["secretKeyRef"]) as? Object,
                "\(name) comes from a Secret"
            )
            fromSecrets[name] = (try #require(reference["name"] as? String), try #require(reference["key"] as? String))
        }
        // The admin token too: from the Secret, so that the first start never prints one into the pod's log.
        #expect(
            fromSecrets.keys.sorted() == [
                "AGNOST_PLATFORM_ADMIN_TOKEN", "AGNOST_PLATFORM_KEY", "AGNOST_PLATFORM_STORE",
            ]
        )
        #expect(fromSecrets.values.allSatisfy { Self.isDNSLabel($0.secret) && !$0.key.isEmpty })

        let ports = try #require(container["ports"] as? [Object])
        let http = try #require(ports.first { $0["name"] as? String == "http" })
        #expect(http["containerPort"] as? Int == Int(listen.split(separator: ":").last ?? ""))
        let readiness = try #require(container["readinessProbe"] as? Object)
        let probed = (readiness["tcpSocket"] as? Object ?? readiness["httpGet"] as? Object)?["port"]
        #expect(probed as? String == "http" || probed as? Int == http["containerPort"] as? Int)

        let security = try #require(container["securityContext"] as? Object)
        #expect(security["allowPrivilegeEscalation"] as? Bool == false)
        #expect((security["capabilities"] as? Object)?["drop"] as? [String] == ["ALL"])
    }

    /// The set-up steps, in the manifest's comment and in knative/README.md, create every Secret key the Deployment
    /// reads, and none is optional: a pod without one does not start, rather than start without the admin token and
    /// print a new one into its log.
    @Test func theSetUpStepsCreateEverySecretKeyTheDeploymentReads() throws {
        let objects = try Self.documents("knative/platform.yaml")
        let template = try #require(
            (try Self.object("Deployment", in: objects)["spec"] as? Object)?["template"] as? Object
        )
        let containers = try #require((template["spec"] as? Object)?["containers"] as? [Object])
        let references = containers.flatMap { ($0["env"] as? [Object]) ?? [] }.compactMap {
            ($0["valueFrom"] as? Object)?["secretKeyRef"] as? Object
        }
        #expect(references.count == 3)
        #expect(references.allSatisfy { ($0["optional"] as? Bool ?? false) == false })
        let read = Set(references.compactMap { $0["key"] as? String })
        #expect(read.contains("admin-token"))
        for file in ["knative/platform.yaml", "knative/README.md"] {
            let text = try String(contentsOf: Self.repository.appendingPathComponent(file), encoding: .utf8)
            let created = Set(text.matches(of: /--from-(?:literal|file)=([a-z0-9-]+)=/).map { String($0.1) })
            #expect(
                read.isSubset(of: created),
                "\(file) creates \(created.sorted()), the Deployment reads \(read.sorted())"
            )
            #expect(text.contains("agnost-fn platform new-admin-token"), "\(file) says how to make the admin token")
        }
    }

    @Test func theServiceSelectsTheDeploymentsPodsOnItsNamedPort() throws {
        let objects = try Self.documents("knative/platform.yaml")
        let service = try #require(try Self.object("Service", in: objects)["spec"] as? Object)
        let template = try #require(
            (try Self.object("Deployment", in: objects)["spec"] as? Object)?["template"] as? Object
        )
        let podLabels = try #require((template["metadata"] as? Object)?["labels"] as? [String: String])
        let selector = try #require(service["selector"] as? [String: String])
        #expect(!selector.isEmpty && selector.allSatisfy { podLabels[$0.key] == $0.value })
        let containers = try #require((template["spec"] as? Object)?["containers"] as? [Object])
        let portNames = containers.flatMap { ($0["ports"] as? [Object] ?? []).compactMap { $0["name"] as? String } }
        let ports = try #require(service["ports"] as? [Object])
        #expect(!ports.isEmpty)
        for port in ports {
            #expect((1...65_535).contains(port["port"] as? Int ?? 0))
            #expect(portNames.contains(port["targetPort"] as? String ?? ""), "targetPort names a container port")
        }
    }

    /// The platform deploys as the deployer does, so its Role grants what rbac.yaml grants (which the deploy tests
    /// run against), no more and no less, and is bound to the Deployment's service account.
    @Test func theRoleIsTheDeployersAndIsBoundToTheServiceAccount() throws {
        let objects = try Self.documents("knative/platform.yaml")
        let role = try Self.object("Role", in: objects)
        let deployerRole = try #require(
            try Self.documents("knative/rbac.yaml").first { $0["kind"] as? String == "Role" }
        )
        let rules = try #require(role["rules"] as? [Object])
        let deployerRules = try #require(deployerRole["rules"] as? [Object])
        #expect(try Self.canonical(rules) == Self.canonical(deployerRules))

        let binding = try Self.object("RoleBinding", in: objects)
        let roleRef = try #require(binding["roleRef"] as? Object)
        #expect(roleRef["kind"] as? String == "Role")
        #expect(roleRef["apiGroup"] as? String == "rbac.authorization.k8s.io")
        #expect(roleRef["name"] as? String == (role["metadata"] as? Object)?["name"] as? String)
        let subjects = try #require(binding["subjects"] as? [Object])
        let serviceAccount = try Self.object("ServiceAccount", in: objects)
        #expect(subjects.count == 1)
        #expect(subjects.first?["kind"] as? String == "ServiceAccount")
        #expect(subjects.first?["name"] as? String == (serviceAccount["metadata"] as? Object)?["name"] as? String)
    }
}
