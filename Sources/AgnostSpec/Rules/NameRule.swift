/// The shapes of names agnost.yaml accepts.
enum NameRule {
    /// `^[a-z]([-a-z0-9]*[a-z0-9])?$`, a DNS-1035 label: the name becomes part of Kubernetes objects and URLs.
    case dnsLabel
    /// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, a DNS-1123 label: versions may start with a digit.
    case version
    /// `^[A-Za-z][A-Za-z0-9_-]*$`, for names people write in camel case.
    case identifier
    /// `^[A-Za-z_][A-Za-z0-9_]*$`, what a shell accepts as a variable name.
    case environmentVariable

    /// Names of Kubernetes objects and labels are limited to 63 characters.
    static let maximumLength = 63

    /// Checks `text`; `subject` names it in messages, e.g. "queue name".
    func validate(_ text: String, subject: String, maximumLength: Int? = nil) throws(ValueError) -> String {
        guard matches(text) else {
            throw ValueError("\(subject) '\(text)' is invalid; \(explanation)")
        }
        if let maximumLength, text.count > maximumLength {
            throw ValueError("\(subject) '\(text)' is \(text.count) characters long; the limit is \(maximumLength)")
        }
        return text
    }

    private var explanation: String {
        switch self {
        case .dnsLabel:
            "use lowercase letters, digits and '-', starting with a letter and ending with a letter or digit"
        case .version:
            "use lowercase letters, digits and '-', starting and ending with a letter or digit"
        case .identifier:
            "start with a letter and use only letters, digits, '_' and '-'"
        case .environmentVariable:
            "use letters, digits and '_', not starting with a digit"
        }
    }

    private func matches(_ text: String) -> Bool {
        guard let first = text.first, let last = text.last else { return false }
        switch self {
        case .dnsLabel, .version:
            let isLowercaseOrDigit = { (character: Character) in
                character.isASCIILowercaseLetter || character.isASCIIDigit
            }
            let isValidStart = self == .dnsLabel ? first.isASCIILowercaseLetter : isLowercaseOrDigit(first)
            return isValidStart && isLowercaseOrDigit(last) && text.allSatisfy { isLowercaseOrDigit($0) || $0 == "-" }
        case .identifier:
            return first.isASCIILetter && text.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || "_-".contains($0) }
        case .environmentVariable:
            return SwiftIdentifier.isValid(text)
        }
    }
}
