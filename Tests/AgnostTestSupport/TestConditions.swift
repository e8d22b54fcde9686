import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When checks that need more than a test process usually has may run.
///
/// ```swift
/// @Test(.enabled(if: TestConditions.runsRootChecks, TestConditions.rootComment))
/// func theUnpackedImageServesUnderChroot() throws { … }
/// ```
public enum TestConditions {
    /// Whether checks that run an unpacked image under `chroot` may run: as root, or under CI. CI must not skip
    /// them, so there a run without root fails these tests instead of skipping them.
    public static let runsRootChecks = getuid() == 0 || getenv("CI") != nil

    /// Shown for each test skipped for lack of root.
    public static let rootComment: Comment = "skipped: chroot needs root (CI runs as root and never skips it)"
}
