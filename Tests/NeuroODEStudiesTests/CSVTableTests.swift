import Foundation
import NeuroODEStudies
import Testing

/// The one CSV writer: RFC 4180 quoting, numbers that parse back exactly, empty absent fields.
@Suite("CSV table")
struct CSVTableTests {
    @Test func quotesOnlyWhatNeedsQuotingAndWritesExactNumbers() {
        var table = CSVTable(header: ["name", "x", "note"])
        table.appendRow(["plain", CSVTable.number(0.1 + 0.2), "a, b"])
        table.appendRow(["say \"hi\"", CSVTable.number(nil), "two\nlines"])
        table.appendRow(numbers: [1e-300, -.infinity, .nan])
        #expect(table.text == "name,x,note\nplain,0.30000000000000004,\"a, b\"\n\"say \"\"hi\"\"\",,\"two\nlines\"\n1e-300,-inf,nan\n")
        #expect(Double("0.30000000000000004") == 0.1 + 0.2)
        #expect(CSVTable.numbers(header: ["a", "b"], rows: [[1, 2.5]]) == "a,b\n1.0,2.5\n")
    }
}
