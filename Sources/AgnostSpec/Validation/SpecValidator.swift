/// Stage 3: the rules that relate several values of a decoded agnost.yaml to each other.
enum SpecValidator {
    /// The Service is `<app>-<version>` and deploy names its revisions `<service>-<7 hex digits>`, and Knative
    /// keeps revision names within a 63-character DNS label: 63 - 8 leaves 55 for `<app>-<version>`.
    static let maximumServiceNameLength = 55

    static func validate(_ spec: DecodedSpec, diagnostics: inout DiagnosticCollector) {
        checkServiceName(of: spec, diagnostics: &diagnostics)
        checkDeclaresWork(spec, diagnostics: &diagnostics)
        for kind in ItemKind.allCases {
            checkUniqueNames(spec.names[kind, default: []], kind: kind, diagnostics: &diagnostics)
        }
        checkRoutes(of: spec.endpoints, diagnostics: &diagnostics)
        checkMiddlewareReferences(of: spec, diagnostics: &diagnostics)
        checkEndpointTimeouts(of: spec, diagnostics: &diagnostics)
        checkDeadLetterQueues(of: spec, diagnostics: &diagnostics)
        checkEventObjectNames(of: spec, diagnostics: &diagnostics)
    }

    /// Deploy makes a PingSource `<app>-<version>-cron-<job>` per enabled cron job and a Trigger
    /// `<app>-<version>-queue-<queue>` per queue; Kubernetes limits object names to 63 characters.
    private static func checkEventObjectNames(of spec: DecodedSpec, diagnostics: inout DiagnosticCollector) {
        guard let app = spec.app, let version = spec.version else { return }
        let service = "\(app.value)-\(version.value)"
        // A service name over its own limit has its error already.
        guard service.count <= maximumServiceNameLength else { return }
        let limit = NameRule.maximumLength
        let named =
            spec.cronJobs.filter(\.enabled).map { ("cron job", "PingSource", "\(service)-cron-", $0.name) }
            + spec.queues.map { ("queue", "Trigger", "\(service)-queue-", $0.name) }
        for (what, kind, prefix, name) in named where prefix.count + name.value.count > limit {
            let room = limit - prefix.count
            let fix =
                room > 0
                ? "shorten the \(what)'s name to at most \(room) character\(room == 1 ? "" : "s"), or the app name or "
                    + "version"
                : "shorten the app name or version"
            diagnostics.error(
                "\(what) '\(name.value)' makes the \(kind) \(prefix)\(name.value), "
                    + "\(prefix.count + name.value.count) characters long, and Kubernetes limits names to \(limit); "
                    + fix,
                at: name.location
            )
        }
    }

    private static func checkDeadLetterQueues(of spec: DecodedSpec, diagnostics: inout DiagnosticCollector) {
        let defined = spec.names[.queue, default: []].map(\.value)
        for queue in spec.queues {
            guard let target = queue.deadLetter else { continue }
            if target.value == queue.name.value {
                diagnostics.error(
                    "queue '\(queue.name.value)' cannot be its own dead-letter queue: a message that keeps failing "
                        + "would never leave it; name another queue or remove 'deadLetter'",
                    at: target.location
                )
            } else if !defined.contains(target.value) {
                let hint = Suggestion.hint(
                    for: target.value,
                    among: defined.filter { $0 != queue.name.value },
                    otherwise: "define it under 'queues'"
                )
                diagnostics.error("undefined dead-letter queue '\(target.value)'\(hint)", at: target.location)
            }
        }
    }

    private static func checkServiceName(of spec: DecodedSpec, diagnostics: inout DiagnosticCollector) {
        guard let app = spec.app, let version = spec.version else { return }
        let serviceName = "\(app.value)-\(version.value)"
        guard serviceName.count > maximumServiceNameLength else { return }
        diagnostics.error(
            "service name '\(serviceName)' (<app>-<version>) is \(serviceName.count) characters long; the limit is "
                + "\(maximumServiceNameLength), because each revision is named <app>-<version>-<7-character hash> "
                + "and Knative limits names to 63 characters; shorten the version or the app name",
            at: version.location
        )
    }

