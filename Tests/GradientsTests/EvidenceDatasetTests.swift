import Testing
@testable import Gradients

@Suite struct EvidenceDatasetTests {
    let data = EvidenceDataset(seed: 42)

    @Test func trialsFollowTheSpec() {
        var labelCounts = [0, 0, 0]
        for index in 0..<2000 {
            let trial = data.trial(index, of: .training)
            #expect(trial.tokens.count == 50 && trial.tokens.last == EvidenceDataset.endToken)
            #expect(!trial.tokens.dropLast().contains(EvidenceDataset.endToken))
            // Counts agree with the sequence, sum to at most 49, and have a unique maximum: the label.
            for token in 0..<3 { #expect(trial.tokens.filter { $0 == token }.count == trial.counts[token]) }
            #expect(trial.counts.reduce(0, +) <= 49)
            let largest = trial.counts.max()!
            #expect(trial.counts.filter { $0 == largest }.count == 1)
            #expect(trial.counts[trial.label] == largest)
            labelCounts[trial.label] += 1
        }
        // By symmetry each label is a third of the trials: within 4 standard deviations.
        let sd = (2000.0 * (1.0 / 3) * (2.0 / 3)).squareRoot()
        #expect(labelCounts.allSatisfy { abs(Double($0) - 2000.0 / 3) < 4 * sd }, "\(labelCounts)")
    }

    @Test func countsAreUniformOverTriples() {
        // Uniform over triples with sum ≤ 49 (ties rejected): E[c1] over that set, computed here by
        // enumeration, versus the sample mean.
        var total = 0.0, number = 0.0
        for a in 0...49 { for b in 0...(49 - a) { for c in 0...(49 - a - b) {
            let m = max(a, b, c)
            if [a, b, c].filter({ $0 == m }).count == 1 { total += Double(a); number += 1 }
        } } }
        let expected = total / number
        let samples = (0..<4000).map { Double(data.trial($0, of: .training).counts[0]) }
        let mean = samples.reduce(0, +) / 4000
        let sd = (samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3999).squareRoot()
        #expect(abs(mean - expected) < 4 * sd / 4000.0.squareRoot(), "mean \(mean), expected \(expected)")
    }

    @Test func tokensAreBinaryWithAboutHalfOnes() {
        #expect(data.vocabulary.count == 250)
        #expect(data.vocabulary.allSatisfy { $0 == 0 || $0 == 0.2 })
        let ones = data.vocabulary.filter { $0 == 0.2 }.count
        #expect(abs(Double(ones) - 125) < 4 * (250.0 * 0.25).squareRoot())
    }

    @Test func splitsAreDeterministicAndDistinct() throws {
        #expect(data.trial(7, of: .training) == EvidenceDataset(seed: 42).trial(7, of: .training))
        #expect((0..<50).contains { data.trial($0, of: .training) != data.trial($0, of: .test) })
        let (input, labels) = try data.batch(0..<8, of: .test)
        #expect(labels.count == 8 && input.batchSize == 8)
    }
}
