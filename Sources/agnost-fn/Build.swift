import AgnostCompiler
import ArgumentParser
import Foundation

extension BuildConfiguration: ExpressibleByArgument {}

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile the handlers into a bundle: .agnost/bundle/server and bundle.json.",
        discussion: "Unchanged inputs reuse the existing bundle. Release builds are optimized, static and stripped."
    )

    @OptionGroup var project: ProjectOptions

    @Option(help: "debug or release.")
    var configuration: BuildConfiguration = .release

    @Flag(help: "Show the output of swift build as it runs.")
    var verbose = false

    func run() throws {
        let result = try BuildSteps.build(project, configuration: configuration, verbose: verbose)
        print(result.bundleDirectory.path)
    }
}

/// The build as `build` and `run` both do it: progress per stage on stderr, errors as diagnostics.
enum BuildSteps {
    static func build(
        _ project: ProjectOptions,
        configuration: BuildConfiguration,
        verbose: Bool
    ) throws -> BuildResult {
        let builder = BundleBuilder(verbose: verbose) { event in
            switch event {
            case .stageStarted: break
            case .stageFinished(let name, let elapsed): Console.status("  \(name) (\(format(elapsed)))")
            case .compilerOutput(let text): FileHandle.standardError.write(Data(text.utf8))
            }
        }
        let start = ContinuousClock.now
        do {
            let result = try builder.build(
                project: project.directory,
                displayPath: project.displayPath,
                configuration: configuration
            )
            Console.diagnostics(result.warnings.map(\.description))
            let name = result.manifest.serviceName
            if result.upToDate {
                Console.status("\(name): bundle is up to date (\(configuration.rawValue))")
            } else {
                Console.status(
                    "\(name): built \(configuration.rawValue) bundle in \(format(ContinuousClock.now - start))"
                )
            }
            return result
        } catch {
            throw Console.fail(error)
        }
    }

    private static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
        return milliseconds < 1000 ? "\(milliseconds) ms" : String(format: "%.1f s", Double(milliseconds) / 1000)
    }
}
