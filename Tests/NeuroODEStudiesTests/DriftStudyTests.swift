import Foundation
import NeuroODEStudies
import Testing

/// The `drift` study in-process: its settings refused by option name, and on a short horizon
/// (no drift to speak of) the full and partial adjoints' running gradients agreeing.
@Suite("drift study")
struct DriftStudyTests {
    @Test func badSettingsAreNamed() {
        var cases: [(DriftStudy, String)] = []
        var study = DriftStudy()
        study.horizon = 0
        cases.append((study, "--horizon"))
        study = DriftStudy()
        study.integrator = "euler"
        cases.append((study, "euler"))
        study = DriftStudy()
        study.dtGiven = 0.1
        cases.append((study, "--dt"))
        study = DriftStudy()
        study.rtol = 1
        cases.append((study, "--rtol"))
        study = DriftStudy()
        study.points = 0
        cases.append((study, "--points"))
        study = DriftStudy()
        study.threshold = .nan
        cases.append((study, "--threshold"))
        for (study, named) in cases {
            #expect {
                try study.validate()
            } throws: { error in
                (error as? CommandLineError)?.description.contains(named) == true
            }
        }
        #expect(throws: Never.self) { try DriftStudy().validate() }
    }

    @Test func shortHorizonAdjointsAgree() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drift-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var study = DriftStudy()
        study.horizon = 50
        study.points = 5
        let lines = try study.run(writingTo: directory)
        #expect(lines.contains { $0.hasPrefix("partial adjoint: loss") } && lines.contains { $0.hasPrefix("full adjoint:") })
        let rows = try String(contentsOfFile: directory + "/drift.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",").map { Double($0) ?? .nan } }
        #expect(rows.count >= 5)
        for row in rows {
            let (full, partial) = (row[3], row[4])
            #expect(abs(full - partial) <= 1e-4 * max(abs(partial), 1e-12), "t = \(row[0]): full \(full), partial \(partial)")
        }
        for name in ["drift.svg", "drift-gradient.svg", "drift-gradient-magnitude.svg", "manifest.json"] {
            #expect(FileManager.default.fileExists(atPath: directory + "/" + name))
        }
        let magnitude = try String(contentsOfFile: directory + "/drift-gradient-magnitude.svg", encoding: .utf8)
        #expect(magnitude.contains("cm²/µA") && magnitude.contains("µA/cm²") && magnitude.contains("10<tspan"), "units, parameters and decade ticks")
    }
}
