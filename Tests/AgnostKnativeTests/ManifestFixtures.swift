import AgnostBundle
import AgnostKnative
import Foundation

/// The bundle of `samples/todo` (its agnost.yaml, resolved as the compiler resolves it) and fixed render options,
/// so that the renders the tests compare are stable.
enum ManifestFixtures {
    static let digest = "sha256:" + String(repeating: "0123456789abcdef", count: 4)
    static let pinnedImage = "localhost:5000/todo@\(digest)"
    static let internalToken = "itok-7f3c2a9e4b1d"

    static let todoBundle = BundleManifest(
        app: "todo",
        version: "v1",
        specDigest: "sha256:" + String(repeating: "5eed", count: 16),
        build: BuildInfo(configuration: "release", toolchain: "Swift version 6.3.1", inputDigest: "sha256:feed"),
        endpoints: [
            EndpointPlan(
                name: "listTodos",
                method: "GET",
                path: "/todos",
                handler: "listTodos",
                timeoutMilliseconds: 30_000
            ),
            EndpointPlan(
                name: "getTodo",
                method: "GET",
                path: "/todos/:id",
                handler: "getTodo",
                timeoutMilliseconds: 2000
            ),
            EndpointPlan(
                name: "createTodo",
                method: "POST",
                path: "/todos",
                handler: "createTodo",
                middlewares: ["requireJSON"],
                timeoutMilliseconds: 30_000,
                logExecution: true
            ),
            EndpointPlan(
                name: "updateTodo",
                method: "PUT",
                path: "/todos/:id",
                handler: "updateTodo",
                middlewares: ["requireJSON"],
                timeoutMilliseconds: 30_000,
                logExecution: true
            ),
            EndpointPlan(
                name: "deleteTodo",
                method: "DELETE",
                path: "/todos/:id",
                handler: "deleteTodo",
                timeoutMilliseconds: 30_000,
                requiresAPIKey: true,
                logExecution: true
            ),
            EndpointPlan(
                name: "slowReport",
                method: "GET",
                path: "/reports/slow",
                handler: "slowReport",
                timeoutMilliseconds: 1000,
                logExecution: true
            ),
        ],
        queues: [QueuePlan(name: "imports", handler: "importTodo", retries: 3, delayMilliseconds: 0)],
        cronJobs: [
            CronJobPlan(
                name: "archive-done",
                schedule: "*/5 * * * *",
                timezone: "Europe/Istanbul",
                handler: "archiveDone",
                enabled: true
            )
        ],
        env: [EnvironmentEntry(name: "SEED_TODOS", value: "3")],
        scaling: ScalingPlan(minScale: 0, maxScale: 10, containerConcurrency: 100, timeoutMilliseconds: 30_000)
    )

    static let secret = VersionSecretData(
        internalToken: internalToken,
        apiKeys: [
            APIKeyRecord(
                name: "ci",
                sha256Hex: String(repeating: "ab", count: 32),
                created: "2026-12-01T10:00:00Z"
            )
        ]
    )

    static let options = RenderOptions(namespace: "default", image: pinnedImage, secret: secret)

    static func render(
        _ bundle: BundleManifest = todoBundle,
        options: RenderOptions = options
    ) throws -> RenderedVersion {
        try ManifestRenderer.render(bundle, options: options)
    }

    /// The folder of this file, where `Golden/` is.
    static let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
}
