import AgnostBundle
import AgnostCompiler
import AgnostEvents
import AgnostHTTP
import AgnostKnative
import AgnostPipeline
import AgnostSpec
import ArgumentParser
import Foundation

struct Invoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call an endpoint of the app, send a message to a queue, or fire a cron job, and print the outcome.",
        discussion: """
            The method and path come from the endpoint's definition in agnost.yaml; --param fills its :params. \
            The status line (and, with -v, the headers) goes to stderr and the body to stdout, so it pipes into jq. \
            Exits 1 when the status is 400 or above. With --deployed it calls the deployed version at its \
            Service URL; with --target as well (an ingress address, such as Kourier's node port), it sends the \
            Service's host name in the Host header, or --host-header's.

            --queue NAME sends --data as a message of that queue through the event hub of the project's running \
            'agnost-fn run', and prints how its first delivery went (the hub retries a failed one); --delay holds \
            it back first. --cron NAME fires that job now, enabled or not. With --deployed, both go straight to \
            the deployed Service's event path, with the internal token from the version's Secret.
            """
    )

    @OptionGroup var project: ProjectOptions

    @Argument(help: "The endpoint's name in agnost.yaml.")
    var endpoint: String?

    @Option(help: ArgumentHelp("Send a message to this queue instead of calling an endpoint.", valueName: "name"))
    var queue: String?

    @Option(help: ArgumentHelp("Fire this cron job now instead of calling an endpoint.", valueName: "name"))
    var cron: String?

    @Option(help: ArgumentHelp("Deliver the message after this long (10s, 2m).", valueName: "duration"))
    var delay: DurationArgument?

    @Option(name: .customLong("param"), help: ArgumentHelp("A path parameter.", valueName: "name=value"))
    var parameters: [String] = []

    @Option(name: .customLong("query"), help: ArgumentHelp("A query parameter.", valueName: "name=value"))
    var queries: [String] = []

    @Option(help: ArgumentHelp("The JSON body, or @FILE to read it from a file.", valueName: "json|@file"))
    var data: String?

    @Option(name: .customShort("H"), help: ArgumentHelp("A request header.", valueName: "'Name: value'"))
    var headers: [String] = []

    @Option(help: "The server to call. Default: http://127.0.0.1:8080, or the Service's URL with --deployed.")
    var target: String?

    @Flag(help: "Call the version deployed on Knative, at its Service's URL.")
    var deployed = false

    @Option(help: ArgumentHelp("The Host header to send, for a cluster reached by an ingress IP.", valueName: "host"))
    var hostHeader: String?

    @OptionGroup var cluster: ClusterOptionGroup

    @Option(help: "An API key, sent as 'Authorization: Bearer'; AGNOST_API_KEY is used when not given.")
    var apiKey: String?

    @Option(help: "Seconds to wait for the response.")
    var timeout: Int = 30

    @Flag(name: .customShort("v"), help: "Print the response headers.")
    var verbose = false

    func validate() throws {
        let targets = [endpoint != nil, queue != nil, cron != nil].filter { $0 }.count
        guard targets == 1 else {
            throw ValidationError("name one endpoint, or give --queue NAME or --cron NAME; not \(targets) of them")
        }
        if delay != nil && queue == nil {
            throw ValidationError("--delay holds back a queue message; give it with --queue NAME")
        }
        if delay != nil && deployed {
            throw ValidationError(
                "--delay needs the event hub, which holds the message back; with --deployed the message goes "
                    + "straight to the Service"
            )
        }
        if cron != nil && data != nil {
            throw ValidationError("--data is a queue message's or an endpoint's body; a cron job takes none")
        }
    }

    func run() async throws {
        let spec = try project.checkedSpec()
        let destination = deployed ? try await deployedDestination(of: spec) : nil
        if queue != nil || cron != nil {
            return try await invokeEvent(spec, deployedAt: destination)
        }
        let request = try makeRequest(
            spec: spec,
            target: destination?.target ?? target ?? "http://127.0.0.1:8080",
            host: destination?.host ?? hostHeader
        )
        let response = try await execute(request)
        if response.status >= 400 { throw ExitCode.failure }
    }

    /// Where a deployed version is reached, and the cluster it is on.
    private struct DeployedDestination {
        var target: String
        var host: String?
        var deployer: Deployer
    }

    private func deployedDestination(of spec: AppSpec) async throws -> DeployedDestination {
        let service = spec.serviceName
        let deployer = try cluster.deployer()
        let state = try await Console.cluster(checkWith: "agnost-fn status") { () async throws(DeployError) in
            try await deployer.service(service)
        }
        guard let url = state.status.url, let serviceHost = URLComponents(string: url)?.host else {
            Console.error("Service \(service) has no URL yet; see agnost-fn status")
            throw ExitCode.failure
        }
        guard let target else { return DeployedDestination(target: url, host: hostHeader, deployer: deployer) }
        return DeployedDestination(target: target, host: hostHeader ?? serviceHost, deployer: deployer)
    }

    /// Prints the status line (and with -v the headers) to stderr and the body to stdout.
    private func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        let response: HTTPClientResponse
        do {
            response = try await withHTTPClient { client in try await client.execute(request) }
        } catch let error as HTTPClientError {
            Console.error(error.message)
            throw ExitCode.failure
        }
        Console.status("\(response.httpVersion) \(response.status) \(response.reason)")
        if verbose {
            for header in response.headers { Console.status("\(header.name): \(header.value)") }
        }
        FileHandle.standardOutput.write(Data(response.body))
        if isatty(STDOUT_FILENO) != 0, !response.body.isEmpty, response.body.last != UInt8(ascii: "\n") {
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
        return response
    }

    // MARK: Queues and cron jobs

    private func invokeEvent(_ spec: AppSpec, deployedAt destination: DeployedDestination?) async throws {
        let manifest = BuildPlan(spec: spec, specDigest: "").manifest
        if let queue, !manifest.queues.contains(where: { $0.name == queue }) {
            throw ValidationError(
                "\(project.specDisplayPath) has no queue '\(queue)'; "
                    + Self.names(manifest.queues.map(\.name), of: "queues")
            )
        }
        if let cron, !manifest.cronJobs.contains(where: { $0.name == cron }) {
            throw ValidationError(
                "\(project.specDisplayPath) has no cron job '\(cron)'; "
                    + Self.names(manifest.cronJobs.map(\.name), of: "cron jobs")
            )
        }
        let (body, contentType) = try messageBody()
        if let destination {
            return try await deliverDirectly(manifest, body: body, contentType: contentType, to: destination)
        }
        let state = LocalState(project: project.project)
        guard let running = state.runningServer(of: manifest.serviceName) else {
            Console.error(
                "no 'agnost-fn run' serves \(manifest.serviceName) from \(project.displayPath) now; start one, "
                    + "or add --deployed to reach the deployed version"
            )
            throw ExitCode.failure
        }
        let hub = HubClient(
            ingressURL: running.ingressURL,
            service: manifest.serviceName,
            internalToken: try Self.internalToken(of: state),
            timeout: .seconds(timeout)
        )
        do {
            if let queue {
                let outcome = try await hub.send(
                    queue: queue,
                    body: body,
                    contentType: contentType,
                    delay: delay?.duration ?? .zero
                )
                try report(outcome, queue: queue, retries: manifest.queues.first { $0.name == queue }?.retries ?? 0)
            } else if let cron {
                let outcome = try await hub.fire(cronJob: cron)
                try report(job: cron, outcome.result, duration: outcome.duration)
            }
        } catch let error as EventHubError {
            Console.error(error.message)
            throw ExitCode.failure
        }
    }

    /// The message's bytes and type: --data as JSON unless -H names another type; `{}` without --data.
    private func messageBody() throws -> (body: [UInt8], contentType: String?) {
        let named = headers.compactMap { header -> String? in
            guard let colon = header.firstIndex(of: ":"),
                header[..<colon].trimmingCharacters(in: .whitespaces).lowercased() == "content-type"
            else { return nil }
            return header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }.last
        guard let data else { return (Array("{}".utf8), "application/json") }
        let body = try readBody(data)
        if let named { return (body, named) }
        try requireJSON(body)
        return (body, "application/json")
    }

    private func report(_ outcome: HubClient.SendOutcome, queue: String, retries: Int) throws {
        let handled = "queue \(queue): message \(outcome.id), attempt \(outcome.attempt)"
        guard let status = outcome.status else {
            Console.error("\(handled) was not delivered: \(outcome.error ?? "no answer"); the hub retries it")
            throw ExitCode.failure
        }
        if EventContract.isAcknowledged(status: status) {
            Console.status("\(handled): handled, \(status)")
            return
        }
        let next =
            EventContract.isRetried(status: status) && retries > 0
            ? "the hub retries it (up to \(retries) more times) and dead-letters it after the last"
            : "a permanent failure: the hub dead-letters it"
        Console.error("\(handled): failed with \(status); \(next)")
        throw ExitCode.failure
    }

    private func report(job: String, _ result: DeliveryOutcome, duration: Duration) throws {
        switch result {
        case .status(let status) where EventContract.isAcknowledged(status: status):
            Console.status("cron \(job): \(status) in \(Console.format(duration))")
        case .status(let status):
            Console.error("cron \(job): failed with \(status) in \(Console.format(duration))")
            throw ExitCode.failure
        case .transportError(let reason):
            Console.error("cron \(job): not delivered: \(reason)")
            throw ExitCode.failure
        }
    }

    /// To the deployed Service's own event path, with its internal token: as the Broker or a PingSource would,
    /// without either.
    private func deliverDirectly(
        _ manifest: BundleManifest,
        body: [UInt8],
        contentType: String?,
        to destination: DeployedDestination
    ) async throws {
        let service = manifest.serviceName
        let secret = try await Console.cluster(checkWith: "agnost-fn status") { () async throws(DeployError) in
            try await destination.deployer.secretData(of: service)
        }
        guard let token = secret?.internalToken, !token.isEmpty else {
            Console.error("the Secret \(service) holds no internal token; deploy the version again to make one")
            throw ExitCode.failure
        }
        var request: HTTPClientRequest
        if let queue {
            request = EventRequests.queueMessage(
                queue: queue,
                service: service,
                url: String(destination.target.reversed().drop { $0 == "/" }.reversed())
                    + EventContract.queuePath(queue),
                body: body,
                contentType: contentType,
                credential: .internalToken(token),
                timeout: .seconds(timeout)
            )
        } else {
            let job = manifest.cronJobs.first { $0.name == cron }!
            request = EventRequests.cronTick(
                job,
                service: service,
                namespace: destination.deployer.namespace,
                server: destination.target,
                scheduledAt: Date(),
                credential: .internalToken(token)
            )
        }
        if let host = destination.host { request.headers.append(("Host", host)) }
        let response = try await execute(request)
        if !EventContract.isAcknowledged(status: response.status) { throw ExitCode.failure }
    }

    private static func internalToken(of state: LocalState) throws -> String {
        do throws(PipelineError) {
            return try state.internalToken()
        } catch {
            throw Console.fail(error)
        }
    }

    private static func names(_ names: [String], of kind: String) -> String {
        names.isEmpty ? "it has no \(kind)" : "its \(kind) are: " + names.joined(separator: ", ")
    }

    private func makeRequest(spec: AppSpec, target: String, host: String?) throws -> HTTPClientRequest {
        let endpoint = endpoint ?? ""
        guard let definition = spec.endpoint(named: endpoint) else {
            let names = spec.endpoints.map(\.name.value).joined(separator: ", ")
            throw ValidationError(
                "\(project.specDisplayPath) has no endpoint '\(endpoint)'; its endpoints are: \(names)"
            )
        }
        let path: String
        do {
            path = try definition.path.filled(with: try pairs(parameters, option: "--param"))
        } catch let error as RoutePathError {
            throw ValidationError("\(endpoint) is \(definition.method.rawValue) \(definition.path.raw): \(error)")
        }
        var url = target
        while url.hasSuffix("/") { url.removeLast() }
        url += path
        let query = try queries.map { entry in
            let (name, value) = try pair(entry, option: "--query")
            return "\(Self.encodeQueryComponent(name))=\(Self.encodeQueryComponent(value))"
        }
        if !query.isEmpty { url += "?" + query.joined(separator: "&") }

        var requestHeaders: [(name: String, value: String)] = []
        for header in headers {
            guard let colon = header.firstIndex(of: ":") else {
                throw ValidationError("-H '\(header)' needs the form 'Name: value'")
            }
            let name = header[..<colon].trimmingCharacters(in: .whitespaces)
            let value = header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            requestHeaders.append((name, value))
        }
        if let host { requestHeaders.append(("Host", host)) }
        if let key = apiKey ?? ProcessInfo.processInfo.environment["AGNOST_API_KEY"], !key.isEmpty {
            requestHeaders.append(("Authorization", "Bearer \(key)"))
        }
        var body: [UInt8]?
        if let data {
            body = try readBody(data)
            if !requestHeaders.contains(where: { $0.name.lowercased() == "content-type" }) {
                try requireJSON(body!)
                requestHeaders.append(("Content-Type", "application/json"))
            }
        }
        return HTTPClientRequest(
            method: definition.method.rawValue,
            url: url,
            headers: requestHeaders,
            body: body,
            timeout: .seconds(timeout)
        )
    }

    private func requireJSON(_ body: [UInt8]) throws {
        guard (try? JSONSerialization.jsonObject(with: Data(body), options: .fragmentsAllowed)) != nil else {
            throw ValidationError(
                "--data is not valid JSON; fix it, or name its type with -H 'Content-Type: …' to send it as is"
            )
        }
    }

    private func readBody(_ data: String) throws -> [UInt8] {
        guard data.hasPrefix("@") else { return Array(data.utf8) }
        let file = String(data.dropFirst())
        guard let contents = FileManager.default.contents(atPath: file) else {
            throw ValidationError("--data @\(file): cannot read \(file)")
        }
        return Array(contents)
    }

    private func pairs(_ entries: [String], option: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for entry in entries {
            let (name, value) = try pair(entry, option: option)
            result[name] = value
        }
        return result
    }

    private func pair(_ entry: String, option: String) throws -> (String, String) {
        guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
            throw ValidationError("\(option) '\(entry)' needs the form name=value")
        }
        return (String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
    }

    private static func encodeQueryComponent(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
