import Testing

@testable import AgnostOCI

struct ReferenceParsingTests {
    @Test(arguments: [
        ("oci:build/image", LayoutReference(transport: .layout, path: "build/image")),
        ("oci:/tmp/layout:v2", LayoutReference(transport: .layout, path: "/tmp/layout", tag: "v2")),
        ("oci-archive:out/todo.tar", LayoutReference(transport: .archive, path: "out/todo.tar")),
        ("oci-archive:todo.tar:1.0_rc-1", LayoutReference(transport: .archive, path: "todo.tar", tag: "1.0_rc-1")),
    ])
    func layoutReferencesParse(text: String, expected: LayoutReference) throws {
        #expect(try LayoutReference(parsing: text, option: "--output") == expected)
        #expect(expected.description == text)
    }

    @Test(arguments: [
        ("docker://todo", "'docker://todo' is not oci:DIR[:TAG] or oci-archive:FILE[:TAG]"),
        ("image", "'image' is not oci:DIR[:TAG] or oci-archive:FILE[:TAG]"),
        ("oci:", "'oci:' names no folder"),
        ("oci:dir:-bad", "'-bad' is not a valid tag"),
        ("oci:dir:", "'' is not a valid tag"),
    ])
    func badLayoutReferencesNameTheOptionAndTheForm(text: String, message: String) {
        #expect {
            try LayoutReference(parsing: text, option: "--output")
        } throws: { error in
            let error = error as? ImageError
            return error?.code == .invalidArgument && error?.context == "--output"
                && error?.message.hasPrefix(message) == true
        }
    }

    @Test func aBaseMustBeALayoutFolder() {
        #expect(throws: ImageError.self) {
            try LayoutReference(parsing: "oci-archive:base.tar", option: "--base", allowed: [.layout])
        }
    }
}
