import Foundation

/// A project template under `templates/`.
public struct TemplateInfo: Sendable, Hashable {
    public var name: String
    public var description: String
}

/// Creates projects from the templates: `agnost-fn init` and `agnost-fn templates`.
///
/// Templates name the runtime by ``RuntimeRepository/url``, so a copy builds wherever it goes. A copy gets the
/// template's name replaced by the app's, and a SwiftPM mirror pointing that URL at this installation's runtime,
/// so that `swift test` works in it at once.
///
/// ```swift
/// let created = try Scaffolder(layout: layout).create(template: "swift-http", at: folder, app: nil)
/// ```
public struct Scaffolder: Sendable {
    public let layout: ToolchainLayout
    private let runtime: RuntimeMirror?

    /// Files of a template that describe it rather than belong to the project.
    private static let templateOnly: Set<String> = ["template.json"]
    private static let skippedFolders: Set<String> = [".build", ".swiftpm", ".agnost"]

    /// - Parameter runtime: the runtime new projects are mirrored to; nil for the layout's, with the user's cache.
    public init(layout: ToolchainLayout, runtime: RuntimeMirror? = nil) {
        self.layout = layout
        self.runtime = runtime
    }

    public func templates() throws(CompilerError) -> [TemplateInfo] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: layout.templates.path)
        } catch {
            throw CompilerError(.toolchainLayout, "cannot list \(layout.templates.path): \(error)")
        }
        return names.sorted().compactMap { name in
            let file = layout.templates.appendingPathComponent(name).appendingPathComponent("template.json")
            guard let data = try? Data(contentsOf: file),
                let info = try? JSONDecoder().decode([String: String].self, from: data)
            else { return nil }
            return TemplateInfo(name: name, description: info["description"] ?? "")
        }
    }

    /// The app name a folder suggests: its name, lowercased, with runs of other characters turned into `-`.
    public static func appName(forFolder folder: URL) -> String {
        var name = ""
        for character in folder.standardizedFileURL.lastPathComponent.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber) {
                name.append(character)
            } else if !name.isEmpty && name.last != "-" {
                name.append("-")
            }
        }
        while name.last == "-" { name.removeLast() }
        return name
    }

    /// Copies `template` into `directory` (created; must not exist or be empty) and returns the files written.
    @discardableResult
    public func create(template: String, at directory: URL, app: String?) throws(CompilerError) -> [String] {
        let available = try templates()
        guard available.contains(where: { $0.name == template }) else {
            throw CompilerError(
                .invalidScaffold,
                "there is no template '\(template)'; choose one of: \(available.map(\.name).joined(separator: ", "))"
            )
        }
        let name = app ?? Self.appName(forFolder: directory)
        guard name.range(of: "^[a-z]([-a-z0-9]*[a-z0-9])?$", options: .regularExpression) != nil else {
            throw CompilerError(
                .invalidScaffold,
                "'\(name)' is not a valid app name (lowercase letters, digits and '-', starting with a letter); "
                    + "pass one with --app"
            )
        }
        let manager = FileManager.default
        if let existing = try? manager.contentsOfDirectory(atPath: directory.path), !existing.isEmpty {
            throw CompilerError(
                .invalidScaffold,
                "\(directory.path) is not empty; choose a new folder so that nothing in it is overwritten"
            )
        }
        // Before any file is written: a missing git or an unwritable cache should leave no half-made project.
        let repository = try runtimeMirror().repository()
        let source = layout.templates.appendingPathComponent(template)
        var written: [String] = []
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
            for relative in try projectFiles(in: source) {
                let target = directory.appendingPathComponent(relative)
                try manager.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                let data = try Data(contentsOf: source.appendingPathComponent(relative))
                try adapt(data, file: relative, template: template, app: name).write(to: target)
                written.append(relative)
            }
        } catch let error as CompilerError {
            throw error
        } catch {
            throw CompilerError(.fileSystem, "cannot create the project in \(directory.path): \(error)")
        }
        try repository.mirror(into: directory)
        return written
    }

    private func runtimeMirror() throws(CompilerError) -> RuntimeMirror {
        if let runtime { return runtime }
        return try RuntimeMirror(layout: layout)
    }

    private func projectFiles(in source: URL) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: source.path) else {
            throw CompilerError(.toolchainLayout, "cannot read the template \(source.path)")
        }
        var files: [String] = []
        for case let relative as String in enumerator {
            let parts = relative.split(separator: "/").map(String.init)
            if parts.contains(where: Self.skippedFolders.contains) || Self.templateOnly.contains(relative) { continue }
            if parts.last == "Package.resolved" { continue }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(
                atPath: source.appendingPathComponent(relative).path,
                isDirectory: &isDirectory
            ),
                !isDirectory.boolValue
            {
                files.append(relative)
            }
        }
        return files.sorted()
    }

    /// `Package.swift`: the package name becomes the app's. `agnost.yaml`: `app:` becomes the app's.
    private func adapt(_ data: Data, file: String, template: String, app: String) -> Data {
        guard var text = String(data: data, encoding: .utf8) else { return data }
        switch file {
        case "Package.swift":
            text = text.replacingOccurrences(of: "name: \"\(template)\"", with: "name: \"\(app)\"")
        case "agnost.yaml":
            text = text.replacingOccurrences(
                of: "(?m)^app: *\(NSRegularExpression.escapedPattern(for: template)) *$",
                with: "app: \(app)",
                options: .regularExpression
            )
        default:
            break
        }
        return Data(text.utf8)
    }
}