    private static func checkDeclaresWork(_ spec: DecodedSpec, diagnostics: inout DiagnosticCollector) {
        guard !spec.declaresWork else { return }
        diagnostics.warning(
            "this version declares no endpoints, queues or cron jobs, so its service has nothing to run",
            at: spec.location
        )
    }

    /// Every repeat of a name is an error, with a note at its first definition.
    private static func checkUniqueNames(
        _ names: [Located<String>],
        kind: ItemKind,
        diagnostics: inout DiagnosticCollector
    ) {
        var firstDefinitions: [String: SourceLocation] = [:]
        for name in names {
            guard let first = firstDefinitions[name.value] else {
                firstDefinitions[name.value] = name.location
                continue
            }
            diagnostics.error(
                "duplicate \(kind.rawValue) name '\(name.value)'; rename one of them",
                at: name.location,
                note: "first defined here",
                at: first
            )
        }
    }

    /// Two endpoints conflict when a request could match both: same method and same path once parameter names
    /// are ignored.
    private static func checkRoutes(of endpoints: [DecodedEndpoint], diagnostics: inout DiagnosticCollector) {
        var firstByRoute: [Route: DecodedEndpoint] = [:]
        for endpoint in endpoints {
            let route = Route(method: endpoint.spec.method, shape: endpoint.spec.path.shape)
            guard let first = firstByRoute[route] else {
                firstByRoute[route] = endpoint
                continue
            }
            diagnostics.error(
                "endpoint '\(endpoint.spec.name.value)' (\(endpoint.spec.method) \(endpoint.spec.path)) matches the "
                    + "same requests as endpoint '\(first.spec.name.value)' (\(first.spec.method) \(first.spec.path)); "
                    + "change the method or the path",
                at: endpoint.pathLocation,
                note: "endpoint '\(first.spec.name.value)' is defined here",
                at: first.pathLocation
            )
        }
    }

    private struct Route: Hashable {
        var method: HTTPMethod
        var shape: [String?]
    }

    private static func checkMiddlewareReferences(of spec: DecodedSpec, diagnostics: inout DiagnosticCollector) {
        let defined = spec.names[.middleware, default: []].map(\.value)
        var used: Set<String> = []
        for references in spec.middlewareReferences {
            var listed: Set<String> = []
            for reference in references {
                guard listed.insert(reference.value).inserted else {
                    diagnostics.error(
                        "middleware '\(reference.value)' is listed twice on this endpoint; remove the repeat",
                        at: reference.location
                    )
                    continue
                }
                guard defined.contains(reference.value) else {
                    let hint = Suggestion.hint(
                        for: reference.value,
                        among: defined,
                        otherwise: "define it under 'middlewares'"
                    )
                    diagnostics.error("undefined middleware '\(reference.value)'\(hint)", at: reference.location)
                    continue
                }
                used.insert(reference.value)
            }
        }
        for middleware in spec.middlewares where !used.contains(middleware.name.value) {
            diagnostics.warning(
                "middleware '\(middleware.name.value)' is not used by any endpoint; add it to an endpoint's "
                    + "'middlewares' or remove it",
                at: middleware.name.location
            )
        }
    }

    /// Knative ends a request at `scaling.timeout`, so a longer endpoint timeout never takes effect.
    private static func checkEndpointTimeouts(of spec: DecodedSpec, diagnostics: inout DiagnosticCollector) {
        let limit = spec.scaling.timeout
        for endpoint in spec.endpoints {
            guard let timeout = endpoint.spec.timeout, let location = endpoint.timeoutLocation, timeout > limit else {
                continue
            }
            diagnostics.warning(
                "endpoint timeout \(DurationSyntax.format(timeout)) is longer than scaling.timeout "
                    + "\(DurationSyntax.format(limit)); Knative ends the request after \(DurationSyntax.format(limit)), "
                    + "so raise scaling.timeout or lower this timeout",
                at: location
            )
        }
    }
}

extension RoutePath {
    /// The path with parameter names erased (nil), which is what a router tells apart.
    fileprivate var shape: [String?] {
        segments.map { segment in
            guard case .literal(let text) = segment else { return nil }
            return text
        }
    }
}
