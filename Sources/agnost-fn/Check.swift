import AgnostCompiler
import AgnostSpec
import ArgumentParser
import Foundation

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate agnost.yaml and print every problem.",
        discussion: "Exits 1 if there is any error; warnings alone exit 0."
    )

    @OptionGroup var project: ProjectOptions

    func run() throws {
        let result: SpecCheckResult
        do {
            result = try SpecChecker.check(
                fileAt: project.directory.appendingPathComponent("agnost.yaml").path,
                displayPath: project.specDisplayPath
            )
        } catch {
            Console.status(error.description)
            throw ExitCode.failure
        }
        Console.diagnostics(result.diagnostics)
        guard let spec = result.spec else {
            Console.error(
                "\(project.specDisplayPath): \(count(result.errorCount, "error")), \(count(result.warningCount, "warning"))"
            )
            throw ExitCode.failure
        }
        let parts = [
            count(spec.endpoints.count, "endpoint"), count(spec.queues.count, "queue"),
            count(spec.cronJobs.count, "cron job"), count(result.warningCount, "warning"),
        ]
        print("\(project.specDisplayPath): \(spec.serviceName) is valid (\(parts.joined(separator: ", ")))")
    }

    private func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }
}
