import AgnostBundle
import AgnostCompiler
import AgnostSpec
import Foundation

extension Workflow {
    /// The `AGNOST_RESOURCE_*` variables the project's settings file (``ResourceSettingsFile``) gives the resources
    /// `manifest` declares, and the declared names it gives nothing; without the file, none and all of them.
    ///
    /// - Throws: ``PipelineError`` with every diagnostic when the file does not check.
    public func localResourceVariables(
        _ project: Project,
        manifest: BundleManifest
    ) throws(PipelineError) -> (variables: [String: String], unset: [String]) {
        let declared = manifest.resources.map(\.name)
        let file = project.directory.appendingPathComponent(ResourceSettingsFile.fileName)
        guard !declared.isEmpty || FileManager.default.fileExists(atPath: file.path) else { return ([:], []) }
        guard let data = FileManager.default.contents(atPath: file.path) else { return ([:], declared) }
        let display = project.displayPath(of: ResourceSettingsFile.fileName)
        guard let source = String(data: data, encoding: .utf8) else {
            throw PipelineError(
                .configuration,
                "\(display) is not UTF-8 text; save it as UTF-8",
                context: display,
                underlying: CompilerError(.invalidSpec, "not UTF-8")
            )
        }
        let result = ResourceSettingsFile.check(source: source, file: display, declared: declared)
        guard let settings = result.settings else {
            let errors = result.diagnostics.filter { $0.severity == .error }.count
            let message = "\(display) has \(errors == 1 ? "1 error" : "\(errors) errors")"
            throw PipelineError(
                .configuration,
                message,
                context: display,
                underlying: CompilerError(.invalidSpec, message, diagnostics: result.diagnostics)
            )
        }
        var variables: [String: String] = [:]
        for resource in settings {
            let values: [(ResourceContract.Setting, String?)] = [
                (.uri, resource.uri), (.host, resource.host), (.port, resource.port.map(String.init)),
                (.database, resource.database), (.user, resource.user), (.password, resource.password),
                (.tls, String(resource.tls)),
                (.options, resource.options.isEmpty ? nil : ResourceContract.optionsValue(resource.options)),
            ]
            for case (let setting, let value?) in values {
                variables[ResourceContract.variable(resource: resource.name, setting: setting)] = value
            }
        }
        return (variables, declared.filter { name in !settings.contains { $0.name == name } })
    }
}
