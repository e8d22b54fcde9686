import Testing

@testable import AgnostKnative

@Suite struct ManifestDiffTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func changedAddedAndRemovedFieldsEachGetALineAndServerFieldsNone() {
        let live = bytes(
            #"{"metadata":{"name":"todo-v1","resourceVersion":"7","generation":2,"labels":{"a":"1","b":"2"}},"#
                + #""spec":{"template":{"metadata":{"name":"todo-v1-aaaaaaa"}},"traffic":[{"percent":100}]},"#
                + #""status":{"url":"http://x"}}"#
        )
        let applied = bytes(
            #"{"metadata":{"name":"todo-v1","resourceVersion":"8","generation":3,"labels":{"a":"1","c":"3"}},"#
                + #""spec":{"template":{"metadata":{"name":"todo-v1-bbbbbbb"}},"traffic":[{"percent":100}]}}"#
        )
        #expect(
            ManifestDiff.changes(from: live, to: applied, hidingValues: false) == [
                #"- metadata.labels.b: "2""#,
                #"+ metadata.labels.c: "3""#,
                #"~ spec.template.metadata.name: "todo-v1-aaaaaaa" → "todo-v1-bbbbbbb""#,
            ]
        )
    }

    @Test func aSecretsValuesAreNeverShown() {
        let live = bytes(#"{"metadata":{"name":"todo-v1"},"data":{"AGNOST_API_KEYS":"b2xk"}}"#)
        let applied = bytes(#"{"metadata":{"name":"todo-v1"},"data":{"AGNOST_API_KEYS":"bmV3","EXTRA":"eA=="}}"#)
        let lines = ManifestDiff.changes(from: live, to: applied, hidingValues: true)
        #expect(lines == ["~ data.AGNOST_API_KEYS: (hidden) → (hidden)", "+ data.EXTRA: (hidden)"])
        let created = ManifestDiff.changes(from: bytes(#"{"metadata":{"name":"x"}}"#), to: applied, hidingValues: true)
        #expect(created.allSatisfy { !$0.contains("bmV3") && !$0.contains("eA==") })
    }

    @Test func aNewObjectAndAnIdenticalOne() {
        let object = bytes(#"{"metadata":{"name":"todo-v1"},"spec":{"x":1}}"#)
        #expect(ManifestDiff.changes(from: nil, to: object, hidingValues: false).count == 1)
        #expect(ManifestDiff.changes(from: object, to: object, hidingValues: false).isEmpty)
    }
}
