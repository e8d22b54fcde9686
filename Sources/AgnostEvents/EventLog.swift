internal import CZlib
import Dispatch
import Foundation
import Synchronization

/// The hub's append-only log of ``EventRecord``s in one file: an append is reported done once it is written and,
/// unless it holds only acknowledgements, synced.
///
/// File format: the 8 bytes `AGNEVLG2`, then frames of a little-endian UInt32 payload length, a little-endian
/// UInt32 CRC-32 of the payload, and the payload, one record in its binary form (see `EventRecordCoding.swift`).
/// Opening reads frames up to the first one that is cut short, fails its checksum or does not decode (the tail a
/// `kill -9` or a power cut tore) and truncates the file there. A log of the first format, `AGNEVLG1`, whose
/// payloads are JSON, is read and rewritten in the second.
///
/// Appends are group-committed: they queue up while a write is running, and the next write takes every queued
/// frame with one `fdatasync`, so many concurrent senders share a sync. A batch of acknowledgements alone is written
/// but not synced (the next sync, or the close, takes it along): a process killed keeps what it wrote, and one lost
/// to a power cut only redelivers a message that was handled, which at-least-once delivery allows; syncing it would
/// make the senders waiting behind it wait for a second sync.
final class EventLog: Sendable {
    static let fileName = "events.log"
    static let lockFileName = "events.lock"
    static let magic = Array("AGNEVLG2".utf8)
    /// The header of logs whose records are JSON, written before the binary form.
    static let jsonMagic = Array("AGNEVLG1".utf8)

    typealias Completion = @Sendable (EventHubError?) -> Void

    private enum Operation {
        /// Encoded on the writer's thread, not the caller's, which may be the hub's actor.
        case append([EventRecord], Completion)
        /// Replaces the whole file with these records.
        case replace([EventRecord], Completion)
        /// Closes the file and releases the lock, after everything queued before.
        case close(Completion)
    }

    private struct State {
        var descriptor: Int32
        /// Held with `flock` while the log is open; -1 once closed, as is `descriptor`.
        var lock: Int32
        var queued: [Operation] = []
        var writing = false
        /// Once a write failed, the file's tail is unknown: every later operation fails too.
        var failure: EventHubError?
        var syncs = 0
    }

    let directory: URL
    let path: String
    private let state: Mutex<State>
    private let writer = DispatchQueue(label: "agnost.events.log")

    private init(directory: URL, descriptor: Int32, lock: Int32) {
        self.directory = directory
        path = directory.appendingPathComponent(Self.fileName).path
        state = Mutex(State(descriptor: descriptor, lock: lock))
    }

    deinit {
        state.withLock { state in
            if state.descriptor >= 0 { _ = Foundation.close(state.descriptor) }
            if state.lock >= 0 { _ = Foundation.close(state.lock) }
        }
    }

    /// How many times appends were synced to disk.
    var syncs: Int { state.withLock { $0.syncs } }

