import NeuroODEStudies
import Testing

/// The `landscape` study's settings and helpers in-process (its scan runs in the CLI tests).
@Suite("landscape study")
struct LandscapeStudyTests {
    @Test func badSettingsAreNamed() {
        var cases: [(LandscapeStudy, String)] = []
        var study = LandscapeStudy()
        study.from = 120
        study.to = 80
        cases.append((study, "--from/--to"))
        study = LandscapeStudy()
        study.nodes = 0
        cases.append((study, "--nodes"))
        study = LandscapeStudy()
        study.methods = "bptt,magic"
        cases.append((study, "'magic'"))
        study = LandscapeStudy()
        study.seed = -1
        cases.append((study, "--seed"))
        for (study, named) in cases {
            #expect {
                try study.validate()
            } throws: { error in
                (error as? CommandLineError)?.description.contains(named) == true
            }
        }
        #expect(throws: Never.self) { try LandscapeStudy().validate() }
    }

    /// Methods are deduplicated in order; the clipping limit is twice the 90th percentile of |g|.
    @Test func methodsAndRobustLimit() throws {
        #expect(try LandscapeStudy.methodKinds("fd, bptt,fd").map(\.rawValue) == ["fd", "bptt"])
        // |g| sorted: 1 … 10 and one spike of 1e4; index ⌊0.9·11⌋ = 9 holds 10, so the limit is 20.
        let values = (1...10).map { Double($0) * ($0 % 2 == 0 ? 1 : -1) } + [1e4, .nan]
        #expect(LandscapeStudy.robustLimit(values) == 20)
    }
}
