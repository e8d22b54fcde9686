import Foundation
import Testing

/// Removes a folder that the tests of a suite share (a project with its whole `.build` tree, say) once all of
/// them have run, passed or failed.
///
/// ```swift
/// @Suite(.serialized, .removedAfterwards(EndToEndTests.workspace))
/// struct EndToEndTests { static let workspace = … }
/// ```
public struct RemovedAfterSuite: SuiteTrait, TestScoping {
    public let folder: URL

    /// Once around the whole suite, not around each of its tests.
    public var isRecursive: Bool { false }

    public func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        try await function()
    }
}

extension Trait where Self == RemovedAfterSuite {
    /// Removes `folder` after the suite.
    public static func removedAfterwards(_ folder: URL) -> Self { RemovedAfterSuite(folder: folder) }
}
