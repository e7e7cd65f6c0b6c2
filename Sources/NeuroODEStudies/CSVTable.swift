/// The one CSV writer of every report and trajectory: a header row, then rows of fields
/// separated by commas (RFC 4180: a field holding a comma, a quote or a line break is quoted,
/// its quotes doubled).
///
/// Numbers are written in Swift's shortest round-trip form, so parsing a written value gives
/// back exactly the Double that was computed (a failed value is `nan`); an absent value is an
/// empty field. The plain-number rows of a trajectory take ``appendRow(numbers:)``, which skips
/// the quoting check.
public struct CSVTable {
    public private(set) var text: String

    public init(header: [String], reservingRows rows: Int = 0) {
        text = ""
        text.reserveCapacity((rows + 1) * header.count * 20)
        appendRow(header)
    }

    /// One row of text fields, each quoted when it needs to be.
    public mutating func appendRow(_ fields: [String]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { text += "," }
            text += Self.field(field)
        }
        text += "\n"
    }

    /// One row of numbers.
    public mutating func appendRow(numbers: some Sequence<Double>) {
        var first = true
        for value in numbers {
            if !first { text += "," }
            text += Self.number(value)
            first = false
        }
        text += "\n"
    }

    /// The whole table from a header and rows of numbers.
    public static func numbers(header: [String], rows: [[Double]]) -> String {
        var table = CSVTable(header: header, reservingRows: rows.count)
        for row in rows { table.appendRow(numbers: row) }
        return table.text
    }

    /// The shortest decimal text that parses back to exactly `value` (`nan`, `inf`, `-inf` for
    /// the non-finite values).
    public static func number(_ value: Double) -> String {
        value.description
    }

    /// `value`, or an empty field when it is absent.
    public static func number(_ value: Double?) -> String {
        value.map(number) ?? ""
    }

    /// `text` as one field.
    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
