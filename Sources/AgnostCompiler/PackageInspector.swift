import Foundation

/// Reads the handler package's manifest through `swift package dump-package` and finds what the generated
/// server depends on: its one library product and the runtime package it links.
///
/// Asking SwiftPM, rather than parsing `Package.swift`, gets the answer right for any way of writing the manifest.
public enum PackageInspector {
    /// - Parameter manifestJSON: the output of `swift package dump-package`.
    /// - Parameter directory: the handler package's root, whose name is its SwiftPM identity.
    public static func handlerPackage(manifestJSON: Data, directory: URL) throws(CompilerError) -> HandlerPackage {
        let manifest: DumpedManifest
        do {
            manifest = try JSONDecoder().decode(DumpedManifest.self, from: manifestJSON)
        } catch {
            throw CompilerError(.invalidPackage, "could not read the output of 'swift package dump-package': \(error)")
        }
        let libraries = manifest.products.filter { $0.type.library != nil }
        guard libraries.count == 1, let library = libraries.first else {
            let names = libraries.map(\.name).joined(separator: ", ")
            throw CompilerError(
                .invalidPackage,
                libraries.isEmpty
                    ? "Package.swift declares no library product; add `.library(name: \"Handlers\", targets: [\"Handlers\"])` "
                        + "with the target that holds the handler functions"
                    : "Package.swift declares several library products (\(names)); keep exactly one, holding the "
                        + "handler functions"
            )
        }
        let libraryTargets = manifest.targets.filter { library.targets.contains($0.name) }
        let runtimeIdentity = libraryTargets.lazy.flatMap(\.dependencies).compactMap(\.product).first {
            $0.name == "AgnostRuntime"
        }?.package
        guard let runtimeIdentity,
            let runtime = manifest.dependencies.lazy.compactMap({ $0.fileSystem?.first }).first(where: {
                $0.identity == runtimeIdentity
            })
        else {
            throw CompilerError(
                .invalidPackage,
                "the handler library '\(library.name)' does not depend on AgnostRuntime by path; add "
                    + "`.package(path: \"<agnost-fn>/runtime\")` to Package.swift and "
                    + "`.product(name: \"AgnostRuntime\", package: \"runtime\")` to the target's dependencies"
            )
        }
        return HandlerPackage(
            identity: directory.standardizedFileURL.lastPathComponent.lowercased(),
            product: library.name,
            modules: library.targets,
            runtimeIdentity: runtimeIdentity,
            runtimePath: runtime.path
        )
    }
}

/// The parts of `dump-package` JSON the compiler reads.
private struct DumpedManifest: Decodable {
    struct Product: Decodable {
        struct Kind: Decodable {
            let library: [String]?
        }

        let name: String
        let targets: [String]
        let type: Kind
    }

    struct Target: Decodable {
        struct Dependency: Decodable {
            /// `["AgnostRuntime", "runtime", null, null]`: product name, then package identity.
            let product: ProductReference?
        }

        let name: String
        let dependencies: [Dependency]
    }

    struct ProductReference: Decodable {
        let name: String
        let package: String?

        init(from decoder: any Decoder) throws {
            var fields = try decoder.unkeyedContainer()
            name = try fields.decode(String.self)
            package = try fields.decodeIfPresent(String.self)
        }
    }

    struct PackageDependency: Decodable {
        struct FileSystem: Decodable {
            let identity: String
            let path: String
        }

        let fileSystem: [FileSystem]?
    }

    let products: [Product]
    let targets: [Target]
    let dependencies: [PackageDependency]
}
