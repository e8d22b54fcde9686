import AgnostOCI
import Foundation

/// What to package and where to put it: the inputs of ``ImagePackager``.
///
/// ```swift
/// let request = ImagePackageRequest(
///     bundleDirectory: "samples/todo/.agnost/bundle", title: "todo", version: "v1",
///     output: LayoutReference(transport: .layout, path: "samples/todo/.agnost/image"),
///     cacheDirectory: "samples/todo/.agnost/cache")
/// ```
public struct ImagePackageRequest: Sendable {
    /// The folder holding `server` and `bundle.json`.
    public var bundleDirectory: String
    /// The app's name: the image title.
    public var title: String
    /// The app's version: the image version and its default tag.
    public var version: String
    /// The source revision (a git commit) the bundle was built from, when known.
    public var revision: String?
    /// Seconds since 1970 for every time stamp in the image (`SOURCE_DATE_EPOCH`, or 0).
    public var creationTime: Int64
    /// A base image in a local OCI layout, whose layers the image builds on.
    public var base: LayoutReference?
    /// The registry reference the base was pulled from, recorded as `org.opencontainers.image.base.name`.
    public var baseName: String?
    public var output: LayoutReference
    /// The repository the image will be pushed to, as a registry reference names it
    /// (`registry.example.com/team/todo`); recorded in the layout for `push`.
    public var imageRepository: String?
    /// The tag of the image name, when it has one: the default tag.
    public var imageTag: String?
    /// Where compressed layers are kept between runs, so that unchanged layers are not compressed again.
    public var cacheDirectory: String
    /// The output is the project's own layout: blobs no image in it refers to any more are removed.
    public var ownsOutput: Bool
    public var compressionLevel: Int32

    public init(
        bundleDirectory: String,
        title: String,
        version: String,
        revision: String? = nil,
        creationTime: Int64 = 0,
        base: LayoutReference? = nil,
        baseName: String? = nil,
        output: LayoutReference,
        imageRepository: String? = nil,
        imageTag: String? = nil,
        cacheDirectory: String,
        ownsOutput: Bool = false,
        compressionLevel: Int32 = ImagePackageRequest.defaultCompressionLevel
    ) {
        self.bundleDirectory = bundleDirectory
        self.title = title
        self.version = version
        self.revision = revision
        self.creationTime = creationTime
        self.base = base
        self.baseName = baseName
        self.output = output
        self.imageRepository = imageRepository
        self.imageTag = imageTag
        self.cacheDirectory = cacheDirectory
        self.ownsOutput = ownsOutput
        self.compressionLevel = compressionLevel
    }

    public static let defaultCompressionLevel: Int32 = 6

    /// The tag in `index.json`: the output's, else the image name's, else the version.
    public var tag: String { output.tag ?? imageTag ?? version }

    /// `SOURCE_DATE_EPOCH` as reproducible-builds.org defines it: whole seconds since 1970, 0 when unset.
    public static func creationTime(environment: [String: String]) throws(ImageError) -> Int64 {
        guard let value = environment["SOURCE_DATE_EPOCH"] else { return 0 }
        guard let seconds = Int64(value), seconds >= 0, seconds <= 253_402_300_799 else {
            throw ImageError(
                .invalidArgument,
                "'\(value)' is not a time; set it to whole seconds since 1970, such as $(git log -1 --format=%ct)",
                context: "SOURCE_DATE_EPOCH"
            )
        }
        return seconds
    }

    /// The commit `HEAD` names when `directory` is inside a git checkout; nil otherwise or without git.
    public static func gitRevision(of directory: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory, "rev-parse", "--verify", "--quiet", "HEAD"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let revision = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && !revision.isEmpty ? revision : nil
    }
}
