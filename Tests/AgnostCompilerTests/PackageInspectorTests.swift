import Foundation
import Testing

@testable import AgnostCompiler

struct PackageInspectorTests {
    private let folder = URL(fileURLWithPath: "/work/My-App")

    private func manifest(products: String, dependencies: String, targetDependencies: String) -> Data {
        Data(
            """
            {"name": "x", "products": [\(products)],
             "targets": [{"name": "Handlers", "dependencies": [\(targetDependencies)]},
                         {"name": "HandlersTests", "dependencies": []}],
             "dependencies": [\(dependencies)]}
            """.utf8
        )
    }

    private let library = #"{"name": "Handlers", "targets": ["Handlers"], "type": {"library": ["automatic"]}}"#
    private let runtimeDependency = #"{"fileSystem": [{"identity": "runtime", "path": "/opt/agnost/runtime"}]}"#
    private let runtimeProduct = #"{"product": ["AgnostRuntime", "runtime", null, null]}"#

    @Test func findsTheLibraryAndTheRuntimeItLinks() throws {
        let package = try PackageInspector.handlerPackage(
            manifestJSON: manifest(
                products: library,
                dependencies: runtimeDependency,
                targetDependencies: runtimeProduct
            ),
            directory: folder
        )
        #expect(
            package
                == HandlerPackage(
                    identity: "my-app",
                    product: "Handlers",
                    modules: ["Handlers"],
                    runtimeIdentity: "runtime",
                    runtime: .path("/opt/agnost/runtime")
                )
        )
    }

    @Test func theRuntimeByItsURLComesThroughTheMirror() throws {
        let package = try PackageInspector.handlerPackage(
            manifestJSON: manifest(
                products: library,
                dependencies: #"{"sourceControl": [{"identity": "agnost-runtime", "location": {"remote": "#
                    + #"[{"urlString": "https://github.com/agnost-fn/agnost-runtime.git"}]}}]}"#,
                targetDependencies: #"{"product": ["AgnostRuntime", "agnost-runtime", null, null]}"#
            ),
            directory: folder
        )
        #expect(package.runtime == .repository)
        #expect(package.runtimeIdentity == "agnost-runtime")
    }

    @Test func aMirroredRuntimeIsReportedAtItsRepositoryAndStillRecognized() throws {
        let package = try PackageInspector.handlerPackage(
            manifestJSON: manifest(
                products: library,
                dependencies: #"{"sourceControl": [{"identity": "agnost-runtime", "location": {"local": "#
                    + #"["/home/ada/.cache/agnost-fn/runtime/0123456789abcdef/agnost-runtime.git"]}}]}"#,
                targetDependencies: #"{"product": ["AgnostRuntime", "agnost-runtime", null, null]}"#
            ),
            directory: folder
        )
        #expect(package.runtime == .repository)
    }

    @Test func aRuntimeFromAnotherAddressIsRefused() {
        let error = #expect(throws: CompilerError.self) {
            try PackageInspector.handlerPackage(
                manifestJSON: manifest(
                    products: library,
                    dependencies: #"{"sourceControl": [{"identity": "runtime", "location": {"remote": "#
                        + #"[{"urlString": "https://example.com/fork/runtime.git"}]}}]}"#,
                    targetDependencies: runtimeProduct
                ),
                directory: folder
            )
        }
        #expect(
            error?.message.hasPrefix(
                "Package.swift fetches AgnostRuntime from https://example.com/fork/runtime.git; the runtime comes "
                    + "with agnost-fn, so name it `.package(url: \"https://github.com/agnost-fn/agnost-runtime.git\""
            ) == true,
            "\(error?.message ?? "")"
        )
    }

    @Test func noLibraryProductSaysWhatToAdd() {
        let error = #expect(throws: CompilerError.self) {
            try PackageInspector.handlerPackage(
                manifestJSON: manifest(
                    products: "",
                    dependencies: runtimeDependency,
                    targetDependencies: runtimeProduct
                ),
                directory: folder
            )
        }
        #expect(error?.code == .invalidPackage)
        #expect(error?.message.hasPrefix("Package.swift declares no library product; add `.library(") == true)
    }

    @Test func severalLibrariesAreNamed() {
        let other = #"{"name": "Extra", "targets": ["Handlers"], "type": {"library": ["automatic"]}}"#
        let error = #expect(throws: CompilerError.self) {
            try PackageInspector.handlerPackage(
                manifestJSON: manifest(
                    products: "\(library), \(other)",
                    dependencies: runtimeDependency,
                    targetDependencies: runtimeProduct
                ),
                directory: folder
            )
        }
        #expect(error?.message.contains("several library products (Handlers, Extra)") == true)
    }

    @Test func libraryWithoutTheRuntimeSaysHowToAddIt() {
        let error = #expect(throws: CompilerError.self) {
            try PackageInspector.handlerPackage(
                manifestJSON: manifest(products: library, dependencies: "", targetDependencies: ""),
                directory: folder
            )
        }
        #expect(
            error?.message.hasPrefix(
                "the handler library 'Handlers' does not depend on AgnostRuntime; add `.package(url: "
                    + "\"https://github.com/agnost-fn/agnost-runtime.git\", from: \"0.1.0\")`"
            ) == true
        )
    }
}
