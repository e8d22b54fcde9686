/// Sizes and durations as the command line shows them.
///
/// ```swift
/// DisplayFormat.format(bytes: 8_812_345)        // "8.8 MB"
/// DisplayFormat.format(.milliseconds(1430))     // "1.4 s"
/// ```
public enum DisplayFormat {
    /// `812.0 kB`, `8.8 MB`: decimal units, as registries and Docker show sizes.
    public static func format(bytes: Int64) -> String {
        bytes < 1_000_000 ? tenths(Double(bytes) / 1000) + " kB" : tenths(Double(bytes) / 1e6) + " MB"
    }

    /// `312 ms` below a second, `1.4 s` above.
    public static func format(_ duration: Duration) -> String {
        let milliseconds = Int(duration / .milliseconds(1))
        return milliseconds < 1000 ? "\(milliseconds) ms" : tenths(Double(milliseconds) / 1000) + " s"
    }

    private static func tenths(_ value: Double) -> String {
        let scaled = Int64((value * 10).rounded())
        return "\(scaled / 10).\(scaled % 10)"
    }
}
