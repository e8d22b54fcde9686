/// A run of characters of a schedule. Slicing keeps the indices of the whole text, so every token knows its offset
/// for error reporting without bookkeeping.
struct CronToken {
    let characters: ArraySlice<Character>

    var offset: Int { characters.startIndex }
    var length: Int { characters.count }
    var isEmpty: Bool { characters.isEmpty }
    var text: String { String(characters) }

    /// The whitespace-separated words of `text`.
    static func words(in text: [Character]) -> [CronToken] {
        text.indices.split { text[$0].isWhitespace }.map { CronToken(characters: text[$0]) }
    }

    /// The pieces between occurrences of `separator`, empty pieces included.
    func pieces(separatedBy separator: Character) -> [CronToken] {
        characters.split(separator: separator, omittingEmptySubsequences: false).map(CronToken.init)
    }

    /// The parts before and after the first `separator`, and the separator's offset; nil when there is none.
    func split(atFirst separator: Character) -> (head: CronToken, separatorOffset: Int, tail: CronToken)? {
        guard let index = characters.firstIndex(of: separator) else { return nil }
        return (
            CronToken(characters: characters[..<index]),
            index,
            CronToken(characters: characters[(index + 1)...])
        )
    }

    /// An error that underlines this token.
    func error(_ message: String) -> CronExpressionError {
        CronExpressionError(message, offset: offset, length: length)
    }
}
