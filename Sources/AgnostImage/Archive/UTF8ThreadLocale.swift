#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs libarchive calls with the calling thread's character encoding set to UTF-8.
///
/// libarchive converts names between UTF-8 (pax headers, ``LayerEntry`` paths) and the locale's encoding, and a
/// Swift process runs in the C locale, whose ASCII cannot hold `ü`: version 3.6.2 then misreads such names and
/// crashes writing them. `uselocale(3)` changes the locale of the calling thread alone, and only for the call.
enum UTF8ThreadLocale {
    /// Made once and kept for the life of the process, like the C library's own locales.
    nonisolated(unsafe) private static let locale: locale_t? = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil)

    /// False on a system with no UTF-8 locale installed, where only ASCII names are safe to hand to libarchive.
    static var isAvailable: Bool { locale != nil }

    static func run<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        guard let locale else { return try body() }
        let previous = uselocale(locale)
        defer { uselocale(previous) }
        return try body()
    }
}
