/// One fixed-size block of a gzip member's input, preceded by the 32 KiB of input before it. Deflate may refer back
/// that far, so a block compressed on its own with those bytes as its dictionary loses almost nothing to the split.
///
/// The writer fills a block, then hands it to one worker and never touches it again; the worker only reads it. That
/// hand-off is what makes it `Sendable`. zlib points into ``storage`` while compressing, so it is an allocation of
/// its own rather than an array that could move.
final class DeflateBlock: @unchecked Sendable {
    /// The deflate window: the furthest back a match can reach.
    static let windowSize = 32 << 10

    private let storage: UnsafeMutableRawBufferPointer
    /// How many of the stored bytes are the dictionary, ahead of the block's own input.
    private let dictionaryCount: Int
    /// How many input bytes the block holds so far.
    private(set) var count = 0
    /// How many input bytes it can hold.
    let capacity: Int

    /// An empty block that continues the stream after `previous`, or starts it.
    init(capacity: Int, following previous: DeflateBlock?) {
        let window = previous.map { UnsafeRawBufferPointer(rebasing: $0.stored.suffix(Self.windowSize)) }
        dictionaryCount = window?.count ?? 0
        self.capacity = capacity
        storage = .allocate(byteCount: dictionaryCount + capacity, alignment: 16)
        if let window { storage.copyMemory(from: window) }
    }

    deinit {
        storage.deallocate()
    }

    var isFull: Bool { count == capacity }

    /// The input before the block, up to a window of it.
    var dictionary: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[..<dictionaryCount]) }

    /// The block's own input.
    var input: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: stored[dictionaryCount...]) }

    /// The dictionary and the input so far, as one run of bytes.
    private var stored: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage[..<(dictionaryCount + count)])
    }

    /// Copies as much of the front of `bytes` as there is room for and returns how many bytes that was.
    func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        let taken = min(bytes.count, capacity - count)
        guard taken > 0 else { return 0 }
        UnsafeMutableRawBufferPointer(rebasing: storage[(dictionaryCount + count)...])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[..<taken]))
        count += taken
        return taken
    }
}
