/// Why the text of one scalar cannot become a model value.
struct ValueError: Error {
    var message: String
    /// Where the problem starts inside the scalar's text, in `Character`s; nil blames the whole value.
    var offset: Int?

    init(_ message: String, offset: Int? = nil) {
        self.message = message
        self.offset = offset
    }
}
