import AgnostBundle
import AgnostDigest
import Foundation

/// Making, listing and revoking the API keys of a deployed version, whose hashes live in its Secret.
///
/// A key is shown once, when it is made; the Secret keeps only its SHA-256, which is what the runtime compares
/// against. Each change rolls a new revision (the template carries the digest of the Secret's key hashes), so a
/// new key works, and a revoked one stops working, as soon as the change returns.
///
/// ```swift
/// let (key, record) = APIKeyMaker.make(named: "ci", existing: data.apiKeys, at: Date())
/// ```
public enum APIKeyMaker {
    /// A new key, `ak_` and 64 hex digits of the system's secure random generator, and its record.
    public static func make(
        named name: String?,
        existing: [APIKeyRecord],
        at date: Date
    ) throws(DeployError) -> (key: String, record: APIKeyRecord) {
        let chosen = name ?? nextName(existing)
        guard
            !chosen.isEmpty, chosen.count <= 63,
            chosen.utf8.allSatisfy({
                $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0)
            })
        else {
            throw DeployError(
                .render,
                "key name '\(chosen)' must be 1 to 63 characters of a-z, 0-9 and '-'"
            )
        }
        guard !existing.contains(where: { $0.name == chosen }) else {
            throw DeployError(.render, "there is already a key named \(chosen); pick another name, or revoke it first")
        }
        let key = "ak_" + Deployer.newToken()
        let record = APIKeyRecord(
            name: chosen,
            sha256Hex: SHA256.hash(key.utf8).hexString,
            created: date.formatted(.iso8601)
        )
        return (key, record)
    }

    /// `key-1`, `key-2`, …: the first not taken.
    static func nextName(_ existing: [APIKeyRecord]) -> String {
        let taken = Set(existing.map(\.name))
        return (1...).lazy.map { "key-\($0)" }.first { !taken.contains($0) }!
    }
}

extension Deployer {
    /// Changes the Secret of the version `bundle` describes, as deployed with the image it runs now, and waits for
    /// the revision that reads it.
    ///
    /// The version must have been deployed from this `agnost.yaml` (the Service's spec digest annotation says so):
    /// re-rendering from another one would deploy more than a key change.
    public func changeSecret(
        of bundle: BundleManifest,
        wait: Duration?,
        _ change: (VersionSecretData) throws(DeployError) -> VersionSecretData
    ) async throws(DeployError) -> Result {
        let service = bundle.serviceName
        let context = "\(namespace)/\(service)"
        let live = try await self.service(service)
        let annotations = live.metadata.annotations
        guard let image = annotations[ManifestAnnotations.image] else {
            throw DeployError(
                .notDeployed,
                "Service \(service) was not deployed by agnost-fn (it has no \(ManifestAnnotations.image) annotation)",
                context: context
            )
        }
        guard annotations[ManifestAnnotations.specDigest] == bundle.specDigest else {
            throw DeployError(
                .notDeployed,
                "agnost.yaml has changed since this version was deployed; deploy it first, then change its keys",
                context: context
            )
        }
        guard let current = try await secretData(of: service) else {
            throw DeployError(.notDeployed, "Service \(service) has no Secret \(service)", context: context)
        }
        let changed = try change(current)
        var options = Options(wait: wait)
        options.secret = { _ in changed }
        // The Triggers stay on the Broker the version was deployed with (a Trigger's broker cannot change).
        if let broker = annotations[ManifestAnnotations.broker] { options.broker = broker }
        return try await deploy(bundle, image: image, options: options)
    }
}
