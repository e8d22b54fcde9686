import AgnostSpec

/// Checks `yaml` as a file named agnost.yaml.
func check(_ yaml: String) -> SpecCheckResult {
    SpecChecker.check(source: yaml, file: "agnost.yaml")
}

/// The diagnostics for `yaml`, as editors would show them.
func diagnostics(_ yaml: String) -> [String] {
    check(yaml).diagnostics.map(\.description)
}

/// A location in agnost.yaml.
func at(_ line: Int, _ column: Int) -> SourceLocation {
    SourceLocation(file: "agnost.yaml", line: line, column: column)
}

func located<Value>(_ value: Value, _ line: Int, _ column: Int) -> Located<Value> {
    Located(value, at: at(line, column))
}
