import AgnostCompiler
import ArgumentParser
import Foundation

struct Mirror: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Point the project's SwiftPM at this installation's runtime, for swift build and swift test.",
        discussion: """
            init, build and run do this as well; a fresh clone needs it once before swift test. It writes the mirror \
            of the runtime's URL into .swiftpm/configuration/mirrors.json, which is specific to this machine and \
            stays out of version control, and re-pins the runtime in Package.resolved when that names another commit.
            """
    )

    @OptionGroup var project: ProjectOptions

    func run() throws {
        guard FileManager.default.fileExists(atPath: project.directory.appendingPathComponent("Package.swift").path)
        else {
            Console.error("\(project.displayPath) has no Package.swift; pass the project folder with --path")
            throw ExitCode.failure
        }
        do {
            let repository = try RuntimeMirror(layout: try ToolchainLayout.locate()).repository()
            try repository.mirror(into: project.directory)
            Console.status("\(project.displayPath): \(RuntimeRepository.url) → \(repository.location.path)")
        } catch {
            throw Console.fail(error)
        }
    }
}
