import Foundation
import Synchronization

/// What a writer killed at a random moment had said: the names it printed as `ok NAME` on whole lines (the last
/// line may have been cut by the kill), and its standard error.
public struct KilledWriterOutput: Sendable {
    public var acknowledged: [String]
    public var standardError: String
}

/// Runs the fixture `name` (an executable built beside the test bundle) with `arguments`, and kills it with SIGKILL
/// a random moment of up to `maximumDelay` after its first line of output, however slowly it started; for the
/// tests that check that nothing a writer acknowledged is lost.
///
/// ```swift
/// let output = try await runKilledAtRandom("StoreFixture", [database, "1000"], maximumDelay: .milliseconds(150))
/// // every name in output.acknowledged must be in the store
/// ```
public func runKilledAtRandom(
    _ name: String,
    _ arguments: [String],
    maximumDelay: Duration
) async throws -> KilledWriterOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent(name)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let deadline = ProcessDeadline(process, after: .seconds(60))
    let collected = Mutex(Data())
    let reader = Thread {
        while case let chunk = output.fileHandleForReading.availableData, !chunk.isEmpty {
            collected.withLock { $0.append(chunk) }
        }
    }
    reader.start()
    let started = ContinuousClock.now
    while collected.withLock({ $0.isEmpty }) && process.isRunning && ContinuousClock.now - started < .seconds(60) {
        try await Task.sleep(for: .milliseconds(2))
    }
    let milliseconds =
        maximumDelay.components.seconds * 1000 + maximumDelay.components.attoseconds / 1_000_000_000_000_000
    try await Task.sleep(for: .milliseconds(Int64.random(in: 0...max(0, milliseconds))))
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    deadline.cancel()
    while !reader.isFinished { try await Task.sleep(for: .milliseconds(5)) }
    let text = String(decoding: collected.withLock { $0 }, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    return KilledWriterOutput(
        acknowledged: lines.compactMap { $0.hasPrefix("ok ") ? String($0.dropFirst(3)) : nil },
        standardError: String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    )
}
