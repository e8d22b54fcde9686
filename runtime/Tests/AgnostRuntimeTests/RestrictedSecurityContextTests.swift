import Foundation
import Testing

/// The Service runs the server as in Kubernetes' restricted profile: not root, a read-only root file system, no
/// capabilities, no privilege escalation. The server must start and serve like that, so it may write nowhere.
@Suite(.serialized)
struct RestrictedSecurityContextTests {
    /// A private mount namespace with `/` (and so the bundle, the binary and `/tmp`) remounted read-only, then
    /// `setpriv` to nobody with every capability dropped and `no_new_privs`, as the container runtime does.
    static let launcher = [
        "/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
        #"mount -o remount,bind,ro / && cd / && exec /usr/bin/setpriv --reuid 65534 --regid 65534 --clear-groups "#
            + #"--inh-caps=-all --bounding-set=-all --no-new-privs "$0""#,
    ]

    /// unshare and remounting need root; CI runs as root, so it never skips this.
    static let canRun = getuid() == 0 || ProcessInfo.processInfo.environment["CI"] != nil

    @Test(.enabled(if: canRun, "skipped: a private read-only mount namespace needs root (CI runs as root)"))
    func servesAsNobodyOnAReadOnlyRoot() async throws {
        let bundle = try writeFixtureBundle()
        let server = try ServerProcess(
            environment: [
                "PORT": "0", "AGNOST_HOST": "127.0.0.1", "AGNOST_BUNDLE": bundle, "HOME": "/nonexistent",
                "PATH": "/usr/bin:/bin",
            ],
            launcher: Self.launcher
        )
        let port = try await server.waitForPort()
        #expect(try RawHTTP.get(port: port, path: "/agnost/ready").status == 200)
        #expect(try RawHTTP.get(port: port, path: "/agnost/health").status == 200)
        let hello = try RawHTTP.get(port: port, path: "/hello/ada")
        #expect(hello.status == 200)
        #expect(hello.body == "hello, ada")
        let status = try String(contentsOfFile: "/proc/\(server.process.processIdentifier)/status", encoding: .utf8)
        #expect(status.contains("\nUid:\t65534\t65534\t65534\t65534\n"), "\(status)")
        #expect(status.contains("\nCapEff:\t0000000000000000\n"), "\(status)")
        #expect(status.contains("\nNoNewPrivs:\t1\n"), "\(status)")
        // mountinfo: `id parent major:minor root mount-point options …`, as the server's namespace sees it.
        let mounts = try String(contentsOfFile: "/proc/\(server.process.processIdentifier)/mountinfo", encoding: .utf8)
        let root = mounts.split(separator: "\n").map { $0.split(separator: " ") }.last { $0.count > 5 && $0[4] == "/" }
        #expect(root?[5].split(separator: ",").first == "ro", "\(mounts)")
        #expect(try await server.stop() == 0)
        #expect(server.standardError.isEmpty, "\(server.standardError)")
    }
}
