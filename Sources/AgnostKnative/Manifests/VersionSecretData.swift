import AgnostBundle
import AgnostDigest
import Foundation

/// One API key of a version: only its SHA-256 is stored, the key itself is shown once when it is created.
///
/// ```swift
/// APIKeyRecord(name: "ci", sha256Hex: SHA256.hash(Array(key.utf8)).hexString, created: "2026-12-02T01:00:00Z")
/// ```
public struct APIKeyRecord: Hashable, Sendable {
    public var name: String
    /// 64 lowercase hex digits.
    public var sha256Hex: String
    /// When the key was made, RFC 3339, e.g. `2026-12-02T01:00:00Z`.
    public var created: String

    public init(name: String, sha256Hex: String, created: String) {
        self.name = name
        self.sha256Hex = sha256Hex
        self.created = created
    }
}

/// What the version's Secret `<app>-<version>` holds, which the deployer owns and the runtime reads through
/// environment variables.
///
/// The Secret's `data` has `AGNOST_INTERNAL_TOKEN`; `AGNOST_API_KEYS`, the comma-joined hashes in the form the
/// runtime's variable of that name takes; `api-keys.json`, the records with names and dates, for listing and
/// revoking; and, for a version deployed by the platform, the settings of its linked resources, one key per
/// variable ``ResourceContract`` names.
///
/// ```swift
/// var data = VersionSecretData(secretData: try decodedDataOfTheSecret())
/// data.apiKeys.append(record)
/// let rendered = try ManifestRenderer.render(bundle, options: RenderOptions(namespace: "default", image: pinned, secret: data))
/// ```
public struct VersionSecretData: Hashable, Sendable {
    public static let internalTokenKey = "AGNOST_INTERNAL_TOKEN"
    public static let apiKeysKey = "AGNOST_API_KEYS"
    public static let apiKeyRecordsKey = "api-keys.json"

    public var internalToken: String
    /// In the order they were created.
    public var apiKeys: [APIKeyRecord]
    /// The linked resources' settings by variable name, `AGNOST_RESOURCE_MAINDB_URI` and so on.
    public var resourceSettings: [String: String]

    public init(internalToken: String, apiKeys: [APIKeyRecord] = [], resourceSettings: [String: String] = [:]) {
        self.internalToken = internalToken
        self.apiKeys = apiKeys
        self.resourceSettings = resourceSettings
    }

    /// Reads the decoded `data` of an existing Secret, tolerating missing or damaged keys (they read as empty), so
    /// that a hand-edited Secret never blocks a deploy.
    ///
    /// When `api-keys.json` is missing or unreadable, the hashes in `AGNOST_API_KEYS` are kept as unnamed records:
    /// a key someone added by hand is not silently revoked by the next write.
    public init(secretData: [String: [UInt8]]) {
        internalToken = secretData[Self.internalTokenKey].flatMap { String(validating: $0, as: UTF8.self) } ?? ""
        if let json = secretData[Self.apiKeyRecordsKey], let records = try? ManifestValue(json: json).arrayValue {
            apiKeys = records.compactMap { record in
                guard let hash = record["sha256"]?.stringValue else { return nil }
                return APIKeyRecord(
                    name: record["name"]?.stringValue ?? "",
                    sha256Hex: hash,
                    created: record["created"]?.stringValue ?? ""
                )
            }
        } else {
            let hashes = secretData[Self.apiKeysKey].map { String(decoding: $0, as: UTF8.self) } ?? ""
            apiKeys = hashes.split(separator: ",").map { APIKeyRecord(name: "", sha256Hex: String($0), created: "") }
        }
        resourceSettings = secretData.filter { $0.key.hasPrefix(ResourceContract.prefix) }.mapValues {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// Reads a Secret as the API server returns it, its `data` in base64; entries that are not base64 read as
    /// missing.
    ///
    /// ```swift
    /// let current = VersionSecretData(secret: try KubernetesObject(body: ManifestValue(json: responseBytes)))
    /// ```
    public init(secret: KubernetesObject) {
        let members = secret.body["data"]?.objectValue ?? []
        self.init(
            secretData: Dictionary(
                members.compactMap { member in
                    member.value.stringValue.flatMap { Data(base64Encoded: $0) }.map { (member.key, [UInt8]($0)) }
                },
                uniquingKeysWith: { _, last in last }
            )
        )
    }

    /// The Secret's `data` before base64, key by key.
    public var secretData: [String: [UInt8]] {
        let records: ManifestValue = .array(
            apiKeys.map { ["name": .string($0.name), "sha256": .string($0.sha256Hex), "created": .string($0.created)] }
        )
        var data = [
            Self.internalTokenKey: Array(internalToken.utf8),
            Self.apiKeysKey: Array(apiKeys.map(\.sha256Hex).joined(separator: ",").utf8),
            Self.apiKeyRecordsKey: records.jsonBytes(),
        ]
        for (variable, value) in resourceSettings { data[variable] = Array(value.utf8) }
        return data
    }

    /// The Secret's `data` field: base64 values, keys sorted.
    var encodedData: ManifestValue {
        .sortedStrings(secretData.mapValues { Data($0).base64EncodedString() })
    }

    /// `sha256:<hex>` of the Secret's `data` in canonical JSON, but for the internal token: it changes exactly when
    /// the API keys or linked settings do. The token is left out because it never changes once made, and so that
    /// neither it nor anything derived from it appears in the Service, which more people may read than the Secret;
    /// it also makes a first deploy's revision name the one a render without a cluster shows.
    ///
    /// The resource settings enter only as an HMAC keyed with the token: a plain hash of a password, which the
    /// Service would show, could be tested against guesses.
    var digest: String {
        var data = secretData
        data[Self.internalTokenKey] = nil
        for variable in resourceSettings.keys { data[variable] = nil }
        if !resourceSettings.isEmpty {
            let settings = ManifestValue.sortedStrings(resourceSettings).jsonBytes()
            data["resources"] = Array(
                HMACSHA256.authenticate(settings, key: Array(internalToken.utf8)).hexString.utf8
            )
        }
        return SHA256.hash(ManifestValue.sortedStrings(data.mapValues { Data($0).base64EncodedString() }).jsonBytes())
            .description
    }
}

/// Printing never shows the token: messages and test failures may end up in logs.
extension VersionSecretData: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "VersionSecretData(internalToken: <\(internalToken.isEmpty ? "empty" : "redacted")>, apiKeys: "
            + "\(apiKeys.map(\.name)), resourceSettings: \(resourceSettings.keys.sorted()))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["apiKeys": apiKeys.map(\.name), "resourceSettings": resourceSettings.keys.sorted()])
    }
}
