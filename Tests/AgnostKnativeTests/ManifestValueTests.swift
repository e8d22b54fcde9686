import AgnostKnative
import Testing
import Yams

/// The ordered JSON tree: its JSON and YAML forms, and reading JSON back.
struct ManifestValueTests {
    /// Strings a YAML reader could take for something else, or that need escapes.
    static let trickyStrings = [
        "true", "True", "FALSE", "yes", "No", "on", "OFF", "y", "n", "null", "Null", "~", "", "0", "1", "-1", "+1",
        "1.0", ".5", "1e3", "0x1F", "0o17", "1_000", "12:30", "2001-12-14", ".inf", "-.inf", ".nan", " leading",
        "trailing ", "a: b", "a #b", "#comment", "key:", "- item", "-", "[x]", "{x}", "*alias", "&anchor", "!tag",
        "|", ">", "%x", "@x", "`x", "'single'", "\"double\"", "multi\nline", "tab\there", "back\\slash", "bell\u{7}",
        "ünïcödé", "日本語", "emoji 🎉", "<<", "=", "a,b", "?", "?x", "/agnost/ready", "sha256:abc", "a:b",
        "http://example.com/x?y=1", "app.kubernetes.io/name", "user-container", "v1",
    ]

    static let sample: ManifestValue = [
        "apiVersion": "v1",
        "kind": "Thing",
        "metadata": ["name": "x", "annotations": [:], "labels": ["b": "2", "a": "1"]],
        "spec": [
            "strings": .array(trickyStrings.map(ManifestValue.string)),
            "numbers": [0, -7, 9_223_372_036_854_775_807, .decimal("1.5"), .decimal("-2e-3")],
            "flags": [true, false, .null],
            "empty": [],
            "nested": [[1, 2], [], [["a": [["b": "c"]]]]],
            "tricky keys": ["true": 1, "0": 2, "a: b": 3, "": 4],
        ],
    ]

    @Test func jsonIsCompactOrderedAndParsesBackEqual() throws {
        let value: ManifestValue = ["b": 1, "a": ["z": "/x", "y": "é\"\n"], "c": [true, .null]]
        let json = value.jsonBytes()
        #expect(String(decoding: json, as: UTF8.self) == #"{"b":1,"a":{"z":"/x","y":"é\"\n"},"c":[true,null]}"#)
        #expect(try ManifestValue(json: json) == value)
        #expect(try ManifestValue(json: Self.sample.jsonBytes()) == Self.sample)
    }

    @Test func parsingKeepsKeyOrderAndReadsEscapes() throws {
        let parsed = try ManifestValue(
            json: Array(#" { "z" : 1 , "a" : [ ] , "m":{"k":"\u00e9\ud83c\udf89\/\t"}, "z": 2 } "#.utf8)
        )
        #expect(parsed.objectValue?.map(\.key) == ["z", "a", "m"])
        #expect(parsed["z"] == 2)
        #expect(parsed["m"]?["k"]?.stringValue == "é🎉/\t")
        #expect(parsed["a"]?.arrayValue?.isEmpty == true)
        #expect(parsed["missing"] == nil)
        #expect(parsed["a"]?[0] == nil)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "1.", "-", "1e", "tru", "\"abc", "\"\\x\"", "\"\\u12\"",
        "\"\\ud83c\"", "\"\u{1}\"", "{} x", "[1 2]", "{1:2}", "nul",
    ])
    func malformedJSONIsATypedError(text: String) {
        #expect {
            try ManifestValue(json: Array(text.utf8))
        } throws: { error in
            (error as? ManifestError)?.code == .invalidJSON
        }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let bomb = Array(repeating: UInt8(ascii: "["), count: 100_000)
        #expect(throws: ManifestError.self) { try ManifestValue(json: bomb) }
    }

    @Test func invalidUTF8InAStringIsRefused() {
        #expect(throws: ManifestError.self) { try ManifestValue(json: [0x22, 0xFF, 0xFE, 0x22]) }
    }

    @Test func subscriptSetsReplacesAndRemovesInPlace() {
        var value: ManifestValue = ["a": 1, "b": 2]
        value["a"] = "one"
        value["c"] = 3
        value["b"] = nil
        #expect(value == ["a": "one", "c": 3])
        var scalar: ManifestValue = 5
        scalar["a"] = 1
        #expect(scalar == 5)
    }

    @Test func sortingKeysSortsEveryObject() {
        let value: ManifestValue = ["b": ["y": 1, "x": 2], "a": [["d": 1, "c": 2]]]
        #expect(value.sortingKeys() == ["a": [["c": 2, "d": 1]], "b": ["x": 2, "y": 1]])
    }

    @Test func yamlIsKubectlLikeBlockStyle() {
        let value: ManifestValue = [
            "metadata": ["name": "todo-v1", "annotations": ["autoscaling.knative.dev/min-scale": "0"]],
            "spec": ["containers": [["name": "user-container", "ports": [["containerPort": 8080]]]], "empty": [:]],
        ]
        #expect(
            value.yaml() == """
                metadata:
                  name: todo-v1
                  annotations:
                    autoscaling.knative.dev/min-scale: "0"
                spec:
                  containers:
                  - name: user-container
                    ports:
                    - containerPort: 8080
                  empty: {}

                """
        )
    }

    /// Read by Yams, whose resolver is YAML 1.1's like kubectl's: every tricky string comes back a string.
    @Test func yamlReadsBackAsTheSameTree() throws {
        let yaml = Self.sample.yaml()
        let node = try #require(try Yams.compose(yaml: yaml))
        #expect(try ManifestValue(yamlNode: node) == Self.sample, "\(yaml)")
    }

    @Test func renderedObjectsReadBackFromTheirYAML() throws {
        for object in try ManifestFixtures.render().objects {
            let node = try #require(try Yams.compose(yaml: object.yaml()))
            #expect(try ManifestValue(yamlNode: node) == object.body)
        }
    }

    @Test(arguments: trickyStrings)
    func eachTrickyStringSurvivesYAMLAsAKeyAndAValue(text: String) throws {
        let value: ManifestValue = .object([(text, .string(text))])
        let node = try #require(try Yams.compose(yaml: value.yaml()))
        #expect(try ManifestValue(yamlNode: node) == value, "\(value.yaml())")
    }
}

extension ManifestValue {
    /// The tree Yams read, with scalars typed by its resolver.
    init(yamlNode node: Node) throws {
        switch node {
        case .mapping(let mapping):
            self = .object(
                try mapping.map { key, value in
                    (try #require(key.string), try ManifestValue(yamlNode: value))
                }
            )
        case .sequence(let sequence):
            self = .array(try sequence.map { try ManifestValue(yamlNode: $0) })
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.str.rawValue: self = .string(scalar.string)
            case Tag.Name.int.rawValue: self = .integer(try #require(node.int))
            case Tag.Name.float.rawValue: self = .decimal(scalar.string)
            case Tag.Name.bool.rawValue: self = .bool(try #require(node.bool as Bool?))
            case Tag.Name.null.rawValue: self = .null
            default: throw YamlError.representer(problem: "unexpected tag \(node.tag) for '\(scalar.string)'")
            }
        case .alias:
            throw YamlError.representer(problem: "unexpected alias")
        }
    }
}
