internal import CZlib
import Foundation

/// The hub's append-only log of ``EventRecord``s in one file, used from one thread at a time (the hub's event loop):
/// records are staged, then committed together, written and, unless they are only acknowledgements, synced.
///
/// File format: the 8 bytes `AGNEVLG2`, then frames of a little-endian UInt32 payload length, a little-endian
/// UInt32 CRC-32 of the payload, and the payload, one record in its binary form (see `EventRecordCoding.swift`).
/// Opening reads frames up to the first one that is cut short, fails its checksum or does not decode (the tail a
/// `kill -9` or a power cut tore) and truncates the file there. A log of the first format, `AGNEVLG1`, whose
/// payloads are JSON, is read and rewritten in the second.
///
/// Group commit is the caller's: the hub stages the records of every request its event loop read in one pass and
/// commits them with one `fdatasync`, so many concurrent senders share a sync. A commit of acknowledgements alone is
/// written but not synced (the next sync, or the close, takes it along): a process killed keeps what it wrote, and
/// one lost to a power cut only redelivers a message that was handled, which at-least-once delivery allows.
final class EventLog {
    static let fileName = "events.log"
    static let lockFileName = "events.lock"
    static let magic = Array("AGNEVLG2".utf8)
    /// The header of logs whose records are JSON, written before the binary form.
    static let jsonMagic = Array("AGNEVLG1".utf8)

    let directory: URL
    let path: String
    private var descriptor: Int32
    /// Held with `flock` while the log is open; -1 once closed, as is `descriptor`.
    private var lock: Int32
    /// Frames staged for the next commit.
    private var staged: [UInt8] = []
    private var stagedMustBeSynced = false
    /// Once a write failed, the file's tail is unknown: every later commit fails too.
    private var failure: EventHubError?
    /// How many times commits were synced to disk.
    private(set) var syncs = 0

    private init(directory: URL, descriptor: Int32, lock: Int32) {
        self.directory = directory
        path = directory.appendingPathComponent(Self.fileName).path
        self.descriptor = descriptor
        self.lock = lock
    }

    deinit {
        if descriptor >= 0 { _ = Foundation.close(descriptor) }
        if lock >= 0 { _ = Foundation.close(lock) }
    }

    /// Commits what is staged, syncs, then closes the file and releases its lock, so that another log may open the
    /// directory at once; later commits fail.
    func close() {
        guard descriptor >= 0 else { return }
        try? commit()
        // Acknowledgements written unsynced: a log closed cleanly leaves nothing to redeliver.
        if failure == nil { _ = Self.syncData(descriptor) }
        _ = Foundation.close(descriptor)
        _ = Foundation.close(lock)
        (descriptor, lock) = (-1, -1)
        failure = failure ?? EventHubError(.storage, "\(path) is closed", context: path)
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
            log.descriptor = replacement
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
        encode(records, into: &bytes)
        return bytes
    }

    private static func encode(_ records: [EventRecord], into bytes: inout [UInt8]) {
        for record in records {
            // The payload goes straight after room for its length and checksum, which are filled in after it.
            let frame = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: 8))
            record.encode(into: &bytes)
            let payload = bytes[(frame + 8)...]
            setUInt32(UInt32(payload.count), in: &bytes, at: frame)
            setUInt32(crc(payload), in: &bytes, at: frame + 4)
        }
    }

    /// Whether records wait for the next ``commit()``.
    var hasStaged: Bool { !staged.isEmpty }

    /// Adds `records` to the next ``commit()``.
    func stage(_ records: [EventRecord]) {
        Self.encode(records, into: &staged)
        stagedMustBeSynced = stagedMustBeSynced || records.contains(where: \.mustBeSynced)
    }

    /// Writes the staged records, and syncs them unless they are acknowledgements alone.
    func commit() throws(EventHubError) {
        guard !staged.isEmpty else {
            if let failure { throw failure }
            return
        }
        let mustBeSynced = stagedMustBeSynced
        defer {
            staged.removeAll(keepingCapacity: true)
            stagedMustBeSynced = false
        }
        if let failure { throw failure }
        do throws(EventHubError) {
            try Self.writeAll(staged, to: descriptor, path: path)
            if mustBeSynced {
                guard Self.syncData(descriptor) else { throw Self.storageError("cannot sync", path) }
                syncs += 1
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Stages `records` and commits them with whatever was staged before.
    func append(_ records: [EventRecord]) throws(EventHubError) {
        stage(records)
        try commit()
    }

    /// Compacts the log: commits what is staged, then rewrites the file to hold just `records`.
    ///
    /// The new file is written beside the old, synced, renamed over it, and the directory synced, so a crash at
    /// any point leaves either the old log or the new one.
    func replace(with records: [EventRecord]) throws(EventHubError) {
        try commit()
        do throws(EventHubError) {
            let replacement = try replaceFile(with: Self.magic + Self.encode(records))
            Foundation.close(descriptor)
            descriptor = replacement
        } catch {
            failure = error
            throw error
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
