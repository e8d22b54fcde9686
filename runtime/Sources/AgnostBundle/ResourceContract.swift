/// How a linked resource's connection settings reach a version's server: one environment variable per setting,
/// `AGNOST_RESOURCE_<NAME>_<SETTING>`, where `<NAME>` is the resource's name in `agnost.yaml` in upper case with
/// `-` as `_` (names are DNS labels, so no two names share a prefix).
///
/// On Knative the platform puts them in the version's Secret and the Service reads them from there; `run` reads
/// them from the project's settings file. Both sides take the names from here.
///
/// ```swift
/// ResourceContract.variable(resource: "main-db", setting: .uri)   // "AGNOST_RESOURCE_MAIN_DB_URI"
/// ```
public enum ResourceContract {
    public static let prefix = "AGNOST_RESOURCE_"

    /// The settings of a resource, each in its own variable.
    public enum Setting: String, Sendable, CaseIterable {
        /// A whole connection URI (it may carry the user and password).
        case uri = "URI"
        case host = "HOST"
        case port = "PORT"
        case database = "DATABASE"
        case user = "USER"
        case password = "PASSWORD"
        /// `true` or `false`.
        case tls = "TLS"
        /// Driver options as a URL query, `replicaSet=rs0&authSource=admin`.
        case options = "OPTIONS"
    }

    /// `a=1&b=x%20y`: driver options as ``Setting/options`` holds them, names sorted, each part percent-encoded.
    public static func optionsValue(_ options: [String: String]) -> String {
        options.sorted { $0.key < $1.key }.map { "\(percentEncoded($0.key))=\(percentEncoded($0.value))" }
            .joined(separator: "&")
    }

    private static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func variable(resource: String, setting: Setting) -> String {
        let name = String(resource.uppercased().map { $0 == "-" ? "_" : $0 })
        return "\(prefix)\(name)_\(setting.rawValue)"
    }
}