    /// Waits for every operation queued before, then closes the file and releases its lock, so that another log
    /// may open the directory at once, whoever still holds this one; operations after it fail.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            enqueue(.close { _ in continuation.resume() })
        }
    }

    /// Opens (creating when missing) the log in `directory`, and returns the records it holds; a torn tail is cut.
    static func open(directory: URL) throws(EventHubError) -> (log: EventLog, records: [EventRecord]) {
        let path = directory.appendingPathComponent(fileName).path
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw EventHubError(
                .storage,
                "cannot create \(directory.path): \(error.localizedDescription)",
                context: path
            )
        }
        // One writer per log: two hubs appending to one file would interleave frames and each fold the other's
        // records wrongly. The lock is a file of its own because compaction renames a new log over the old one;
        // the kernel drops it with the process, so a `kill -9` never leaves it held.
        let lockPath = directory.appendingPathComponent(lockFileName).path
        let lock = Foundation.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw storageError("cannot open", lockPath) }
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            Foundation.close(lock)
            throw EventHubError(
                .locked,
                "this event log is in use by another process, which serves these queues; stop it first, or give "
                    + "this one a state directory of its own",
                context: path
            )
        }
        let descriptor = Foundation.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            Foundation.close(lock)
            throw storageError("cannot open", path)
        }
        let log = EventLog(directory: directory, descriptor: descriptor, lock: lock)
        let contents: [UInt8]
        do {
            contents = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw EventHubError(.storage, "cannot read \(path): \(error.localizedDescription)", context: path)
        }
        let (records, validLength) = decode(contents)
        if contents.starts(with: jsonMagic) {
            // Rewritten whole, as a compaction is: a crash midway leaves the old file, which is read the same way.
            let replacement = try log.replaceFile(with: magic + encode(records))
            Foundation.close(descriptor)
            log.state.withLock { $0.descriptor = replacement }
            return (log, records)
        }
        if validLength < magic.count {
            // Only a new file, or one torn while its header was written, starts afresh: anything else may be
            // someone's messages (or not a log at all), and emptying it would lose them.
            guard contents.count < magic.count, magic.starts(with: contents) else {
                throw EventHubError(
                    .storage,
                    "\(path) is not an event log (its first bytes are not \(String(decoding: magic, as: UTF8.self))); "
                        + "move it away, and a new log is started",
                    context: path
                )
            }
            try log.rewrite(descriptor: descriptor, with: magic)
        } else if validLength < contents.count {
            guard ftruncate(descriptor, off_t(validLength)) == 0, fsync(descriptor) == 0 else {
                throw storageError("cannot truncate the torn tail of", path)
            }
        }
        guard lseek(descriptor, 0, SEEK_END) >= 0 else { throw storageError("cannot seek in", path) }
        return (log, records)
    }

    /// The records of a log file's bytes and how many bytes hold whole, valid frames; 0 when the header is wrong.
    static func decode(_ contents: [UInt8]) -> (records: [EventRecord], validLength: Int) {
        let decodePayload: (ArraySlice<UInt8>) -> EventRecord?
        if contents.starts(with: magic) {
            decodePayload = { EventRecord(binary: $0) }
        } else if contents.starts(with: jsonMagic) {
            let decoder = JSONDecoder()
            decodePayload = { try? decoder.decode(EventRecord.self, from: Data($0)) }
        } else {
            return ([], 0)
        }
        var records: [EventRecord] = []
        var offset = magic.count
        while contents.count - offset >= 8 {
            let length = Int(readUInt32(contents, at: offset))
            let checksum = readUInt32(contents, at: offset + 4)
            let start = offset + 8
            guard length <= contents.count - start else { break }
            let payload = contents[start..<start + length]
            guard crc(payload) == checksum, let record = decodePayload(payload) else { break }
            records.append(record)
            offset = start + length
        }
        return (records, offset)
    }

    /// The frames of `records`, ready to append.
    static func encode(_ records: [EventRecord]) -> [UInt8] {
        var bytes: [UInt8] = []
        for record in records {
            // The payload goes straight after room for its length and checksum, which are filled in after it.
            let frame = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: 8))
            record.encode(into: &bytes)
            let payload = bytes[(frame + 8)...]
            setUInt32(UInt32(payload.count), in: &bytes, at: frame)
            setUInt32(crc(payload), in: &bytes, at: frame + 4)
        }
        return bytes
    }

    /// Queues `records` for the next group commit; `completion` runs once they are synced to disk, or failed.
    func append(_ records: [EventRecord], completion: @escaping Completion) {
        enqueue(.append(records, completion))
    }

    /// Appends `records` and waits until they are on disk.
    func append(_ records: [EventRecord]) async throws(EventHubError) {
        let failure: EventHubError? = await withCheckedContinuation { continuation in
            append(records) { continuation.resume(returning: $0) }
        }
        if let failure { throw failure }
    }

    /// Queues a compaction: the file is rewritten to hold just `records`, after every append queued before.
    ///
    /// The new file is written beside the old, synced, renamed over it, and the directory synced, so a crash at
    /// any point leaves either the old log or the new one.
    func replace(with records: [EventRecord], completion: @escaping Completion) {
        enqueue(.replace(records, completion))
    }

    private func enqueue(_ operation: Operation) {
        let start = state.withLock { state in
            state.queued.append(operation)
            defer { state.writing = true }
            return !state.writing
        }
        if start { writer.async { self.drain() } }
    }

    /// Runs on `writer`: writes queued operations in order, batching consecutive appends into one write and one
    /// sync.
    private func drain() {
        while true {
            let (operations, startDescriptor, startFailure) = state.withLock { state in
                defer { state.queued = [] }
                if state.queued.isEmpty { state.writing = false }
                return (state.queued, state.descriptor, state.failure)
            }
            guard !operations.isEmpty else { return }
            var descriptor = startDescriptor
            var failure = startFailure
            var batch: [UInt8] = []
            var batchMustBeSynced = false
            var waiting: [Completion] = []
            func flush() {
                guard !waiting.isEmpty else { return }
                if failure == nil {
                    do throws(EventHubError) {
                        try Self.writeAll(batch, to: descriptor, path: path)
                        if batchMustBeSynced {
                            guard Self.syncData(descriptor) else { throw Self.storageError("cannot sync", path) }
                            state.withLock { $0.syncs += 1 }
                        }
                    } catch {
                        failure = error
                    }
                }
                for completion in waiting { completion(failure) }
                batch = []
                batchMustBeSynced = false
                waiting = []
            }
            for operation in operations {
                switch operation {
                case .append(let records, let completion):
                    batch.append(contentsOf: Self.encode(records))
                    batchMustBeSynced = batchMustBeSynced || records.contains(where: \.mustBeSynced)
                    waiting.append(completion)
                case .replace(let records, let completion):
                    flush()
                    if failure == nil {
                        do throws(EventHubError) {
                            let replacement = try replaceFile(with: Self.magic + Self.encode(records))
                            Foundation.close(descriptor)
                            descriptor = replacement
                            state.withLock { $0.descriptor = replacement }
                        } catch {
                            failure = error
                        }
                    }
                    completion(failure)
                case .close(let completion):
                    flush()
                    // Acknowledgements written unsynced: a log closed cleanly leaves nothing to redeliver.
                    if failure == nil, descriptor >= 0 { _ = Self.syncData(descriptor) }
                    state.withLock { state in
                        _ = Foundation.close(state.descriptor)
                        _ = Foundation.close(state.lock)
                        (state.descriptor, state.lock) = (-1, -1)
                    }
                    descriptor = -1
                    failure = failure ?? EventHubError(.storage, "\(path) is closed", context: path)
                    completion(nil)
                }
            }
            flush()
            if let failure { state.withLock { $0.failure = failure } }
        }
    }

    private func replaceFile(with contents: [UInt8]) throws(EventHubError) -> Int32 {
        let temporary = path + ".compacting"
        let descriptor = Foundation.open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Self.storageError("cannot create", temporary) }
        do throws(EventHubError) {
            try Self.writeAll(contents, to: descriptor, path: temporary)
            guard fsync(descriptor) == 0 else { throw Self.storageError("cannot sync", temporary) }
            guard rename(temporary, path) == 0 else { throw Self.storageError("cannot rename over", path) }
        } catch {
            Foundation.close(descriptor)
            unlink(temporary)
            throw error
        }
        let directoryDescriptor = Foundation.open(directory.path, O_RDONLY | O_CLOEXEC)
        defer { if directoryDescriptor >= 0 { Foundation.close(directoryDescriptor) } }
        guard directoryDescriptor >= 0, fsync(directoryDescriptor) == 0 else {
            Foundation.close(descriptor)
            throw Self.storageError("cannot sync the directory", directory.path)
        }
        return descriptor
    }

    private func rewrite(descriptor: Int32, with contents: [UInt8]) throws(EventHubError) {
        guard ftruncate(descriptor, 0) == 0, lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw Self.storageError("cannot reset", path)
        }
        try Self.writeAll(contents, to: descriptor, path: path)
        guard fsync(descriptor) == 0 else { throw Self.storageError("cannot sync", path) }
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(EventHubError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw storageError("cannot write", path)
            }
            written += result
        }
    }

    /// Flushes appended bytes to stable storage: `fdatasync` on Linux; on macOS, whose `fsync` stops at the
    /// drive's cache, `F_FULLFSYNC`.
    private static func syncData(_ descriptor: Int32) -> Bool {
        #if canImport(Darwin)
        return fcntl(descriptor, F_FULLFSYNC) == 0
        #else
        return fdatasync(descriptor) == 0
        #endif
    }

    private static func storageError(_ what: String, _ path: String) -> EventHubError {
        EventHubError(.storage, "\(what) \(path): \(String(cString: strerror(errno)))", context: path)
    }

    static func crc(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            UInt32(crc32(0, buffer.baseAddress, uInt(buffer.count)))
        }
    }

    private static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }

    private static func setUInt32(_ value: UInt32, in bytes: inout [UInt8], at offset: Int) {
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    }
}
