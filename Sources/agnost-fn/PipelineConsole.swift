import AgnostCompiler
import AgnostImage
import AgnostKnative
import AgnostPipeline
import AgnostRegistry
import Foundation
import Synchronization

/// Shows the workflow's progress on stderr: a line per stage and layer with its time, the result of each step,
/// and pushes and pulls blob by blob.
final class PipelineConsole: Sendable {
    private let transfers = TransferProgressConsole()
    private let deploy = DeployProgressConsole()

    /// A workflow that reports here, reading the process's environment.
    static func workflow() -> Workflow {
        let console = PipelineConsole()
        return Workflow(environment: ProcessInfo.processInfo.environment, report: console.handle)
    }

    func handle(_ event: PipelineEvent) {
        switch event {
        case .compile(.stageStarted):
            break
        case .compile(.stageFinished(let name, let elapsed)), .package(.stageFinished(let name, let elapsed)):
            Console.status("  \(name) (\(Console.format(elapsed)))")
        case .compile(.compilerOutput(let text)):
            FileHandle.standardError.write(Data(text.utf8))
        case .bundleReady(let result, let elapsed):
            Console.diagnostics(result.warnings)
            let name = result.manifest.serviceName
            let configuration = result.manifest.build.configuration
            Console.status(
                result.upToDate
                    ? "\(name): bundle is up to date (\(configuration))"
                    : "\(name): built \(configuration) bundle in \(Console.format(elapsed))"
            )
        case .package(.layer(let role, let blob, let reused)):
            Console.status(
                "  \(role.rawValue) layer \(blob.digest.hexString.prefix(12)) \(Console.format(bytes: blob.size))"
                    + (reused ? " (cached)" : "")
            )
        case .packaged(let image, let service, let elapsed):
            let output = image.output
            Console.status(
                "\(service): packaged \(output.transport.rawValue):\(output.path):\(image.tag), "
                    + "\(Console.format(bytes: image.size)) compressed, in \(Console.format(elapsed))"
            )
        case .transfer(let event):
            transfers.handle(event)
        case .pushed(let source, let destination, let elapsed):
            Console.status("pushed \(source) to \(destination) in \(Console.format(elapsed))")
        case .pulled(let source, let destination, let elapsed):
            Console.status("pulled \(source) into \(destination) in \(Console.format(elapsed))")
        case .deploy(let event):
            deploy.handle(event)
        case .warning(let message):
            Console.status("warning: \(message)")
        case .platform(let line):
            Console.status("  \(line)")
        }
    }
}

/// Shows a push or a pull on stderr: on a terminal, a line per blob in flight redrawn in place with bytes and rate;
/// elsewhere, as in CI logs, only a line per finished blob.
final class TransferProgressConsole: Sendable {
    private struct Screen {
        var board = TransferProgressBoard()
        /// How many lines of blobs in flight are on screen, above the cursor.
        var drawn = 0
        var lastDraw: ContinuousClock.Instant?
    }

    private let screen = Mutex(Screen())
    private let interactive = Console.stderrIsTerminal

    /// The pusher's or puller's report; it runs on the threads that move the bytes.
    func handle(_ event: TransferEvent) {
        screen.withLock { screen in
            let now = ContinuousClock.now
            let finished = screen.board.apply(event, at: now)
            guard interactive else {
                finished.forEach(Console.status)
                return
            }
            // Redrawing on every piece of every blob would cost more than the upload; ten times a second is smooth.
            if finished.isEmpty, let last = screen.lastDraw, now - last < .milliseconds(100) { return }
            let active = screen.board.activeLines
            let escape = "\u{1B}["
            // A line wider than the terminal would wrap, and moving up by the number of lines drawn would then
            // land in the wrong place.
            let width = Self.terminalWidth()
            var text = screen.drawn > 0 ? "\(escape)\(screen.drawn)A" : ""
            for line in finished + active { text += "\r\(escape)2K\(line.prefix(width - 1))\n" }
            text += "\(escape)J"
            FileHandle.standardError.write(Data(text.utf8))
            screen.drawn = active.count
            screen.lastDraw = now
        }
    }

    /// The columns of the terminal on stderr, or 80 when it does not say.
    private static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 1 else { return 80 }
        return Int(size.ws_col)
    }
}

/// Shows a deploy on stderr: a line per object applied or pruned, and the Service's conditions while it rolls out,
/// redrawn in place on a terminal (one line per condition), or a plain line per change elsewhere.
final class DeployProgressConsole: Sendable {
    private struct Screen {
        /// The latest line of each condition, in the order they first appeared.
        var conditions: [(type: String, line: String)] = []
        var drawn = 0
    }

    private let screen = Mutex(Screen())
    private let interactive = Console.stderrIsTerminal

    func handle(_ event: DeployEvent) {
        switch event {
        case .applied(let kind, let name, let outcome):
            settle("  \(kind.lowercased())/\(name) \(outcome.rawValue)")
        case .wouldChange(let kind, let name, let changes):
            settle(
                "  \(kind.lowercased())/\(name): "
                    + (changes.isEmpty
                        ? "no change" : "would change:\n" + changes.map { "    \($0)" }.joined(separator: "\n"))
            )
        case .pruned(let kind, let name, let dryRun):
            settle(
                "  \(kind.lowercased())/\(name) \(dryRun ? "would be deleted" : "deleted") (no longer in agnost.yaml)"
            )
        case .condition(let progress):
            show(progress)
        case .ready(let service, let revision, _, let elapsed):
            settle("\(service): revision \(revision) is ready (\(Console.format(elapsed)))")
        }
    }

    private func show(_ progress: ReadinessTracker.ConditionProgress) {
        screen.withLock { screen in
            let line = "  \(progress)"
            guard interactive else {
                Console.status(line)
                return
            }
            if let index = screen.conditions.firstIndex(where: { $0.type == progress.type }) {
                screen.conditions[index].line = line
            } else {
                screen.conditions.append((progress.type, line))
            }
            var text = screen.drawn > 0 ? "\u{1B}[\(screen.drawn)A" : ""
            for condition in screen.conditions { text += "\r\u{1B}[2K\(condition.line)\n" }
            FileHandle.standardError.write(Data(text.utf8))
            screen.drawn = screen.conditions.count
        }
    }

    /// Prints a line below the conditions, which from then on stay as they were drawn.
    private func settle(_ line: String) {
        screen.withLock { screen in
            screen.conditions = []
            screen.drawn = 0
            Console.status(line)
        }
    }
}

extension Console {
    /// Whether stderr is a terminal that can redraw lines in place (not `TERM=dumb`).
    static let stderrIsTerminal =
        isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"].map { $0 != "dumb" } ?? false
}
