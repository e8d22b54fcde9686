#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ImageError {
    /// The error for a system call that just failed: `message` followed by the system's reason, from `errno`.
    static func system(_ code: Code, _ message: String, context: String) -> ImageError {
        ImageError(code, "\(message): \(String(cString: strerror(errno)))", context: context)
    }
}
