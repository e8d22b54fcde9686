public import AgnostBundle

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads `bundle.json`, the compiler's plan of this app version.
public enum BundleLoader {
    /// `AGNOST_BUNDLE` when set, else `bundle.json` next to the running executable.
    public static func load(path: String?) throws(RuntimeStartupError) -> BundleManifest {
        let location = path ?? defaultPath()
        let data: Data
        do {
            data = try Data(contentsOf: URL(filePath: location))
        } catch {
            throw RuntimeStartupError(
                .bundleNotFound,
                "cannot read the bundle manifest \(location); set AGNOST_BUNDLE to the bundle.json that "
                    + "'agnost-fn build' wrote, or keep it next to the server binary"
            )
        }
        let manifest: BundleManifest
        do {
            manifest = try JSONDecoder().decode(BundleManifest.self, from: data)
        } catch {
            throw RuntimeStartupError(
                .invalidBundle,
                "\(location) is not a bundle manifest (\(error)); rebuild it with 'agnost-fn build'"
            )
        }
        guard manifest.schemaVersion == BundleManifest.currentSchemaVersion else {
            throw RuntimeStartupError(
                .invalidBundle,
                "\(location) has schema version \(manifest.schemaVersion) but this runtime reads version "
                    + "\(BundleManifest.currentSchemaVersion); rebuild with the matching 'agnost-fn build'"
            )
        }
        return manifest
    }

    private static func defaultPath() -> String {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        let directory = executable.split(separator: "/", omittingEmptySubsequences: false).dropLast()
            .joined(separator: "/")
        return (directory.isEmpty ? "." : directory) + "/bundle.json"
    }
}
