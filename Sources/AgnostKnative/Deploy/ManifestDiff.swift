import AgnostBundle

/// What a dry-run apply would change in an object, field by field, as lines a person reads:
/// `+ path: value` (added), `- path: value` (removed), `~ path: old → new` (changed).
///
/// Fields the API server keeps for itself (`status`, `resourceVersion`, `generation`, `uid`,
/// `creationTimestamp`, `managedFields`) are left out: they change on every write and say nothing about intent.
///
/// ```swift
/// ManifestDiff.changes(from: live, to: dryRun.object, hidingValues: false)
/// // ["~ spec.template.metadata.name: \"todo-v1-3f2a9c1\" → \"todo-v1-8d0e4b7\""]
/// ```
enum ManifestDiff {
    static let serverFields: Set<String> = [
        "metadata.resourceVersion", "metadata.generation", "metadata.uid", "metadata.creationTimestamp",
        "metadata.managedFields", "metadata.selfLink", "status",
    ]

    /// Where credentials are: a Secret's data, and a PingSource's cron sender token.
    static let credentialPaths = ["data", "stringData", "spec.ceOverrides.extensions.\(EventContract.Extension.token)"]

    /// - Parameter hidingValues: show that credential fields (a Secret's `data`, a PingSource's sender token)
    ///   changed, never their values.
    static func changes(from before: [UInt8]?, to after: [UInt8], hidingValues: Bool) -> [String] {
        guard let after = try? ManifestValue(json: after) else { return ["the answer could not be compared"] }
        guard let before else { return ["+ (the whole object: it does not exist yet)"] }
        guard let old = try? ManifestValue(json: before) else { return ["the live object could not be compared"] }
        var lines: [String] = []
        compare(old, after, path: "", hidingValues: hidingValues, into: &lines)
        return lines
    }

    private static func compare(
        _ old: ManifestValue?,
        _ new: ManifestValue?,
        path: String,
        hidingValues: Bool,
        into lines: inout [String]
    ) {
        if serverFields.contains(path) { return }
        switch (old, new) {
        case (nil, nil):
            return
        case (let old?, nil):
            lines.append("- \(path): \(show(old, path, hidingValues))")
        case (nil, let new?):
            lines.append("+ \(path): \(show(new, path, hidingValues))")
        case (let old?, let new?):
            if let oldFields = old.objectValue, let newFields = new.objectValue {
                var keys = oldFields.map(\.key)
                for key in newFields.map(\.key) where !keys.contains(key) { keys.append(key) }
                for key in keys {
                    compare(
                        old[key],
                        new[key],
                        path: path.isEmpty ? key : "\(path).\(key)",
                        hidingValues: hidingValues,
                        into: &lines
                    )
                }
            } else if let oldItems = old.arrayValue, let newItems = new.arrayValue {
                for index in 0..<max(oldItems.count, newItems.count) {
                    compare(
                        index < oldItems.count ? oldItems[index] : nil,
                        index < newItems.count ? newItems[index] : nil,
                        path: "\(path)[\(index)]",
                        hidingValues: hidingValues,
                        into: &lines
                    )
                }
            } else if old != new {
                lines.append("~ \(path): \(show(old, path, hidingValues)) → \(show(new, path, hidingValues))")
            }
        }
    }

    private static func show(_ value: ManifestValue, _ path: String, _ hidingValues: Bool) -> String {
        // The path itself, inside one, or around one (an object added whole shows the credential it holds).
        let secretPath = credentialPaths.contains { path == $0 || path.hasPrefix("\($0).") || $0.hasPrefix("\(path).") }
        if hidingValues && secretPath { return "(hidden)" }
        let text = String(decoding: value.jsonBytes(), as: UTF8.self)
        return text.count > 100 ? text.prefix(97) + "…" : text
    }
}
