import AgnostPlatform
import AgnostRegistry
import ArgumentParser
import Foundation

/// `--output text|json`: a table for people, or the platform's JSON answer as it came, for scripts.
struct OutputOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
    }

    @Option(help: "How to print the answer: text, or the API's JSON.")
    var output: Format = .text

    /// Prints `answer` as JSON, or decoded as `View` and drawn by `text`.
    func show<View: Decodable>(
        _ answer: PlatformAnswer,
        as view: View.Type,
        context: String,
        _ text: (View) -> [String]
    ) throws {
        switch output {
        case .json:
            FileHandle.standardOutput.write(Data(answer.body + [UInt8(ascii: "\n")]))
        case .text:
            let decoded = try answer.decodeOrExit(view, context: context)
            for line in text(decoded) { print(line) }
        }
    }
}

extension PlatformAnswer {
    func decodeOrExit<T: Decodable>(_ type: T.Type, context: String) throws -> T {
        do throws(PlatformClientError) {
            return try decode(type, context: context)
        } catch {
            Console.error(error.message)
            throw ExitCode.failure
        }
    }
}

/// Columns padded to their widest cell, as kubectl prints them.
enum Table {
    static func lines(_ header: [String], _ rows: [[String]]) -> [String] {
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        return ([header] + rows).map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            .joined(separator: "   ")
        }
    }
}

/// One call of a platform command: the client from the options, the answer or the platform's problem.
struct PlatformCall {
    let client: PlatformClient

    init(_ options: PlatformOptionGroup) throws {
        client = try options.client()
    }

    func callAndExit(
        _ method: String,
        _ path: String,
        body: [UInt8]? = nil,
        contentType: String = "application/json",
        headers: [(name: String, value: String)] = []
    ) async throws -> PlatformAnswer {
        try await Console.platform { () async throws(PlatformClientError) in
            try await client.call(method, path, body: body, contentType: contentType, headers: headers)
        }
    }
}

/// `?name=value&…` of the options given.
func query(_ items: [(String, String?)]) -> String {
    let given = items.compactMap { name, value in value.map { "\(name)=\(PlatformClient.segment($0))" } }
    return given.isEmpty ? "" : "?" + given.joined(separator: "&")
}

func json(_ object: [String: Any?]) -> [UInt8] {
    let present = object.compactMapValues { $0 }
    return Array((try? JSONSerialization.data(withJSONObject: present, options: [.sortedKeys])) ?? Data())
}

func seg(_ text: String) -> String { PlatformClient.segment(text) }

