import AgnostCompiler
import ArgumentParser
import Foundation

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a project from a template.",
        discussion: "The app name defaults to the folder's name. 'agnost-fn templates' lists the templates."
    )

    @Argument(help: "The folder to create; it must not exist or be empty.")
    var directory: String

    @Option(help: "The template to start from.")
    var template: String = "swift-http"

    @Option(help: "The app name: lowercase letters, digits and '-', starting with a letter.")
    var app: String?

    func run() throws {
        let folder = URL(fileURLWithPath: directory).standardizedFileURL
        do {
            let scaffolder = Scaffolder(layout: try ToolchainLayout.locate())
            let files = try scaffolder.create(template: template, at: folder, app: app)
            let name = app ?? Scaffolder.appName(forFolder: folder)
            Console.status("created \(name) from \(template) in \(directory) (\(files.count) files)")
            Console.status("next: cd \(directory) && agnost-fn run")
        } catch {
            throw Console.fail(error)
        }
    }
}
