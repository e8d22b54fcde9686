import AgnostDigest
import AgnostImage
import AgnostOCI
import AgnostRegistry
import ArgumentParser
import Foundation
import Synchronization

/// Pushing and pulling as `push`, `pull` and `build` do them: credentials from Docker's configuration, blob
/// locations from the user's cache, progress on stderr.
enum RegistrySteps {
    static func reference(_ text: String, option: String, defaultTag: String?) throws -> ImageReference {
        do throws(ImageError) {
            return try tagged(ImageReference(parsing: text, option: option), defaultTag: defaultTag)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The reference as given when it has a tag or digest, else with the image's own tag.
    static func tagged(_ reference: ImageReference, defaultTag: String?) throws(ImageError) -> ImageReference {
        guard reference.tag == nil, reference.digest == nil else { return reference }
        return try reference.with(tag: defaultTag ?? "latest")
    }

    static func push(_ source: LayoutReference, to destination: ImageReference, insecure: Bool) throws -> ImageReference
    {
        let start = ContinuousClock.now
        return try transfer { config, locations, environment throws(RegistryError) in
            let pusher = ImagePusher(locations: locations, report: TransferProgressConsole().handle)
            let pushed = try pusher.push(
                from: source,
                to: destination,
                plainHTTP: insecure || destination.isLocal,
                credentials: try config.credentials(for: destination.credentialKey, environment: environment)
            )
            Console.status("pushed \(source) to \(destination) in \(Console.format(ContinuousClock.now - start))")
            return pushed
        }
    }

    static func pull(
        _ reference: ImageReference,
        into destination: LayoutReference,
        platform: Platform,
        insecure: Bool
    ) throws -> SHA256Digest {
        let start = ContinuousClock.now
        return try transfer { config, locations, environment throws(RegistryError) in
            let digest = try ImagePuller(locations: locations, report: TransferProgressConsole().handle).pull(
                reference,
                into: destination,
                platform: platform,
                plainHTTP: insecure || reference.isLocal,
                credentials: try config.credentials(for: reference.credentialKey, environment: environment)
            )
            Console.status("pulled \(reference) into \(destination) in \(Console.format(ContinuousClock.now - start))")
            return digest
        }
    }

    /// Runs a push or a pull with what both need: Docker's configuration, and the blob locations, saved when the
    /// transfer succeeds. A failure becomes an error line and exit status 1.
    private static func transfer<Result>(
        _ body: (DockerConfig, BlobLocationCache, [String: String]) throws(RegistryError) -> Result
    ) throws -> Result {
        let environment = ProcessInfo.processInfo.environment
        do throws(RegistryError) {
            let config = try DockerConfig(path: DockerConfig.defaultPath(environment: environment))
            let locations = BlobLocationCache(file: BlobLocationCache.defaultPath(environment: environment))
            let result = try body(config, locations, environment)
            save(locations)
            return result
        } catch {
            Console.error(error.description)
            throw ExitCode.failure
        }
    }

    /// A cache that cannot be written costs later pushes a mount, not this command its result.
    private static func save(_ locations: BlobLocationCache) {
        do throws(RegistryError) {
            try locations.save()
        } catch {
            Console.status("warning: \(error.description)")
        }
    }
}

/// Shows a push or a pull on stderr: on a terminal, a line per blob in flight redrawn in place with bytes and rate;
/// elsewhere, as in CI logs, only a line per finished blob.
final class TransferProgressConsole: Sendable {
    private struct Screen {
        var board = TransferProgressBoard()
        /// How many lines of blobs in flight are on screen, above the cursor.
        var drawn = 0
        var lastDraw: ContinuousClock.Instant?
    }

    private let screen = Mutex(Screen())
    private let interactive =
        isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"].map { $0 != "dumb" } ?? false

    /// The pusher's or puller's report; it runs on the threads that move the bytes.
    func handle(_ event: TransferEvent) {
        screen.withLock { screen in
            let now = ContinuousClock.now
            let finished = screen.board.apply(event, at: now)
            guard interactive else {
                finished.forEach(Console.status)
                return
            }
            // Redrawing on every piece of every blob would cost more than the upload; ten times a second is smooth.
            if finished.isEmpty, let last = screen.lastDraw, now - last < .milliseconds(100) { return }
            let active = screen.board.activeLines
            let escape = "\u{1B}["
            // A line wider than the terminal would wrap, and moving up by the number of lines drawn would then
            // land in the wrong place.
            let width = Self.terminalWidth()
            var text = screen.drawn > 0 ? "\(escape)\(screen.drawn)A" : ""
            for line in finished + active { text += "\r\(escape)2K\(line.prefix(width - 1))\n" }
            text += "\(escape)J"
            FileHandle.standardError.write(Data(text.utf8))
            screen.drawn = active.count
            screen.lastDraw = now
        }
    }

    /// The columns of the terminal on stderr, or 80 when it does not say.
    private static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 1 else { return 80 }
        return Int(size.ws_col)
    }
}
