import AgnostSpec
import Foundation
import Testing

@Suite("Reading agnost.yaml from disk")
final class SpecFileTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "AgnostSpecTests-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    private func write(_ data: Data, to name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    @Test func diagnosticsShowTheDisplayPath() throws {
        let path = try write(
            Data("app: todo\nversion: V1\nqueues: [{ name: q, handler: h }]\n".utf8),
            to: "agnost.yaml"
        )
        let result = try SpecChecker.check(fileAt: path, displayPath: "samples/todo/agnost.yaml")
        #expect(
            result.diagnostics.map(\.description) == [
                "samples/todo/agnost.yaml:2:10: error: version 'V1' is invalid; use lowercase letters, digits and '-', "
                    + "starting and ending with a letter or digit"
            ]
        )
    }

    @Test func missingFileIsNotFound() {
        let error = #expect(throws: SpecFileError.self) {
            try SpecChecker.check(fileAt: directory.appendingPathComponent("nope.yaml").path, displayPath: "nope.yaml")
        }
        #expect(error?.code == .notFound)
        #expect(error?.path == "nope.yaml")
        #expect(
            error?.description
                == "nope.yaml: error: no such file; create a project there, or name the folder that holds one"
        )
    }

    @Test func directoryIsUnreadable() {
        let error = #expect(throws: SpecFileError.self) {
            try SpecChecker.check(fileAt: directory.path, displayPath: "project")
        }
        #expect(error?.code == .unreadable)
        #expect(error?.description == "project: error: is a directory; pass the path of the agnost.yaml file")
    }

    @Test func invalidUTF8IsReported() throws {
        let path = try write(Data([0x61, 0x70, 0x70, 0x3A, 0x20, 0xFF, 0xFE, 0x0A]), to: "latin1.yaml")
        let error = #expect(throws: SpecFileError.self) {
            try SpecChecker.check(fileAt: path, displayPath: "latin1.yaml")
        }
        #expect(error?.code == .notUTF8)
        #expect(error?.description == "latin1.yaml: error: is not UTF-8 text; save it as UTF-8")
    }
}
