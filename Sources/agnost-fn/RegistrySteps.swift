import AgnostDigest
import AgnostImage
import AgnostRegistry
import ArgumentParser
import Foundation

/// Pushing as `push` and `build --push` do it: credentials from Docker's configuration, one line per blob.
enum RegistrySteps {
    static func reference(_ text: String, option: String, defaultTag: String?) throws -> ImageReference {
        do throws(RegistryError) {
            return try tagged(ImageReference(parsing: text, option: option), defaultTag: defaultTag)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The reference as given when it has a tag or digest, else with the image's own tag.
    static func tagged(_ reference: ImageReference, defaultTag: String?) throws(RegistryError) -> ImageReference {
        guard reference.tag == nil, reference.digest == nil else { return reference }
        return try reference.with(tag: defaultTag ?? "latest")
    }

    static func push(_ source: LayoutReference, to destination: ImageReference, insecure: Bool) throws -> ImageReference
    {
        let environment = ProcessInfo.processInfo.environment
        let start = ContinuousClock.now
        do {
            let config = try DockerConfig(path: DockerConfig.defaultPath(environment: environment))
            let credentials = try config.credentials(for: destination.credentialKey, environment: environment)
            let pusher = ImagePusher { event in
                switch event {
                case .blob(let digest, let size, let outcome, let elapsed):
                    let rate =
                        elapsed > .zero
                        ? " at \(Console.format(bytes: Int64(Double(size) / (elapsed / .seconds(1)))))/s" : ""
                    let what =
                        switch outcome {
                        case .present: "already there"
                        case .mounted: "mounted"
                        case .uploaded: "uploaded in \(Console.format(elapsed))\(rate)"
                        }
                    Console.status("  blob \(digest.hexString.prefix(12)) \(Console.format(bytes: size)) \(what)")
                case .manifest(let digest, let reference):
                    Console.status("  manifest \(digest.hexString.prefix(12)) as \(reference)")
                }
            }
            let pushed = try pusher.push(
                from: source,
                to: destination,
                plainHTTP: insecure || destination.isLocal,
                credentials: credentials
            )
            Console.status("pushed \(source) to \(destination) in \(Console.format(ContinuousClock.now - start))")
            return pushed
        } catch {
            Console.error(error.description)
            throw ExitCode.failure
        }
    }
}

extension RegistrySteps {
    static func pull(
        _ reference: ImageReference,
        into destination: LayoutReference,
        platform: Platform,
        insecure: Bool
    ) throws -> SHA256Digest {
        let environment = ProcessInfo.processInfo.environment
        let start = ContinuousClock.now
        do {
            let config = try DockerConfig(path: DockerConfig.defaultPath(environment: environment))
            let digest = try ImagePuller().pull(
                reference,
                into: destination,
                platform: platform,
                plainHTTP: insecure || reference.isLocal,
                credentials: try config.credentials(for: reference.credentialKey, environment: environment)
            )
            Console.status("pulled \(reference) into \(destination) in \(Console.format(ContinuousClock.now - start))")
            return digest
        } catch {
            Console.error(error.description)
            throw ExitCode.failure
        }
    }
}