extension PlatformCommand {
    struct Login: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a platform token and store it, mode 0600, as docker login stores credentials.",
            discussion: """
                The token is read from stdin, never from the command line, and kept in ~/.agnost/platforms.json \
                ($AGNOST_CONFIG/platforms.json), or in the credential helper that file names. Commands that reach \
                the platform find it there by its address; AGNOST_PLATFORM_TOKEN, when set, goes first.
                """
        )

        @Argument(help: ArgumentHelp("The platform, such as http://127.0.0.1:8090.", valueName: "url"))
        var url: String

        @Flag(help: "Read the token from stdin (required).")
        var tokenStdin = false

        func validate() throws {
            guard tokenStdin else {
                throw ValidationError(
                    "pass the token on stdin with --token-stdin, so that it stays out of shell history"
                )
            }
            _ = try PlatformCredentials.parse(url)
        }

        func run() async throws {
            let token = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw ValidationError("stdin held no token") }
            let client = try PlatformCredentials.make(try PlatformCredentials.parse(url), token)
            _ = try await Console.platform { () async throws(PlatformClientError) in
                try await client.call("GET", "/apps?limit=1")
            }
            var config = try PlatformCredentials.config()
            do throws(RegistryError) {
                try config.store(
                    RegistryCredentials(username: RegistryCredentials.identityTokenUsername, secret: token),
                    for: client.url,
                    environment: PlatformCredentials.environment
                )
            } catch {
                Console.error(error.description)
                throw ExitCode.failure
            }
            Console.status("logged in to \(client.url); the token is stored in \(PlatformCredentials.path)")
        }
    }

    struct Logout: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget the token stored for a platform.")

        @Argument(help: ArgumentHelp("The platform to forget.", valueName: "url"))
        var url: String

        func run() throws {
            let normalized = try PlatformCredentials.parse(url)
            var config = try PlatformCredentials.config()
            do throws(RegistryError) {
                let erased = try config.erase(registryKey: normalized, environment: PlatformCredentials.environment)
                Console.status(erased ? "forgot the token for \(normalized)" : "no token was stored for \(normalized)")
            } catch {
                Console.error(error.description)
                throw ExitCode.failure
            }
        }
    }

    // MARK: Apps

    struct Apps: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the apps, or create one (admin).",
            subcommands: [List.self, Create.self],
            defaultSubcommand: List.self
        )

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The apps the token may see.")
            @OptionGroup var platform: PlatformOptionGroup
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let answer = try await PlatformCall(platform).callAndExit("GET", "/apps?limit=500")
                try output.show(answer, as: PlatformViews.Page<PlatformViews.App>.self, context: "GET /apps") {
                    Table.lines(["NAME", "DESCRIPTION"], $0.items.map { [$0.name, $0.description] })
                }
            }
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create an app.")
            @OptionGroup var platform: PlatformOptionGroup
            @OptionGroup var output: OutputOptions
            @Argument(help: "The app's name, as agnost.yaml's app: names it.") var name: String
            @Option(help: "What the app is for.") var description: String?

            func run() async throws {
                let answer = try await PlatformCall(platform).callAndExit(
                    "POST",
                    "/apps",
                    body: json(["name": name, "description": description])
                )
                try output.show(answer, as: PlatformViews.App.self, context: "POST /apps") {
                    ["created app \($0.name)"]
                }
            }
        }
    }

    // MARK: Versions

    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List an app's versions, show one, or upload an agnost.yaml as one (deployer).",
            subcommands: [List.self, Show.self, Upload.self],
            defaultSubcommand: List.self
        )

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "An app's versions.")
            @OptionGroup var platform: PlatformOptionGroup
            @OptionGroup var output: OutputOptions
            @Option(help: "The app.") var app: String

            func run() async throws {
                let path = "/apps/\(seg(app))/versions"
                let answer = try await PlatformCall(platform).callAndExit("GET", path + "?limit=500")
                try output.show(answer, as: PlatformViews.Page<PlatformViews.Version>.self, context: "GET \(path)") {
                    Table.lines(
                        ["VERSION", "STATE", "LINKS", "SPEC"],
                        $0.items.map { version in
                            [
                                version.name, version.state,
                                version.links.sorted { $0.key < $1.key }.map { "\($0.key)→\($0.value.resource)" }
                                    .joined(separator: ",").nonEmpty ?? "-",
                                String(version.specDigest.prefix(19)),
                            ]
                        }
                    )
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "One version, with its links.")
            @OptionGroup var platform: PlatformOptionGroup
            @OptionGroup var output: OutputOptions
            @Option(help: "The app.") var app: String
            @Argument(help: "The version.") var version: String

            func run() async throws {
                let path = "/apps/\(seg(app))/versions/\(seg(version))"
                let answer = try await PlatformCall(platform).callAndExit("GET", path)
                try output.show(answer, as: PlatformViews.Version.self, context: "GET \(path)") { version in
                    ["\(version.app)-\(version.name): \(version.state), agnost.yaml \(version.specDigest)"]
                        + version.links.sorted { $0.key < $1.key }.map { declared, link in
                            "  \(declared) → \(link.resource)\(link.app == nil ? " (shared)" : "")"
                        }
                }
            }
        }

        struct Upload: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Register the project's agnost.yaml as the version it names; it is checked there first."
            )
            @OptionGroup var platform: PlatformOptionGroup
            @OptionGroup var output: OutputOptions
            @OptionGroup var project: ProjectOptions

            func run() async throws {
                let spec = try project.checkedSpec()
                let file = project.project.directory.appendingPathComponent("agnost.yaml")
                guard let text = try? String(contentsOf: file, encoding: .utf8) else {
                    throw ValidationError("cannot read \(project.specDisplayPath)")
                }
                let path = "/apps/\(seg(spec.app))/versions"
                let answer = try await PlatformCall(platform).callAndExit(
                    "POST",
                    path,
                    body: Array(text.utf8),
                    contentType: "application/yaml"
                )
                try output.show(answer, as: PlatformViews.Version.self, context: "POST \(path)") {
                    ["registered version \($0.name) of app \($0.app)"]
                }
            }
        }
    }

    // MARK: Resources

    struct Resources: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add, list, check and remove the resources versions link to.",
            subcommands: [List.self, Add.self, Check.self, Remove.self],
            defaultSubcommand: List.self
        )

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "An app's resources, or the shared ones.")
            @OptionGroup var platform: PlatformOptionGroup
            @OptionGroup var output: OutputOptions
            @Option(help: "The app whose resources to list; without it, the shared ones.") var app: String?

            func run() async throws {
                let answer = try await PlatformCall(platform).callAndExit(
                    "GET",
                    "/resources" + query([("app", app), ("limit", "500")])
                )
                try output.show(answer, as: PlatformViews.Page<PlatformViews.Resource>.self, context: "GET /resources")
                {
                    Table.lines(["NAME", "TYPE", "ENDPOINT", "REACHABLE"], $0.items.map(Resources.row))
                }
            }
        }

        static func row(_ resource: PlatformViews.Resource) -> [String] {
            let endpoint = resource.host.map { host in resource.port.map { "\(host):\($0)" } ?? host } ?? "(uri)"
            let reachable = resource.reachability.map { $0.reachable ? "yes" : "no: \($0.detail)" } ?? "-"
            return [resource.name, resource.type, endpoint, reachable]
        }

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add a resource (admin) and check that it answers.",
                discussion: """
                    A password or a whole connection URI is read from stdin (--password-stdin, --uri-stdin), never \
                    from the command line; the platform seals it and never shows it again.
                    """
            )
            @OptionGroup var platform: PlatformOptionGroup
            @OptionGroup var output: OutputOptions
            @Argument(help: "The resource's name.") var name: String
            @Option(help: "mongodb, postgres, redis, rabbitmq or s3.") var type: String
            @Option(help: "The app it belongs to; without it, shared by every app.") var app: String?
            @Option var host: String?
            @Option var port: Int?
            @Option var database: String?
            @Option var user: String?
            @Flag(help: "Connect with TLS.") var tls = false
            @Option(help: ArgumentHelp("A driver option, repeatable.", valueName: "name=value")) var option: [String] =
                []
            @Flag(help: "Read the password from stdin.") var passwordStdin = false
            @Flag(help: "Read a whole connection URI from stdin.") var uriStdin = false

            func validate() throws {
                guard !(passwordStdin && uriStdin) else {
                    throw ValidationError("stdin holds one secret: give --password-stdin or --uri-stdin, not both")
                }
                guard host != nil || uriStdin else {
                    throw ValidationError("give the resource's --host, or its URI with --uri-stdin")
                }
                for pair in option where !pair.contains("=") {
                    throw ValidationError("--option takes name=value; '\(pair)' has no '='")
                }
            }

            func run() async throws {
                var secret: String?
                if passwordStdin || uriStdin {
                    secret = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                        .trimmingCharacters(in: .newlines)
                }
                let options = Dictionary(
                    option.map { pair in
                        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                        return (String(parts[0]), String(parts[1]))
                    },
                    uniquingKeysWith: { _, last in last }
                )
                let body = json([
                    "name": name, "type": type, "app": app, "host": host, "port": port, "database": database,
                    "user": user, "tls": tls, "options": options.isEmpty ? nil : options,
                    "password": passwordStdin ? secret : nil, "uri": uriStdin ? secret : nil,
                ])
                let answer = try await PlatformCall(platform).callAndExit("POST", "/resources", body: body)
                try output.show(answer, as: PlatformViews.Resource.self, context: "POST /resources") { resource in
                    ["added resource \(resource.name)"]
                        + Table.lines(["NAME", "TYPE", "ENDPOINT", "REACHABLE"], [Resources.row(resource)])
                }
            }
        }

        struct Check: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Check again that a resource answers.")
            @OptionGroup var platform: PlatformOptionGroup
            @OptionGroup var output: OutputOptions
            @Argument(help: "The resource's name.") var name: String
            @Option(help: "The app it belongs to; without it, a shared one.") var app: String?

            func run() async throws {
                let path = "/resources/\(seg(name))/check"
                let answer = try await PlatformCall(platform).callAndExit("POST", path + query([("app", app)]))
                try output.show(answer, as: PlatformViews.Resource.self, context: "POST \(path)") {
                    Table.lines(["NAME", "TYPE", "ENDPOINT", "REACHABLE"], [Resources.row($0)])
                }
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Remove a resource (admin) that no version links to."
            )
            @OptionGroup var platform: PlatformOptionGroup
            @Argument(help: "The resource's name.") var name: String
            @Option(help: "The app it belongs to; without it, a shared one.") var app: String?

            func run() async throws {
                _ = try await PlatformCall(platform).callAndExit(
                    "DELETE",
                    "/resources/\(seg(name))" + query([("app", app)])
                )
                Console.status("removed resource \(name)")
            }
        }
    }

    // MARK: Links, keys, deployments

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Link a resource name a version declares to a resource of the same type (deployer)."
        )
        @OptionGroup var platform: PlatformOptionGroup
        @OptionGroup var output: OutputOptions
        @Option(help: "The app.") var app: String
        @Option(help: "The version.") var version: String
        @Argument(help: "The name under resources: in the version's agnost.yaml.") var declared: String
        @Argument(help: "The resource: the app's own, else a shared one.") var resource: String

        func run() async throws {
            let path = "/apps/\(seg(app))/versions/\(seg(version))/links/\(seg(declared))"
            // The link is made on the version as it is now; a change made in between is never overwritten.
            let answer = try await PlatformCall(platform).callAndExit(
                "PUT",
                path,
                body: json(["resource": resource]),
                headers: [("If-Match", "*")]
            )
            try output.show(answer, as: PlatformViews.Version.self, context: "PUT \(path)") { _ in
                ["linked \(declared) of \(app)-\(version) to resource \(resource)"]
            }
        }
    }

    struct Keys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, create and revoke the API keys of a version's endpoints.",
            subcommands: [List.self, Create.self, Revoke.self],
            defaultSubcommand: List.self
        )

        struct Version: ParsableArguments {
            @Option(help: "The app.") var app: String
            @Option(help: "The version.") var version: String
            var path: String { "/apps/\(seg(app))/versions/\(seg(version))/keys" }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A version's keys, without the keys themselves.")
            @OptionGroup var platform: PlatformOptionGroup
            @OptionGroup var output: OutputOptions
            @OptionGroup var version: Version

            func run() async throws {
                let answer = try await PlatformCall(platform).callAndExit("GET", version.path + "?limit=500")
                try output.show(answer, as: PlatformViews.Page<PlatformViews.Key>.self, context: "GET \(version.path)")
                {
                    Table.lines(
                        ["NAME", "VALID", "CREATED"],
                        $0.items.map { [$0.name, $0.valid ? "yes" : "no", $0.createdAt.formatted(.iso8601)] }
                    )
                }
            }
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Create a key (deployer); it is printed this once, on stdout, and reaches the version at its next deployment."
            )
            @OptionGroup var platform: PlatformOptionGroup
            @OptionGroup var output: OutputOptions
            @OptionGroup var version: Version
            @Argument(help: "The key's name.") var name: String

            func run() async throws {
                let answer = try await PlatformCall(platform).callAndExit(
                    "POST",
                    version.path,
                    body: json(["name": name])
                )
                try output.show(answer, as: PlatformViews.CreatedKey.self, context: "POST \(version.path)") { created in
                    Console.status("created key \(created.record.name); it is shown this once:")
                    return [created.key]
                }
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revoke a key (deployer); it stops working at the version's next deployment."
            )
            @OptionGroup var platform: PlatformOptionGroup
            @OptionGroup var version: Version
            @Argument(help: "The key's name.") var name: String

            func run() async throws {
                _ = try await PlatformCall(platform).callAndExit("DELETE", version.path + "/\(seg(name))")
                Console.status("revoked key \(name)")
            }
        }
    }

    struct Deployments: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A version's deployments, or one with its progress lines."
        )
        @OptionGroup var platform: PlatformOptionGroup
        @OptionGroup var output: OutputOptions
        @Option(help: "The app.") var app: String
        @Option(help: "The version.") var version: String
        @Argument(help: "A deployment's id, to show it whole.") var id: String?

        func run() async throws {
            let path = "/apps/\(seg(app))/versions/\(seg(version))/deployments"
            let call = try PlatformCall(platform)
            if let id {
                let answer = try await call.callAndExit("GET", path + "/\(seg(id))")
                try output.show(answer, as: PlatformViews.Deployment.self, context: "GET \(path)/\(id)") { deployment in
                    var lines = ["\(deployment.id): \(deployment.outcome) \(deployment.image)"]
                    if let revision = deployment.revision { lines.append("revision: \(revision)") }
                    if let url = deployment.url { lines.append("url: \(url)") }
                    if let reason = deployment.reason { lines.append("reason: \(reason)") }
                    if let message = deployment.message { lines.append("message: \(message)") }
                    return lines + deployment.progress.map { "  \($0)" }
                }
                return
            }
            let answer = try await call.callAndExit("GET", path + "?limit=500")
            try output.show(answer, as: PlatformViews.Page<PlatformViews.Deployment>.self, context: "GET \(path)") {
                Table.lines(
                    ["ID", "OUTCOME", "REVISION", "BY"],
                    $0.items.map {
                        [$0.id, $0.outcome + ($0.reason.map { " (\($0))" } ?? ""), $0.revision ?? "-", $0.requestedBy]
                    }
                )
            }
        }
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
