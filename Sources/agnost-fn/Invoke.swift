import AgnostCompiler
import AgnostHTTP
import AgnostKnative
import AgnostPipeline
import AgnostSpec
import ArgumentParser
import Foundation

struct Invoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call an endpoint of the app and print the response.",
        discussion: """
            The method and path come from the endpoint's definition in agnost.yaml; --param fills its :params. \
            The status line (and, with -v, the headers) goes to stderr and the body to stdout, so it pipes into jq. \
            Exits 1 when the status is 400 or above. With --deployed it calls the deployed version at its \
            Service URL; with --target as well (an ingress address, such as Kourier's node port), it sends the \
            Service's host name in the Host header, or --host-header's.
            """
    )

    @OptionGroup var project: ProjectOptions

    @Argument(help: "The endpoint's name in agnost.yaml.")
    var endpoint: String

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

    func run() async throws {
        let spec = try project.checkedSpec()
        var target = self.target ?? "http://127.0.0.1:8080"
        var host = hostHeader
        if deployed {
            let service = spec.serviceName
            let deployer = try cluster.deployer()
            let state = try await Console.cluster(checkWith: "agnost-fn status") { () async throws(DeployError) in
                try await deployer.service(service)
            }
            guard let url = state.status.url, let serviceHost = URLComponents(string: url)?.host else {
                Console.error("Service \(service) has no URL yet; see agnost-fn status")
                throw ExitCode.failure
            }
            if self.target == nil {
                target = url
            } else {
                host = host ?? serviceHost
            }
        }
        let request = try makeRequest(spec: spec, target: target, host: host)
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
        if isatty(STDOUT_FILENO) != 0, response.body.last != UInt8(ascii: "\n") {
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
        if response.status >= 400 { throw ExitCode.failure }
    }

    private func makeRequest(spec: AppSpec, target: String, host: String?) throws -> HTTPClientRequest {
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
                guard (try? JSONSerialization.jsonObject(with: Data(body!), options: .fragmentsAllowed)) != nil else {
                    throw ValidationError(
                        "--data is not valid JSON; fix it, or name its type with -H 'Content-Type: …' to send it as is"
                    )
                }
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
