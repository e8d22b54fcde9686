#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Runs `body` on a new thread of its own and returns its result, or nil when no thread could be started.
///
/// libcurl blocks the thread it waits on. Swift's cooperative pool has as many threads as cores, so a transfer waiting
/// there would stall unrelated tasks; a thread per transfer costs a little memory and keeps them running.
func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T? {
    await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
        let work = ThreadWork { continuation.resume(returning: body()) }
        let context = Unmanaged.passRetained(work).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t? = nil
        #else
        var thread = pthread_t()
        #endif
        let started = pthread_create(&thread, nil, startThreadWork, context)
        guard started == 0 else {
            Unmanaged<ThreadWork>.fromOpaque(context).release()
            continuation.resume(returning: nil)
            return
        }
        #if canImport(Darwin)
        pthread_detach(thread!)
        #else
        pthread_detach(thread)
        #endif
    }
}

/// What a started thread runs, handed over as a retained pointer that the thread releases.
private final class ThreadWork: Sendable {
    let run: @Sendable () -> Void

    init(_ run: @escaping @Sendable () -> Void) {
        self.run = run
    }
}

#if canImport(Darwin)
private func startThreadWork(_ context: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
    Unmanaged<ThreadWork>.fromOpaque(context).takeRetainedValue().run()
    return nil
}
#else
private func startThreadWork(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<ThreadWork>.fromOpaque(context!).takeRetainedValue().run()
    return nil
}
#endif
