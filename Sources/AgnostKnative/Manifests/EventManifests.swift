import AgnostBundle

/// The Knative Eventing objects of one version: a PingSource per enabled cron job and a Trigger per queue, both
/// delivering to the version's Service on the paths of ``EventContract``.
///
/// ```swift
/// let objects = try EventManifests.render(bundle, options: options)
/// objects.map(\.kind)  // ["PingSource", "Trigger"]
/// ```
public enum EventManifests {
    /// Every PingSource sends a JSON body, so the runtime reads a cron tick like any other request body.
    public static let pingContentType = "application/json"
    /// The first redelivery waits this long, each later one twice as long as the one before (ISO-8601).
    public static let backoffDelay = "PT1S"

    /// The PingSources, then the Triggers, in the order of `agnost.yaml`.
    ///
    /// - Throws: ``ManifestError`` when an object's name would be longer than Kubernetes allows.
    public static func render(
        _ bundle: BundleManifest,
        options: RenderOptions
    ) throws(ManifestError)
        -> [KubernetesObject]
    {
        let service = bundle.serviceName
        let labels = ManifestRenderer.labels(app: bundle.app, version: bundle.version)
        // A render without the Secret's token (no cluster to read it from) leaves the credential out rather than
        // inventing one the Service would refuse.
        let internalToken = options.secret.internalToken
        let cronToken = internalToken.isEmpty ? nil : SenderToken.derive(from: internalToken, for: .cron)
        var objects: [KubernetesObject] = []
        for job in bundle.cronJobs where job.enabled {
            let name = EventContract.pingSourceName(service: service, job: job.name)
            try checkLength(name, kind: "PingSource", of: "cron job '\(job.name)'", context: "cron.\(job.name)")
            var extensions: [(key: String, value: ManifestValue)] = [
                (EventContract.Extension.service, .string(service))
            ]
            if let cronToken { extensions.append((EventContract.Extension.token, .string(cronToken))) }
            objects.append(
                KubernetesObject(
                    apiVersion: ResourceType.pingSource.apiVersion,
                    kind: ResourceType.pingSource.kind,
                    name: name,
                    namespace: options.namespace,
                    labels: labels,
                    content: [
                        (
                            "spec",
                            [
                                "schedule": .string(pingSchedule(job.schedule)),
                                "timezone": .string(job.timezone),
                                "contentType": .string(pingContentType),
                                "data": "{}",
                                "sink": destination(service: service, path: EventContract.cronPath(job.name)),
                                "ceOverrides": ["extensions": .object(extensions)],
                            ]
                        )
                    ]
                )
            )
        }
        for queue in bundle.queues {
            let name = EventContract.triggerName(service: service, queue: queue.name)
            try checkLength(name, kind: "Trigger", of: "queue '\(queue.name)'", context: "queues.\(queue.name)")
            var delivery: [(key: String, value: ManifestValue)] = [
                ("retry", .integer(queue.retries)),
                ("backoffPolicy", "exponential"),
                ("backoffDelay", .string(backoffDelay)),
            ]
            if let deadLetter = queue.deadLetter {
                // A message that fails every delivery becomes a message of the dead-letter queue: the Broker posts
                // it to that queue's path on the same Service. Without `deadLetter` there is no sink here, and
                // the Broker's own delivery defaults decide.
                delivery.append(
                    ("deadLetterSink", destination(service: service, path: EventContract.queuePath(deadLetter)))
                )
            }
            objects.append(
                KubernetesObject(
                    apiVersion: ResourceType.trigger.apiVersion,
                    kind: ResourceType.trigger.kind,
                    name: name,
                    namespace: options.namespace,
                    labels: labels,
                    content: [
                        (
                            "spec",
                            [
                                "broker": .string(options.broker),
                                "filter": [
                                    "attributes": .sortedStrings([
                                        "type": EventContract.queueMessageType,
                                        EventContract.Extension.service: service,
                                        EventContract.Extension.queue: queue.name,
                                    ])
                                ],
                                "subscriber": destination(service: service, path: EventContract.queuePath(queue.name)),
                                "delivery": .object(delivery),
                            ]
                        )
                    ]
                )
            )
        }
        return objects
    }

