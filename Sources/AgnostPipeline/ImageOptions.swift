import AgnostOCI
import Foundation

/// A project the workflow builds: its folder, and how messages should name it.
///
/// ```swift
/// let project = Project(directory: URL(fileURLWithPath: "samples/todo"), displayPath: "samples/todo")
/// ```
public struct Project: Sendable {
    public var directory: URL
    /// The folder as diagnostics name it, as the user wrote it (`.` for the current one).
    public var displayPath: String

    public init(directory: URL, displayPath: String) {
        self.directory = directory.standardizedFileURL
        self.displayPath = displayPath
    }

    /// `.agnost/` of the project, where the bundle, the image and the caches go.
    public var agnostDirectory: URL { directory.appendingPathComponent(".agnost") }

    /// `agnost.yaml` as diagnostics name it, relative to where the user works.
    public var specDisplayPath: String { displayPath(of: "agnost.yaml") }

    /// How messages name `file` of the project: relative to where the command runs.
    public func displayPath(of file: String) -> String { displayPath == "." ? file : "\(displayPath)/\(file)" }

    /// `.agnost/image`, the layout images go to unless told otherwise.
    public var defaultImageLayout: String { agnostDirectory.appendingPathComponent("image").path }
}

/// How to package a bundle, and where the image goes.
public struct ImageOptions: Sendable {
    /// A layout or archive; nil for the project's own `.agnost/image`.
    public var output: LayoutReference?
    /// The name the image will be pushed under; its tag is the default tag.
    public var name: ImageReference?
    /// The image to build on.
    public var base: BaseImage?
    /// Talk plain HTTP to registries that are not on this machine.
    public var insecure = false

    public init(output: LayoutReference? = nil, name: ImageReference? = nil, base: BaseImage? = nil) {
        self.output = output
        self.name = name
        self.base = base
    }
}

/// An image to build on: one in a local layout, or one a registry holds, pulled into the project's cache first.
public enum BaseImage: Sendable {
    case layout(LayoutReference)
    case registry(ImageReference)
}
