// Everything agnost.yaml names ends up in Swift source, URLs or Kubernetes objects, which all want plain ASCII;
// Character's own isLetter/isNumber would also admit letters and digits of every other script.
extension Character {
    var isASCIILetter: Bool { isASCII && isLetter }
    var isASCIILowercaseLetter: Bool { isASCII && isLowercase }
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isASCIIHexDigit: Bool { isASCII && isHexDigit }
}
