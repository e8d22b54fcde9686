import AgnostCompiler
import ArgumentParser

struct Templates: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the project templates.")

    func run() throws {
        do {
            let templates = try Scaffolder(layout: try ToolchainLayout.locate()).templates()
            let width = templates.map(\.name.count).max() ?? 0
            for template in templates {
                print(template.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + template.description)
            }
        } catch {
            throw Console.fail(error)
        }
    }
}
