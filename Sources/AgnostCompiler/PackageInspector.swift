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
            let dependency = manifest.dependencies.lazy.compactMap({ $0.runtime(identity: runtimeIdentity) }).first
        else {
            throw CompilerError(
                .invalidPackage,
                "the handler library '\(library.name)' does not depend on AgnostRuntime; add "
                    + "`.package(url: \"\(RuntimeRepository.url)\", from: \"\(RuntimeRepository.version)\")` to "
                    + "Package.swift and `.product(name: \"AgnostRuntime\", package: \"\(RuntimeRepository.identity)\")` "
                    + "to the target's dependencies"
            )
        }
        let runtime: RuntimeDependency
        switch dependency {
        case .path(let path):
            runtime = .path(path)
        // SwiftPM reports a mirrored dependency at its mirror: the repository agnost-fn wrote the mirror for.
        case .url(let url) where url == RuntimeRepository.url || RuntimeRepository.isLaidOut(at: url):
            runtime = .repository
        case .url(let url):
            throw CompilerError(
                .invalidPackage,
                "Package.swift fetches AgnostRuntime from \(url); the runtime comes with agnost-fn, so name it "
                    + "`.package(url: \"\(RuntimeRepository.url)\", from: \"\(RuntimeRepository.version)\")`, or "
                    + "`.package(path:)` for a runtime checkout"
            )
        }
        return HandlerPackage(
            identity: directory.standardizedFileURL.lastPathComponent.lowercased(),
            product: library.name,
            modules: library.targets,
            runtimeIdentity: runtimeIdentity,
            runtime: runtime
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
        enum Location {
            case path(String)
            case url(String)
        }

        struct FileSystem: Decodable {
            let identity: String
            let path: String
        }

        /// `{"identity": …, "location": {"remote": [{"urlString": …}]}}`, or `{"local": [path]}` for a git folder.
        struct SourceControl: Decodable {
            struct Location: Decodable {
                struct Remote: Decodable {
                    let urlString: String
                }

                let remote: [Remote]?
                let local: [String]?
            }

            let identity: String
            let location: Location
        }

        let fileSystem: [FileSystem]?
        let sourceControl: [SourceControl]?

        func runtime(identity: String) -> Location? {
            if let path = fileSystem?.first(where: { $0.identity == identity }) { return .path(path.path) }
            guard let repository = sourceControl?.first(where: { $0.identity == identity }) else { return nil }
            return (repository.location.remote?.first?.urlString ?? repository.location.local?.first).map(Location.url)
        }
    }

    let products: [Product]
    let targets: [Target]
    let dependencies: [PackageDependency]
}
