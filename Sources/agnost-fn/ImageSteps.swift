import AgnostCompiler
import AgnostImage
import AgnostOCI
import AgnostRegistry
import ArgumentParser
import Foundation

/// Packaging as `build` does it: the request from the options and the environment, progress on stderr.
enum ImageSteps {
    /// The image options of `build`, parsed.
    struct Options {
        var output: LayoutReference?
        var name: ImageReference?
        var base: LayoutReference?
        /// A registry base, pulled into the project's cache before packaging.
        var baseReference: ImageReference?
        var insecure = false
        /// `SOURCE_DATE_EPOCH`, read before the build so that a bad value fails fast.
        var creationTime: Int64 = 0
    }

    static func package(_ build: BuildResult, project: ProjectOptions, options: Options) throws -> PackagedImage {
        let agnostDirectory = project.directory.appendingPathComponent(".agnost")
        let start = ContinuousClock.now
        var base = options.base
        if let reference = options.baseReference {
            base = LayoutReference(
                transport: .layout,
                path: agnostDirectory.appendingPathComponent("cache/base").path,
                tag: "base"
            )
            if let base {
                _ = try RegistrySteps.pull(
                    reference,
                    into: base,
                    platform: ImagePuller.hostPlatform,
                    insecure: options.insecure
                )
            }
        }
        do throws(ImageError) {
            let defaultOutput = LayoutReference(
                transport: .layout,
                path: agnostDirectory.appendingPathComponent("image").path
            )
            let request = ImagePackageRequest(
                bundleDirectory: build.bundleDirectory.path,
                title: build.manifest.app,
                version: build.manifest.version,
                revision: ImagePackageRequest.gitRevision(of: project.directory.path),
                creationTime: options.creationTime,
                base: base,
                baseName: options.baseReference?.description,
                output: options.output ?? defaultOutput,
                imageRepository: options.name.map { "\($0.registry)/\($0.repository)" },
                imageTag: options.name?.tag,
                cacheDirectory: agnostDirectory.appendingPathComponent("cache").path,
                ownsOutput: options.output == nil
            )
            let packager = ImagePackager { event in
                switch event {
                case .stageFinished(let name, let elapsed):
                    Console.status("  \(name) (\(Console.format(elapsed)))")
                case .layer(let role, let blob, let reused):
                    Console.status(
                        "  \(role.rawValue) layer \(blob.digest.hexString.prefix(12)) \(Console.format(bytes: blob.size))"
                            + (reused ? " (cached)" : "")
                    )
                }
            }
            let packaged = try packager.package(request)
            Console.status(
                "\(build.manifest.serviceName): packaged \(packaged.output.transport.rawValue):\(packaged.output.path):"
                    + "\(packaged.tag), \(Console.format(bytes: packaged.size)) compressed, in "
                    + Console.format(ContinuousClock.now - start)
            )
            return packaged
        } catch {
            Console.error(error.description)
            throw ExitCode.failure
        }
    }
}
