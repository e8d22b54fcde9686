import AgnostOCI
internal import CArchive

/// Reads the entries of a tar archive file, compressed with any filter libarchive knows (gzip, zstd, …) or not at
/// all, over one libarchive handle.
final class TarArchiveReader {
    private let handle: OpaquePointer
    private let path: String

    init(path: String) throws(ImageError) {
        guard let handle = archive_read_new() else {
            throw ImageError(.archiveFailed, "libarchive could not create a reader; the process may be out of memory")
        }
        self.handle = handle
        self.path = path
        try check(archive_read_support_filter_all(handle), "cannot enable decompression")
        try check(archive_read_support_format_tar(handle), "cannot enable the tar format")
        try check(archive_read_open_filename(handle, path, 64 << 10), "cannot open it as a tar archive")
    }

    deinit {
        archive_read_free(handle)
    }

    /// The next entry as stored, or nil after the last one.
    func next(includingContents: Bool) throws(ImageError) -> LayerReader.Entry? {
        try UTF8ThreadLocale.run { () throws(ImageError) in try nextInUTF8Locale(includingContents: includingContents) }
    }

    private func nextInUTF8Locale(includingContents: Bool) throws(ImageError) -> LayerReader.Entry? {
        var header: OpaquePointer?
        switch archive_read_next_header(handle, &header) {
        case ARCHIVE_EOF: return nil
        // A warning concerns one detail of the entry, such as a name that could not be converted; it is still usable.
        case ARCHIVE_OK, ARCHIVE_WARN: break
        default: throw failure("cannot read the next entry")
        }
        guard let header else { throw failure("cannot read the next entry") }
        let hardLink = Self.text(archive_entry_hardlink_utf8(header), archive_entry_hardlink(header))
        let kind: LayerReader.Entry.Kind =
            // libarchive's AE_IF* macros have the POSIX S_IF* values; Swift cannot import them because of their cast.
            switch (hardLink, mode_t(archive_entry_filetype(header))) {
            case (.some, _): .hardLink
            case (nil, mode_t(S_IFDIR)): .directory
            case (nil, mode_t(S_IFREG)): .file
            case (nil, mode_t(S_IFLNK)): .symlink
            default: .other
            }
        let name = Self.text(archive_entry_pathname_utf8(header), archive_entry_pathname(header)) ?? ""
        return LayerReader.Entry(
            name: name,
            kind: kind,
            mode: UInt16(archive_entry_perm(header) & 0o7777),
            uid: archive_entry_uid(header),
            gid: archive_entry_gid(header),
            uname: Self.text(archive_entry_uname_utf8(header), archive_entry_uname(header)) ?? "",
            gname: Self.text(archive_entry_gname_utf8(header), archive_entry_gname(header)) ?? "",
            modificationTime: Int64(archive_entry_mtime(header)),
            size: archive_entry_size(header),
            linkTarget: hardLink ?? Self.text(archive_entry_symlink_utf8(header), archive_entry_symlink(header)),
            contents: includingContents && kind == .file ? try readContents(of: name) : nil
        )
    }

    private func readContents(of name: String) throws(ImageError) -> [UInt8] {
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { archive_read_data(handle, $0.baseAddress, $0.count) }
            guard count >= 0 else { throw failure("cannot read the contents of \(name)") }
            guard count > 0 else { return contents }
            contents += chunk[..<count]
        }
    }

    /// A header field as UTF-8 where libarchive can convert it, as stored otherwise.
    private static func text(_ utf8: UnsafePointer<CChar>?, _ stored: UnsafePointer<CChar>?) -> String? {
        (utf8 ?? stored).map { String(cString: $0) }
    }

    private func check(_ status: Int32, _ what: String) throws(ImageError) {
        guard status == ARCHIVE_OK else { throw failure(what) }
    }

    private func failure(_ what: String) -> ImageError {
        let reason = archive_error_string(handle).map { String(cString: $0) } ?? "libarchive gave no reason"
        return ImageError(.archiveFailed, "\(what): \(reason)", context: path)
    }
}
