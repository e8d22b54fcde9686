import AgnostOCI
internal import CArchive

/// Encodes ``LayerEntry`` values as a tar stream over one libarchive handle, with nothing in a header but what the
/// entry says: owner 0:0 without names, the one modification time given, no access, change or creation times, no
/// extended attributes or ACLs. Names and link targets too long for ustar get a pax extended header; everything
/// else gets a plain ustar header.
final class TarArchiveWriter {
    private let handle: OpaquePointer
    private let modificationTime: Int64
    fileprivate let consume: (UnsafeRawBufferPointer) throws(ImageError) -> Void
    /// What `consume` threw inside the write callback.
    fileprivate var consumeFailure: ImageError?

    /// - Parameter consume: receives the tar stream, in order, as libarchive produces it.
    init(
        modificationTime: Int64,
        consume: @escaping (UnsafeRawBufferPointer) throws(ImageError) -> Void
    ) throws(ImageError) {
        guard let handle = archive_write_new() else {
            throw ImageError(.archiveFailed, "libarchive could not create a writer; the process may be out of memory")
        }
        self.handle = handle
        self.modificationTime = modificationTime
        self.consume = consume
        try check(archive_write_set_format_pax_restricted(handle), "cannot select the pax format")
        // Otherwise the end of the archive is padded with zeros to a whole 10 KiB record; this way it ends right
        // after the two zero blocks that mark its end, as Go's archive/tar writes it.
        try check(archive_write_set_bytes_in_last_block(handle, 1), "cannot set the last block size")
        let context = Unmanaged.passUnretained(self).toOpaque()
        let status = archive_write_open2(handle, context, nil, writeToConsumer, nil, nil)
        try check(status, "cannot start the archive")
    }

    deinit {
        // Marking the archive failed keeps `free` from closing it, which would push the end of an abandoned
        // archive through `consume`. After `finish` it changes nothing.
        archive_write_fail(handle)
        archive_write_free(handle)
    }

    /// Writes `entry`'s header and, for a regular file, its contents.
    ///
    /// - Throws: ``ImageError/Code/unreadableInput`` naming the host path of a file source that cannot be read;
    ///   ``ImageError/Code/archiveFailed`` with libarchive's reason; whatever `consume` throws.
    func append(_ entry: LayerEntry) throws(ImageError) {
        try UTF8ThreadLocale.run { () throws(ImageError) in try appendInUTF8Locale(entry) }
    }

    private func appendInUTF8Locale(_ entry: LayerEntry) throws(ImageError) {
        guard UTF8ThreadLocale.isAvailable || entry.isASCII else {
            throw ImageError(
                .unsafePath,
                "a name or link target that is not ASCII needs a UTF-8 locale (C.UTF-8), which this system lacks",
                context: entry.path.absolute
            )
        }
        guard let header = archive_entry_new() else {
            throw ImageError(.archiveFailed, "libarchive could not create an entry; the process may be out of memory")
        }
        defer { archive_entry_free(header) }
        archive_entry_set_pathname_utf8(header, entry.path.relative)
        archive_entry_set_perm(header, mode_t(entry.mode))
        archive_entry_set_uid(header, 0)
        archive_entry_set_gid(header, 0)
        archive_entry_set_mtime(header, time_t(modificationTime), 0)
        var source: ChunkedFileReader?
        // libarchive's AE_IF* macros have the POSIX S_IF* values; Swift cannot import them because of their cast.
        switch entry.kind {
        case .directory:
            archive_entry_set_filetype(header, UInt32(S_IFDIR))
        case .symlink(let target):
            archive_entry_set_filetype(header, UInt32(S_IFLNK))
            archive_entry_set_symlink_utf8(header, target)
        case .hardLink(let target):
            archive_entry_set_filetype(header, UInt32(S_IFREG))
            archive_entry_set_hardlink_utf8(header, target.relative)
        case .file(.bytes(let bytes)):
            archive_entry_set_filetype(header, UInt32(S_IFREG))
            archive_entry_set_size(header, Int64(bytes.count))
        case .file(.path(let path)):
            let file = try ChunkedFileReader(path: path)
            archive_entry_set_filetype(header, UInt32(S_IFREG))
            archive_entry_set_size(header, file.size)
            source = file
        }
        try check(archive_write_header(handle, header), "cannot write the entry", context: entry.path.absolute)
        if case .file(.bytes(let bytes)) = entry.kind {
            // Result carries the typed error across withUnsafeBytes, which only rethrows `any Error`.
            try bytes.withUnsafeBytes { buffer in Result { () throws(ImageError) in try writeData(buffer, of: entry) } }
                .get()
        }
        try source?.forEachChunk { (chunk) throws(ImageError) in try writeData(chunk, of: entry) }
    }

    /// Ends the archive, flushing everything libarchive still holds through `consume`.
    func finish() throws(ImageError) {
        try check(archive_write_close(handle), "cannot finish the archive")
    }

    private func writeData(_ bytes: UnsafeRawBufferPointer, of entry: LayerEntry) throws(ImageError) {
        var rest = bytes
        while !rest.isEmpty {
            let written = archive_write_data(handle, rest.baseAddress, rest.count)
            guard written > 0 else { throw failure("cannot write the contents", context: entry.path.absolute) }
            rest = UnsafeRawBufferPointer(rebasing: rest[written...])
        }
    }

    private func check(_ status: Int32, _ what: String, context: String? = nil) throws(ImageError) {
        guard status == ARCHIVE_OK else { throw failure(what, context: context) }
    }

    /// What `consume` threw if the failure started there, libarchive's own account of it otherwise.
    private func failure(_ what: String, context: String?) -> ImageError {
        if let consumeFailure { return consumeFailure }
        let reason = archive_error_string(handle).map { String(cString: $0) } ?? "libarchive gave no reason"
        return ImageError(.archiveFailed, "\(what): \(reason)", context: context)
    }
}

/// libarchive's write callback for ``TarArchiveWriter``: hands the bytes to its `consume`, and keeps what that throws
/// for the writer to report, since all the callback can tell libarchive is -1.
private func writeToConsumer(
    _ archive: OpaquePointer?,
    _ context: UnsafeMutableRawPointer?,
    _ buffer: UnsafeRawPointer?,
    _ length: Int
) -> Int {
    let writer = Unmanaged<TarArchiveWriter>.fromOpaque(context!).takeUnretainedValue()
    do throws(ImageError) {
        try writer.consume(UnsafeRawBufferPointer(start: buffer, count: length))
        return length
    } catch {
        writer.consumeFailure = error
        return -1
    }
}

extension LayerEntry {
    /// Whether the path and any link target are ASCII.
    fileprivate var isASCII: Bool {
        let texts: [String] =
            switch kind {
            case .symlink(let target): [path.relative, target]
            case .hardLink(let target): [path.relative, target.relative]
            case .directory, .file: [path.relative]
            }
        return texts.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }
    }
}