    /// The address of the multi-tenant channel-based Broker `broker` in `namespace`, as Knative Eventing's default
    /// installation reports it in the Broker's `status.address.url`: what a render without a cluster assumes.
    ///
    /// ```swift
    /// EventManifests.conventionalBrokerURL(namespace: "demo", broker: "default")
    /// // "http://broker-ingress.knative-eventing.svc.cluster.local/demo/default"
    /// ```
    public static func conventionalBrokerURL(namespace: String, broker: String) -> String {
        "http://broker-ingress.knative-eventing.svc.cluster.local/\(namespace)/\(broker)"
    }

    /// `schedule` as PingSource's parser (robfig/cron) takes it: day-of-week 7, which `agnost.yaml` accepts as
    /// Sunday, becomes 0, since robfig accepts 0–6 only. Parts of the day-of-week field without a 7 stay as
    /// written; a part with one is replaced by the days it stands for.
    ///
    /// ```swift
    /// EventManifests.pingSchedule("0 9 * * 7")     // "0 9 * * 0"
    /// EventManifests.pingSchedule("0 9 * * 5-7")   // "0 9 * * 0,5-6"
    /// EventManifests.pingSchedule("0 9 * * 1,7")   // "0 9 * * 1,0"
    /// ```
    public static func pingSchedule(_ schedule: String) -> String {
        let fields = schedule.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5, let dayOfWeek = fields.last else { return schedule }
        let parts = dayOfWeek.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard parts.contains(where: mentionsSeven) else { return schedule }
        let normalised = parts.map { part in
            guard mentionsSeven(part), let days = days(of: part) else { return part }
            return ranges(of: Set(days.map { $0 == 7 ? 0 : $0 }))
        }
        return (fields.dropLast() + [normalised.joined(separator: ",")]).joined(separator: " ")
    }

    // MARK: Helpers

    /// The Service as a sink, at `path` of its address.
    private static func destination(service: String, path: String) -> ManifestValue {
        [
            "ref": [
                "apiVersion": .string(ResourceType.knativeService.apiVersion),
                "kind": .string(ResourceType.knativeService.kind),
                "name": .string(service),
            ],
            "uri": .string(path),
        ]
    }

    private static func checkLength(
        _ name: String,
        kind: String,
        of what: String,
        context: String
    ) throws(ManifestError) {
        let limit = ManifestRenderer.maximumNameLength
        guard name.utf8.count > limit else { return }
        throw ManifestError(
            .invalidName,
            "the \(kind) of \(what) would be named '\(name)', \(name.utf8.count) characters, and Kubernetes allows "
                + "at most \(limit); shorten the name of the \(what), or the app name or version, in agnost.yaml",
            context: context
        )
    }

    private static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    private static func day(_ text: Substring) -> Int? {
        if let number = Int(text), (0...7).contains(number) { return number }
        return dayNames.firstIndex(of: text.uppercased())
    }

    /// Whether a day-of-week part names 7 as a day (a step of 7, `*/7`, is not one).
    private static func mentionsSeven(_ part: String) -> Bool {
        let span = part.split(separator: "/", maxSplits: 1).first ?? ""
        return span.split(separator: "-").contains { $0 == "7" }
    }

    /// The days of one part (`N`, `N-M`, `N/S`, `N-M/S`, names allowed), nil for anything else.
    private static func days(of part: String) -> [Int]? {
        let pieces = part.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let step = pieces.count == 2 ? Int(pieces[1]) : 1
        guard let step, step > 0 else { return nil }
        let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count <= 2, let low = day(bounds[0]) else { return nil }
        // `N/S` runs to the end of the field, as cron reads it.
        let high = bounds.count == 2 ? day(bounds[1]) : (pieces.count == 2 ? 7 : low)
        guard let high, low <= high else { return nil }
        return Array(stride(from: low, through: high, by: step))
    }

    /// `0,5-6` for {0, 5, 6}: runs of two or more days as ranges.
    private static func ranges(of days: Set<Int>) -> String {
        var runs: [(Int, Int)] = []
        for day in days.sorted() {
            if let last = runs.last, last.1 + 1 == day {
                runs[runs.count - 1].1 = day
            } else {
                runs.append((day, day))
            }
        }
        return runs.map { $0.0 == $0.1 ? "\($0.0)" : "\($0.0)-\($0.1)" }.joined(separator: ",")
    }
}
