/// The rule for the names under `env:`.
enum EnvironmentVariableName {
    /// Set by Knative or by the agnost runtime; a value from agnost.yaml would clash with theirs.
    static let reservedNames: Set<String> = ["PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION", "LOG_LEVEL"]
    static let reservedPrefix = "AGNOST_"

    static func validate(_ name: String) throws(ValueError) -> String {
        _ = try NameRule.environmentVariable.validate(name, subject: "environment variable name")
        if reservedNames.contains(name) {
            throw ValueError("environment variable '\(name)' is set by the platform; choose another name")
        }
        if name.hasPrefix(reservedPrefix) {
            throw ValueError(
                "environment variable '\(name)' starts with \(reservedPrefix), which is reserved for the platform; "
                    + "choose another name"
            )
        }
        return name
    }
}
