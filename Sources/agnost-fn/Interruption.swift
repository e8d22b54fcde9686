import Dispatch
import Foundation

/// Ctrl-C (SIGINT) and SIGTERM as a command that transfers images handles them: they cancel the work instead of
/// killing the process, so that transfers stop where they are, nothing local is left half-written, and the command
/// says what happened. A second Ctrl-C kills the process at once.
enum Interruption {
    /// The signals the commands handle, unblocked on the main thread before any other starts, since threads inherit
    /// the mask: a parent that blocked them (a test runner, say) would otherwise keep them from ever arriving.
    static func unblockSignals() {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    /// Runs `body` in a task that SIGINT and SIGTERM cancel.
    static func cancellingOnSignals<Value: Sendable>(
        _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let task = Task { try await body() }
        let watchers = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                task.cancel()
                // The next one is not caught: a second Ctrl-C ends the process even if the work does not stop.
                signal(number, SIG_DFL)
            }
            source.resume()
            return source
        }
        defer {
            for source in watchers { source.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        return try await task.value
    }
}
