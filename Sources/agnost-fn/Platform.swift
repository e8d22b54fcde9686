import AgnostKnative
import AgnostPipeline
import AgnostPlatform
import ArgumentParser
import Foundation

struct PlatformCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "platform",
        abstract: "Run the control plane: apps, versions, resources, API keys and deployments behind a REST API.",
        subcommands: [
            Serve.self, NewAdminToken.self, Login.self, Logout.self, Apps.self, Versions.self, Resources.self,
            Link.self, Keys.self, Deployments.self, Tokens.self,
        ]
    )

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the platform's REST API under /v1 on an embedded SQLite store or on MongoDB.",
            discussion: """
                Resource secrets are sealed with the platform key: 32 bytes in base64, from --key-file or \
                AGNOST_PLATFORM_KEY (make one with 'openssl rand -base64 32'). On the first start, on a store \
                without tokens, the admin token is the one AGNOST_PLATFORM_ADMIN_TOKEN holds (make one with \
                'agnost-fn platform new-admin-token'), so that no log shows it; without that variable the platform \
                makes one and prints it once, on standard output. Keep it, as only its hash is stored. Once tokens \
                exist, the variable is ignored. The store may come from AGNOST_PLATFORM_STORE instead of --store, \
                which keeps a MongoDB password out of the process list.
                """
        )

        @Option(help: ArgumentHelp("Where to listen; loopback unless told otherwise.", valueName: "host:port"))
        var listen = "127.0.0.1:8090"

        @Option(
            help: ArgumentHelp(
                "The store: sqlite:PATH (default: platform.sqlite in --data), or a MongoDB connection string "
                    + "(mongodb://… or mongodb+srv://…) for several platform replicas on one replica set; "
                    + "default: AGNOST_PLATFORM_STORE.",
                valueName: "store"
            )
        )
        var store: String?

        @Option(help: ArgumentHelp("The folder of the platform's data.", valueName: "dir"))
        var data = "agnost-platform"

        @Option(help: ArgumentHelp("A file holding the platform key in base64.", valueName: "path"))
        var keyFile: String?

        @OptionGroup(title: "Where versions are deployed (in a pod: its service account and namespace)")
        var cluster: ClusterOptionGroup

        /// `--store`, else `AGNOST_PLATFORM_STORE`, with the name of where it came from.
        private var chosenStore: (value: String, source: String)? {
            if let store { return (store, "--store") }
            return ProcessInfo.processInfo.environment["AGNOST_PLATFORM_STORE"].flatMap {
                $0.isEmpty ? nil : ($0, "AGNOST_PLATFORM_STORE")
            }
        }

        func validate() throws {
            _ = try endpoint()
            if let (store, source) = chosenStore, Self.sqlitePath(store) == nil, !Self.isMongoURI(store) {
                throw ValidationError(
                    "\(source) takes sqlite:PATH or a MongoDB connection string (mongodb://HOST/DATABASE); "
                        // One with an @ may hold a password: not repeated.
                        + (store.contains("@") ? "the one given is neither" : "'\(store)' is neither")
                )
            }
        }

        func run() async throws {
            let sealer: SecretSealer
            do throws(PlatformError) {
                sealer = try loadKey()
            } catch {
                Console.error(error.message)
                throw ExitCode.failure
            }
            let adminToken = try givenAdminToken()
            let (host, port) = try endpoint()
            let configuration = PlatformServerConfiguration(host: host, port: port)
            let deployer = try self.deployer()
            let store = chosenStore?.value
            do {
                try await Interruption.cancellingOnSignals {
                    if let store, Self.isMongoURI(store) {
                        try await withMongoStore(uri: store) { store in
                            try await serve(
                                store,
                                sealer: sealer,
                                cluster: deployer,
                                adminToken: adminToken,
                                configuration,
                                recordsIn: store.location
                            )
                        }
                        return
                    }
                    let path =
                        store.flatMap(Self.sqlitePath) ?? (data as NSString).appendingPathComponent("platform.sqlite")
                    let folder = (path as NSString).deletingLastPathComponent
                    try FileManager.default.createDirectory(
                        atPath: folder.isEmpty ? "." : folder,
                        withIntermediateDirectories: true
                    )
                    try await withSQLiteStore(path: path) { store in
                        try await serve(
                            store,
                            sealer: sealer,
                            cluster: deployer,
                            adminToken: adminToken,
                            configuration,
                            recordsIn: path
                        )
                    }
                }
            } catch let error as PlatformError {
                Console.error(error.message)
                throw ExitCode.failure
            } catch let error as StoreError {
                Console.error(error.message)
                throw ExitCode.failure
            }
        }

        /// Serves the API on `store` until cancelled, after keeping `adminToken` as the first admin token, or making
        /// one, on a store without tokens.
        private func serve(
            _ store: any PlatformStore,
            sealer: SecretSealer,
            cluster: Deployer?,
            adminToken: String?,
            _ configuration: PlatformServerConfiguration,
            recordsIn location: String
        ) async throws {
            let platform = Platform(store: store, sealer: sealer, cluster: cluster)
            if let adminToken {
                Console.status(
                    try await platform.bootstrapAdminToken(adminToken)
                        ? "first start: the admin token is the one \(Self.adminTokenVariable) holds (only its hash is "
                            + "kept)"
                        : "\(Self.adminTokenVariable) is ignored: the platform has tokens already"
                )
            } else if let token = try await platform.bootstrapAdminToken() {
                Console.status("first start: an admin token, shown this once (only its hash is kept):")
                FileHandle.standardOutput.write(Data("\(token)\n".utf8))
            }
            try await withPlatformServer(platform, configuration) { url in
                Console.status("platform on \(url)/v1 (records in \(location); ctrl-c stops it)")
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            }
        }

        private static func sqlitePath(_ store: String) -> String? {
            guard store.hasPrefix("sqlite:"), store.count > "sqlite:".count else { return nil }
            return String(store.dropFirst("sqlite:".count))
        }

        /// A MongoDB connection string, with something after its scheme.
        private static func isMongoURI(_ store: String) -> Bool {
            ["mongodb://", "mongodb+srv://"].contains { store.hasPrefix($0) && store.count > $0.count }
        }

        /// The cluster the options name; without any, the one kubectl would use, if there is one: a platform without
        /// a cluster serves everything but deployments.
        private func deployer() throws -> Deployer? {
            let options = cluster.options
            let named = options.kubeconfig != nil || options.context != nil || options.namespace != nil
            do throws(PipelineError) {
                let deployer = try PipelineConsole.workflow().deployer(options)
                Console.status("deploying to namespace \(deployer.namespace) of \(deployer.client.access.server)")
                return deployer
            } catch {
                guard !named else { throw Console.fail(error) }
                Console.status("no cluster (\(error.message)): deployment requests will be refused")
                return nil
            }
        }

        static let adminTokenVariable = "AGNOST_PLATFORM_ADMIN_TOKEN"

        /// The first admin token an operator made ahead, from `AGNOST_PLATFORM_ADMIN_TOKEN`; nil when it is unset.
        /// One that is set but not a platform token stops the start, as going on would print a token into the log
        /// that the variable was meant to keep it out of; set and empty counts as such.
        private func givenAdminToken() throws -> String? {
            guard let value = ProcessInfo.processInfo.environment[Self.adminTokenVariable] else { return nil }
            // A token read from a file (kubectl --from-file, a mounted Secret) often ends in a newline.
            let token = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard Platform.isWellFormedToken(token) else {
                Console.error(
                    "\(Self.adminTokenVariable) does not hold a platform token (agp_, 16 letters and digits, _, and 43 "
                        + "base64url characters); make one with 'agnost-fn platform new-admin-token', or unset the "
                        + "variable to have the first start make one and print it"
                )
                throw ExitCode.failure
            }
            return token
        }

        private func loadKey() throws(PlatformError) -> SecretSealer {
            if let keyFile {
                guard let text = try? String(contentsOfFile: keyFile, encoding: .utf8) else {
                    throw PlatformError(
                        .invalidKey,
                        "cannot read the platform key file \(keyFile); \(SecretSealer.keyAdvice)",
                        context: keyFile
                    )
                }
                return try SecretSealer(base64Key: text, source: keyFile)
            }
            let text = ProcessInfo.processInfo.environment["AGNOST_PLATFORM_KEY"] ?? ""
            return try SecretSealer(base64Key: text, source: "AGNOST_PLATFORM_KEY (or --key-file)")
        }

        private func endpoint() throws -> (host: String, port: Int) {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
                (0...65_535).contains(port)
            else {
                throw ValidationError("--listen takes host:port, such as 127.0.0.1:8090; not '\(listen)'")
            }
            var host = String(listen[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw ValidationError("--listen needs a host, such as 127.0.0.1:\(port)") }
            return (host, port)
        }
    }
}
