#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Ends the server gracefully when the process that supervises it ends.
///
/// `agnost-fn run` passes the read end of a pipe as `AGNOST_LIFELINE_FD` and keeps the write end. When it ends,
/// even by `kill -9`, the read sees end-of-file and the server sends itself SIGTERM: it drains and exits as on any
/// other stop, and never lives on holding its port. On Knative the variable is absent and nothing is watched.
enum Lifeline {
    static let variable = "AGNOST_LIFELINE_FD"

    static func watch(environment: [String: String]) {
        guard let text = environment[variable], let descriptor = Int32(text), descriptor >= 0 else { return }
        // A blocking read on a thread of its own: the event loops and the cooperative pool stay free.
        var thread = pthread_t()
        let started = pthread_create(
            &thread,
            nil,
            { argument in
                let descriptor = Int32(Int(bitPattern: argument))
                var byte: UInt8 = 0
                while true {
                    let count = read(descriptor, &byte, 1)
                    if count < 0 && errno == EINTR { continue }
                    if count <= 0 { break }
                }
                kill(getpid(), SIGTERM)
                return nil
            },
            UnsafeMutableRawPointer(bitPattern: Int(descriptor))
        )
        if started == 0 { pthread_detach(thread) }
    }
}
