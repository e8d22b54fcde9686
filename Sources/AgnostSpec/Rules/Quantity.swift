import Foundation

/// A Kubernetes resource quantity such as `100m`, `0.5`, `1`, `128Mi` or `1e3`: the text as written, which is what
/// the manifest carries, and its amount, which is what `request ≤ limit` compares.
struct Quantity: Hashable, Sendable {
    var text: String
    var amount: Decimal

    private static let binarySuffixes: [String: Int] = ["Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60]
    private static let decimalSuffixes: [String: Int] = [
        "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
    ]
    /// Beyond this an exponent is a typo, and Decimal's own range stays far away.
    private static let largestExponent = 30

    /// Parses `text` with the grammar of Kubernetes' `resource.Quantity`, refusing signs and zero: a request or a
    /// limit of nothing is never meant. `subject` names the key, e.g. "scaling.cpu.request".
    static func parse(_ text: String, subject: String) throws(ValueError) -> Quantity {
        let number = text.prefix { $0.isASCIIDigit || $0 == "." }
        let suffix = String(text[number.endIndex...])
        let digits = number.filter { $0 != "." }
        guard !digits.isEmpty, number.count(where: { $0 == "." }) <= 1,
            let mantissa = Decimal(string: String(number), locale: Locale(identifier: "en_US_POSIX")),
            let amount = scaled(mantissa, by: suffix)
        else {
            throw ValueError(
                "\(subject) '\(text)' is not a Kubernetes quantity; write a positive number with an optional "
                    + "suffix, like 100m, 0.5 or 2 for CPU and 128Mi, 1Gi or 500M for memory"
            )
        }
        guard amount > 0 else {
            throw ValueError("\(subject) must be greater than 0, found '\(text)'")
        }
        return Quantity(text: text, amount: amount)
    }

    private static func scaled(_ mantissa: Decimal, by suffix: String) -> Decimal? {
        if let power = binarySuffixes[suffix] {
            return mantissa * pow(2, power)
        }
        if let exponent = decimalSuffixes[suffix] {
            return mantissa * pow(10, exponent)
        }
        guard let marker = suffix.first, marker == "e" || marker == "E" else { return nil }
        var exponentText = suffix.dropFirst()
        let isNegative = exponentText.first == "-"
        if isNegative || exponentText.first == "+" {
            exponentText = exponentText.dropFirst()
        }
        guard !exponentText.isEmpty, exponentText.allSatisfy(\.isASCIIDigit), let exponent = Int(exponentText),
            exponent <= largestExponent
        else {
            return nil
        }
        return mantissa * pow(10, isNegative ? -exponent : exponent)
    }

    /// `pow(10, n)` for negative `n` too, which Foundation's `pow(Decimal, Int)` does not do.
    private static func pow(_ base: Decimal, _ exponent: Int) -> Decimal {
        let magnitude = Foundation.pow(base, abs(exponent))
        return exponent < 0 ? 1 / magnitude : magnitude
    }

    /// Why a valid memory quantity is still almost surely a mistake, if it is: `m` is milli, so `128m` is a
    /// fraction of a byte.
    static func memoryWarning(for quantity: Quantity, subject: String) -> String? {
        guard quantity.text.hasSuffix("m") else { return nil }
        let count = quantity.text.dropLast()
        return "\(subject) '\(quantity.text)' is \(count) thousandths of a byte (m is milli); write \(count)Mi "
            + "for mebibytes or \(count)M for megabytes"
    }
}
