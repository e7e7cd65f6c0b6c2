import Foundation
import Testing

/// The Swift shown in README "Your own model" and the Gradients article "Adding your own model" is
/// the custom-model example's own code (which the build compiles), line for line, comments aside.
@Suite struct FitDocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")

    static func read(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// The lines of `text` that are code: comments and blank lines dropped, trailing spaces trimmed.
    static func code(_ text: some StringProtocol) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }
            .filter { !$0.isEmpty && !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
    }

    /// Every ```swift block of `markdown`.
    static func swiftBlocks(_ markdown: String) -> [String] {
        markdown.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
    }

    @Test(arguments: ["README.md", "Sources/Gradients/Gradients.docc/AddingYourOwnModel.md"])
    func swiftBlocksAreTheExamplesCode(document: String) throws {
        var text = try Self.read(document)
        if document == "README.md" {
            let section = try #require(text.range(of: "## Your own model"))
            text = String(text[section.lowerBound...])
            text = String(text[..<(text.range(of: "\n## ", range: text.index(after: text.startIndex)..<text.endIndex)?.lowerBound ?? text.endIndex)])
        }
        let example = try ["main.swift", "TraceMismatch.swift", "FitzHughNagumo.swift"]
            .map { Self.code(try Self.read("Sources/Examples/custom-model/" + $0)) }
        let blocks = Self.swiftBlocks(text)
        #expect(!blocks.isEmpty, "\(document) shows no Swift")
        for block in blocks {
            let lines = Self.code(block)
            let found = example.contains { file in
                file.indices.contains { start in start + lines.count <= file.count && Array(file[start..<(start + lines.count)]) == lines }
            }
            #expect(found, "\(document): this block is not the example's code:\n\(block)")
        }
    }
}
