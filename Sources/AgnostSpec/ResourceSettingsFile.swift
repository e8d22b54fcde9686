/// How to reach one declared resource on this machine, from the project's settings file.
public struct LocalResourceSettings: Hashable, Sendable {
    public var name: String
    public var uri: String?
    public var host: String?
    public var port: Int?
    public var database: String?
    public var user: String?
    public var password: String?
    public var tls = false
    public var options: [String: String] = [:]

    public init(name: String) {
        self.name = name
    }
}

/// What checking a settings file found: the settings when it has no errors, and every diagnostic.
public struct ResourceSettingsCheckResult: Sendable {
    public var settings: [LocalResourceSettings]?
    public var diagnostics: [Diagnostic]
}

/// The settings file of a local run, `agnost.resources.yaml` beside `agnost.yaml`: for each resource `agnost.yaml`
/// declares, how to reach it here. It holds passwords, so the project template keeps it out of git.
///
/// ```yaml
/// maindb:
///   uri: postgresql://app:secret@127.0.0.1:5432/app
/// cache:
///   host: 127.0.0.1
///   port: 6379
/// ```
///
/// ```swift
/// let result = ResourceSettingsFile.check(source: text, file: "agnost.resources.yaml", names: spec.resources.map(\.name.value))
/// result.diagnostics.forEach { print($0) }  // agnost.resources.yaml:4:3: error: unknown key 'hots' …
/// ```
public enum ResourceSettingsFile {
    public static let fileName = "agnost.resources.yaml"

    static let schema = MappingSchema(
        place: "in resource settings",
        required: [],
        optional: ["uri", "host", "port", "database", "user", "password", "tls", "options"]
    )

    /// Checks `source` against the resource `names` agnost.yaml declares; an empty file gives no settings.
    public static func check(source: String, file: String, declared names: [String]) -> ResourceSettingsCheckResult {
        var diagnostics = DiagnosticCollector()
        let hasContent = source.split(whereSeparator: \.isNewline).contains { line in
            let text = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{FEFF}" }
            return !text.isEmpty && !text.hasPrefix("#") && text != "---"
        }
        guard hasContent else { return ResourceSettingsCheckResult(settings: [], diagnostics: []) }
        var composer = YAMLComposer(source: source, file: file)
        guard let root = composer.compose(diagnostics: &diagnostics) else {
            return ResourceSettingsCheckResult(settings: nil, diagnostics: diagnostics.sorted)
        }
        guard case .mapping(let pairs) = root.content else {
            diagnostics.error(
                "the file must map each resource name to its settings, found \(root.kindDescription)",
                at: root.location
            )
            return ResourceSettingsCheckResult(settings: nil, diagnostics: diagnostics.sorted)
        }
        if names.isEmpty, let first = pairs.first {
            diagnostics.error(
                "agnost.yaml declares no resources, so this file has nothing to set",
                at: first.key.location
            )
            return ResourceSettingsCheckResult(settings: nil, diagnostics: diagnostics.sorted)
        }
        let top = MappingReader(
            pairs,
            at: root.location,
            schema: MappingSchema(place: "at the top level", required: [], optional: names),
            diagnostics: &diagnostics
        )
        var settings: [LocalResourceSettings] = []
        for (name, value) in top.entries {
            guard case .mapping(let fields) = value.content else {
                diagnostics.error(
                    "the settings of resource '\(name.value)' must be a mapping (uri, host, port, …), found "
                        + value.kindDescription,
                    at: value.location
                )
                continue
            }
            settings.append(decode(name.value, fields, at: value.location, diagnostics: &diagnostics))
        }
        return ResourceSettingsCheckResult(
            settings: diagnostics.hasErrors ? nil : settings,
            diagnostics: diagnostics.sorted
        )
    }

    private static func decode(
        _ name: String,
        _ fields: [YAMLNode.Pair],
        at location: SourceLocation,
        diagnostics: inout DiagnosticCollector
    ) -> LocalResourceSettings {
        let reader = MappingReader(fields, at: location, schema: schema, diagnostics: &diagnostics)
        var settings = LocalResourceSettings(name: name)
        for (key, value) in reader.entries {
            switch key.value {
            case "port":
                guard case .integer(let port) = value.scalar?.kind, (1...65_535).contains(port) else {
                    diagnostics.error("port of resource '\(name)' must be a number from 1 to 65535", at: value.location)
                    continue
                }
                settings.port = port
            case "tls":
                guard case .boolean(let tls) = value.scalar?.kind else {
                    diagnostics.error("tls of resource '\(name)' must be true or false", at: value.location)
                    continue
                }
                settings.tls = tls
            case "options":
                guard case .mapping(let options) = value.content else {
                    diagnostics.error(
                        "options of resource '\(name)' must map option names to values, found \(value.kindDescription)",
                        at: value.location
                    )
                    continue
                }
                for option in options {
                    guard let optionName = option.key.scalar?.text, let text = option.value.scalar?.text else {
                        diagnostics.error(
                            "each option of resource '\(name)' needs a name and a value",
                            at: option.key.location
                        )
                        continue
                    }
                    settings.options[optionName] = text
                }
            default:
                // As written: a password of digits is still a password.
                guard let scalar = value.scalar, !scalar.isNull else {
                    diagnostics.error(
                        "\(key.value) of resource '\(name)' must be text, found \(value.kindDescription)",
                        at: value.location
                    )
                    continue
                }
                switch key.value {
                case "uri": settings.uri = scalar.text
                case "host": settings.host = scalar.text
                case "database": settings.database = scalar.text
                case "user": settings.user = scalar.text
                default: settings.password = scalar.text
                }
            }
        }
        if settings.uri == nil, settings.host == nil {
            diagnostics.error("resource '\(name)' needs a uri or a host to connect to", at: location)
        }
        return settings
    }
}
