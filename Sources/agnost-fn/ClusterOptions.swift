import AgnostKnative
import AgnostPipeline
import AgnostSpec
import ArgumentParser
import Foundation

/// `--namespace`, `--context`, `--kubeconfig`: which cluster, as kubectl picks one.
struct ClusterOptionGroup: ParsableArguments {
    @Option(help: ArgumentHelp("The namespace. Default: the context's, else default.", valueName: "name"))
    var namespace: String?

    @Option(help: ArgumentHelp("The kubeconfig context. Default: its current-context.", valueName: "name"))
    var context: String?

    @Option(
        help: ArgumentHelp("The kubeconfig file. Default: $KUBECONFIG, else ~/.kube/config.", valueName: "file")
    )
    var kubeconfig: String?

    var options: ClusterOptions { ClusterOptions(kubeconfig: kubeconfig, context: context, namespace: namespace) }

    /// A deployer for the cluster, reporting on stderr.
    func deployer() throws(ExitCode) -> Deployer {
        let workflow = PipelineConsole.workflow()
        return try Console.step { () throws(PipelineError) in try workflow.deployer(options) }
    }
}

extension ProjectOptions {
    /// `agnost.yaml`, checked; a file with errors prints them and exits 1.
    func checkedSpec() throws(ExitCode) -> AppSpec {
        let workflow = Workflow()
        return try Console.step { () throws(PipelineError) in try workflow.plan(project).spec }
    }
}

/// Reads a duration as agnost.yaml writes one (`90s`, `5m`, `1h`), or as plain seconds.
struct DurationArgument: ExpressibleByArgument, Sendable {
    var duration: Duration

    init?(argument: String) {
        if let duration = DurationSyntax.positive(argument) {
            self.duration = duration
        } else if let seconds = Int64(argument), seconds > 0 {
            duration = .seconds(seconds)
        } else {
            return nil
        }
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

extension Console {
    /// Runs a step against the cluster: a failure is printed and exits 1; Ctrl-C says that the cluster carries on
    /// with what was applied and how to look at it, and exits 130.
    static func clusterStep<Value: Sendable>(
        checkWith check: String,
        _ body: @escaping @Sendable () async throws(PipelineError) -> Value
    ) async throws -> Value {
        do {
            return try await Interruption.cancellingOnSignals { () async throws(PipelineError) in try await body() }
        } catch let error as PipelineError where error.wasCancelled {
            self.error("interrupted: the cluster keeps what was applied and goes on with it")
            status("hint: see how it is going with: \(check)")
            throw ExitCode(130)
        } catch let error as PipelineError {
            throw fail(error)
        }
    }

    /// Runs a deployer call; a failure is printed, and exits 1.
    static func cluster<Value: Sendable>(
        checkWith check: String,
        _ body: @escaping @Sendable () async throws(DeployError) -> Value
    ) async throws -> Value {
        try await clusterStep(checkWith: check) { () async throws(PipelineError) in
            do throws(DeployError) {
                return try await body()
            } catch {
                throw PipelineError(error)
            }
        }
    }
}
