import AgnostBundle
import AgnostCompiler
import AgnostEvents
import AgnostSpec
import Foundation

/// One event hub's lifetime within a local run: the hub, and the servers it delivers to as the project is
/// rebuilt. A rebuild that changes the queues or cron jobs ends the session, and the run starts a new hub on the
/// same log.
struct LocalRunSession: Sendable {
    let workflow: Workflow
    let project: Project
    let options: LocalRunOptions
    let state: LocalState
    let internalToken: String
    let events: @Sendable (LocalRunEvent) -> Void

    enum Outcome: Sendable {
        /// The run is over, with the server's exit status (130 when it was cancelled).
        case ended(Int32)
        /// A rebuild changed what the hub serves; `fingerprint` is the project's after it.
        case eventsChanged(BuildResult, fingerprint: SourceFingerprint?)
    }

    /// Where deliveries go: loopback even when the server binds every address.
    private var serverURL: String {
        let host = options.host == "0.0.0.0" ? "127.0.0.1" : options.host == "::" ? "::1" : options.host
        return "http://\(host.contains(":") ? "[\(host)]" : host):\(options.port)"
    }

    func serve(_ bundle: BuildResult, fingerprint: SourceFingerprint?) async throws(PipelineError) -> Outcome {
        let service = bundle.manifest.serviceName
        let configuration = EventHubConfiguration(
            manifest: bundle.manifest,
            stateDirectory: state.eventsDirectory(of: service),
            serverURL: nil,
            internalToken: internalToken
        )
        do {
            return try await withEventHub(configuration) { hub in
                let ingressURL = await hub.ingressURL
                events(.hubStarted(ingressURL: ingressURL, stateDirectory: configuration.stateDirectory.path))
                try state.record(
                    LocalState.RunningServer(
                        pid: getpid(),
                        service: service,
                        serverURL: serverURL,
                        ingressURL: ingressURL
                    )
                )
                defer { state.forget(service) }
                let relay = Task { [events] in
                    for await event in hub.events { events(.hub(event)) }
                }
                defer { relay.cancel() }
                return try await superviseServers(bundle, fingerprint: fingerprint, hub: hub, ingressURL: ingressURL)
            }
        } catch let error as PipelineError {
            throw error
        } catch let error as EventHubError {
            throw PipelineError(error)
        } catch {
            throw PipelineError(.configuration, "\(error)", context: nil, underlying: error)
        }
    }

    private func superviseServers(
        _ first: BuildResult,
        fingerprint initial: SourceFingerprint?,
        hub: EventHub,
        ingressURL: String
    ) async throws(PipelineError) -> Outcome {
        var bundle = first
        var fingerprint = initial
        var server: SupervisedProcess? = try await startServer(
            bundle,
            environment: try serverEnvironment(bundle, ingressURL: ingressURL),
            hub: hub
        )
        while true {
            if Task.isCancelled {
                return .ended(await stop(server, hub: hub) ?? 130)
            }
            if let running = server, running.hasExited {
                await hub.setServerURL(nil)
                let status = await running.exitStatus()
                events(.serverExited(status: status))
                server = nil
                if !options.watch { return .ended(status) }
            }
            try? await Task.sleep(for: options.pollInterval)
            guard options.watch, !Task.isCancelled else { continue }
            guard let current = try? SourceFingerprint(project: project.directory, specFile: "agnost.yaml"),
                current != fingerprint
            else { continue }
            fingerprint = current
            events(.rebuilding)
            let rebuilt: BuildResult
            do {
                rebuilt = try await offCooperativePool { [workflow, project, options] () throws(PipelineError) in
                    try workflow.build(project, configuration: options.configuration, verbose: options.verbose)
                }
            } catch {
                events(.rebuildFailed(error))
                continue
            }
            if rebuilt.upToDate && server != nil {
                events(.rebuildUnchanged)
                continue
            }
            // Checked before the running server stops: a settings file with errors keeps it serving.
            let environment: [String: String]
            do {
                environment = try serverEnvironment(rebuilt, ingressURL: ingressURL)
            } catch {
                events(.rebuildFailed(error))
                continue
            }
            _ = await stop(server, hub: hub)
            guard Self.sameEvents(rebuilt.manifest, bundle.manifest) else {
                return .eventsChanged(rebuilt, fingerprint: current)
            }
            bundle = rebuilt
            server = try await startServer(bundle, environment: environment, hub: hub)
        }
    }

    /// Whether a hub made for `old` serves `new` as well: the same version, queues and cron jobs.
    private static func sameEvents(_ new: BundleManifest, _ old: BundleManifest) -> Bool {
        new.serviceName == old.serviceName && new.queues == old.queues && new.cronJobs == old.cronJobs
    }

    /// The server's environment: the run's own variables, the settings file's resource variables (read at each
    /// start, so that an edit takes effect at the next restart), and what connects it to the hub.
    private func serverEnvironment(
        _ bundle: BuildResult,
        ingressURL: String
    ) throws(PipelineError) -> [String: String] {
        let resources = try workflow.localResourceVariables(project, manifest: bundle.manifest)
        if !resources.unset.isEmpty {
            events(
                .resourcesWithoutSettings(resources.unset, file: project.displayPath(of: ResourceSettingsFile.fileName))
            )
        }
        var environment = resources.variables.merging(options.environment) { _, given in given }
        environment["PORT"] = String(options.port)
        environment["AGNOST_HOST"] = options.host
        environment["AGNOST_BUNDLE"] = bundle.bundleDirectory.appendingPathComponent("bundle.json").path
        environment[EventContract.brokerURLVariable] = ingressURL
        environment[EventContract.internalTokenVariable] = internalToken
        return environment
    }

    private func startServer(
        _ bundle: BuildResult,
        environment: [String: String],
        hub: EventHub
    ) async throws(PipelineError) -> SupervisedProcess {
        let server: SupervisedProcess
        do throws(CompilerError) {
            server = try SupervisedProcess.start(
                bundle.bundleDirectory.appendingPathComponent("server").path,
                environment: environment
            )
        } catch {
            throw PipelineError(error)
        }
        events(.serverStarted(service: bundle.manifest.serviceName, url: serverURL, pid: server.pid))
        // Deliveries start once the server accepts connections, not before: a message sent to a server still
        // starting would fail and wait out a backoff.
        if await Self.waitUntilListening(port: options.port, server: server, host: options.host) {
            await hub.setServerURL(serverURL)
        }
        return server
    }

    /// SIGTERM, then the server drains in-flight requests; nil when there was no server. Deliveries wait meanwhile.
    private func stop(_ server: SupervisedProcess?, hub: EventHub) async -> Int32? {
        await hub.setServerURL(nil)
        guard let server else { return nil }
        if !server.hasExited {
            events(.stoppingServer)
            server.signal(SIGTERM)
        }
        return await server.exitStatus()
    }

    /// Tries to connect every 20 ms for up to a minute; false when the server exited first or never listened.
    private static func waitUntilListening(port: Int, server: SupervisedProcess, host: String) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, !server.hasExited, !Task.isCancelled {
            if accepts(port: port, host: host) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    private static func accepts(port: Int, host: String) -> Bool {
        let target = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(target, String(port), &hints, &found) == 0, let address = found else { return false }
        defer { freeaddrinfo(found) }
        let probe = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
        guard probe >= 0 else { return false }
        defer { close(probe) }
        return connect(probe, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0
    }
}

extension PipelineError {
    init(_ error: EventHubError) {
        self.init(.events, error.message, context: error.context, underlying: error)
    }
}
