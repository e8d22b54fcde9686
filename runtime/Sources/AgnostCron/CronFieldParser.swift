/// Parses one field of a schedule: a comma-separated list of `*`, `a`, `a-b`, each optionally followed by `/step`.
struct CronFieldParser {
    let kind: CronFieldKind

    /// The allowed values, and whether the field is unrestricted.
    ///
    /// A field is unrestricted when one of its items is `*` or `*/1`: that is how robfig/cron, the scheduler behind
    /// Knative's PingSource, decides whether day-of-month and day-of-week combine with OR.
    func parse(_ token: CronToken) throws(CronExpressionError) -> (field: CronField, isUnrestricted: Bool) {
        var field = CronField()
        var isUnrestricted = false
        let items = token.pieces(separatedBy: ",")
        for (index, item) in items.enumerated() {
            guard !item.isEmpty else {
                // An empty item sits right before the comma that ends it, or right after the last comma.
                let commaOffset = index < items.count - 1 ? item.offset : item.offset - 1
                throw CronExpressionError(
                    "\(kind.name) list has an empty item; remove the extra ','",
                    offset: commaOffset,
                    length: 1
                )
            }
            let parsed = try parseItem(item)
            field.formUnion(parsed.field)
            isUnrestricted = isUnrestricted || parsed.isUnrestricted
        }
        return (field, isUnrestricted)
    }

    private func parseItem(_ item: CronToken) throws(CronExpressionError) -> (field: CronField, isUnrestricted: Bool) {
        var base = item
        var step: Int?
        if let (head, slashOffset, tail) = item.split(atFirst: "/") {
            guard !head.isEmpty else {
                throw CronExpressionError("\(kind.name) value is missing before '/'", offset: slashOffset, length: 1)
            }
            base = head
            step = try parseStep(tail, slashOffset: slashOffset)
        }
        let bounds = try parseBounds(base, isStepped: step != nil)
        var field = CronField()
        for value in stride(from: bounds.lowerBound, through: bounds.upperBound, by: step ?? 1) {
            field.insert(kind.normalized(value))
        }
        return (field, base.text == "*" && (step ?? 1) == 1)
    }

    private func parseStep(_ token: CronToken, slashOffset: Int) throws(CronExpressionError) -> Int {
        guard !token.isEmpty else {
            throw CronExpressionError("\(kind.name) step is missing after '/'", offset: slashOffset, length: 1)
        }
        guard token.characters.allSatisfy({ ("0"..."9").contains($0) }) else {
            throw token.error("\(kind.name) step '\(token.text)' is not a number")
        }
        // Saturate: any step beyond the field's span selects only the start, however large it is.
        let step = token.characters.reduce(0) { min($0 * 10 + $1.wholeNumberValue!, 1_000_000) }
        guard step >= 1 else {
            throw token.error("\(kind.name) step must be at least 1, found \(token.text)")
        }
        return step
    }

    /// The range an item's base covers: `*`, `a-b`, `a`, or `a` up to the end of the field when stepped (`a/n`).
    private func parseBounds(_ base: CronToken, isStepped: Bool) throws(CronExpressionError) -> ClosedRange<Int> {
        if base.text == "*" {
            return kind.all
        }
        guard let (startToken, dashOffset, endToken) = base.split(atFirst: "-") else {
            let start = try kind.value(of: base)
            return start...(isStepped ? max(start, kind.all.upperBound) : start)
        }
        guard !startToken.isEmpty else {
            throw CronExpressionError(
                "\(kind.name) range is missing its start before '-'",
                offset: dashOffset,
                length: 1
            )
        }
        guard !endToken.isEmpty else {
            throw CronExpressionError("\(kind.name) range is missing its end after '-'", offset: dashOffset, length: 1)
        }
        let start = try kind.value(of: startToken)
        let end = try kind.value(of: endToken)
        guard start <= end else {
            throw base.error(
                "\(kind.name) range \(base.text) is reversed; the first value must not be greater than the second"
            )
        }
        return start...end
    }
}
