import AgnostCompiler
import AgnostImage
import AgnostKnative
import AgnostOCI
import AgnostRegistry

/// What the workflow reports while it works, in order, for a front end to show: a CLI prints lines, the control
/// plane records a deployment's progress.
///
/// ```swift
/// let workflow = Workflow { event in
///     if case .packaged(let image, _, _) = event { print(image.manifestDigest) }
/// }
/// ```
public enum PipelineEvent: Sendable {
    /// A stage of the bundle build started or finished, or the compiler printed something (when verbose).
    case compile(BuildEvent)
    /// The bundle is ready: built, or unchanged since the last build (``BuildResult/upToDate``).
    case bundleReady(BuildResult, elapsed: Duration)
    /// A stage of packaging finished, or a layer is ready.
    case package(PackagingEvent)
    /// The image of `service` (`<app>-<version>`) is in its layout or archive.
    case packaged(PackagedImage, service: String, elapsed: Duration)
    /// A blob or manifest of a push or pull moved, or finished.
    case transfer(TransferEvent)
    /// An image is in a registry, under `destination` pinned by digest.
    case pushed(source: LayoutReference, destination: ImageReference, elapsed: Duration)
    /// An image came from a registry into a layout.
    case pulled(source: ImageReference, destination: LayoutReference, elapsed: Duration)
    /// The deployer applied, pruned, or saw the Service's conditions change.
    case deploy(DeployEvent)
    /// Something went wrong that does not stop the work, such as a cache that could not be saved.
    case warning(String)
    /// A line of a deployment's progress, as the platform doing it reports it.
    case platform(String)
}
