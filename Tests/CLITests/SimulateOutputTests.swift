import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// `neuroode simulate` as a user runs it: what it writes, checked against the documented defaults,
/// against quantities recomputed here from the output, and against SciPy references
/// (Validation/cli_morris_lecar.py).
@Suite("simulate output")
struct SimulateOutputTests {
    /// The Morris–Lecar defaults documented in the README: hopf preset, leapfrog dt 0.1, t-end 1000,
    /// y0 = (−41.84, 0.5282).
    @Test func defaultCSVHasOneRowPerStepAndTheDocumentedDefaults() throws {
        let result = try CommandLineTool.simulate(["morris-lecar"])
        #expect(result.status == 0)
        #expect(result.standardError.isEmpty)
        let csv = try Trajectory(csv: result.standardOutput)
        #expect(csv.header == ["t", "V", "w"])
        #expect(csv.times.count == 10_001)
        #expect(csv.states.first == [-41.84, 0.5282])
        #expect(csv.times.first == 0)
        #expect(csv.times.last == 1000)
        for (k, t) in csv.times.enumerated() {
            #expect(abs(t - 0.1 * Double(k)) <= 1e-9, "row \(k): t = \(t)")
        }
        #expect(csv.states.allSatisfy { $0.allSatisfy(\.isFinite) })
    }

    /// CSV and JSON carry the same doubles, bit for bit: both formats are round-trippable.
    @Test func csvAndJSONAgreeExactly() throws {
        let arguments = ["morris-lecar", "--t-end", "50"]
        let csv = try Trajectory(csv: try CommandLineTool.simulate(arguments + ["--format", "csv"]).standardOutput)
        let json = Trajectory(json: try SimulationJSON.parse(try CommandLineTool.simulate(arguments + ["--format", "json"]).standardOutput))
        #expect(json.header == csv.header)
        #expect(json.times == csv.times)
        #expect(json.states == csv.states)
    }

    @Test func jsonHasMatchingLengthsAndSolverStatistics() throws {
        let result = try CommandLineTool.simulate(["morris-lecar", "--format", "json", "--t-end", "100"])
        #expect(result.status == 0)
        let object = try SimulationJSON.parse(result.standardOutput)
        let trajectory = Trajectory(json: object)
        #expect(object.model == "morris-lecar")
        #expect(object.integrator == "leapfrog")
        #expect(trajectory.times.count == 1001)
        #expect(trajectory.states.count == trajectory.times.count)
        #expect(trajectory.states.allSatisfy { $0.count == 2 })
        #expect(object.spikes == nil, "spikes are written only with --spikes")
        #expect(object.stats["steps"] == 1000)
        #expect(object.stats["rejectedSteps"] == 0)
        #expect(object.stats["rightHandSideEvaluations"] == 1000)
        let wallTime = try #require(object.stats["wallTimeSeconds"])
        #expect(wallTime >= 0 && wallTime < 60)
    }

    /// Spike times in the JSON are the 0 mV upward crossings, recomputed here by linear
    /// interpolation between the written samples; the bare flag means threshold 0 and may come
    /// before the model name.
    @Test(arguments: [
        (["--spikes", "morris-lecar"], 0.0),
        (["morris-lecar", "--spikes"], 0.0),
        (["morris-lecar", "--spikes", "-20"], -20.0),
        (["morris-lecar", "--spikes=15"], 15.0),
    ])
    func spikesAreThresholdCrossings(arguments: [String], threshold: Double) throws {
        let result = try CommandLineTool.simulate(arguments + ["--format", "json"])
        #expect(result.status == 0, "\(result.standardError)")
        let object = try SimulationJSON.parse(result.standardOutput)
        let trajectory = Trajectory(json: object)
        let spikes = try #require(object.spikes)
        #expect(spikes.count == 1, "one array per neuron")
        let times = try #require(spikes.first)
        var expected: [Double] = []
        let v = trajectory.component(0)
        for k in 1..<v.count where v[k - 1] < threshold && v[k] >= threshold {
            let f = (threshold - v[k - 1]) / (v[k] - v[k - 1])
            expected.append(trajectory.times[k - 1] + f * (trajectory.times[k] - trajectory.times[k - 1]))
        }
        // Tonic firing at about 11 Hz over one second (SPEC, hopf preset at I = 100).
        #expect((9...13).contains(expected.count))
        try #require(times.count == expected.count)
        for (a, b) in zip(times, expected) {
            #expect(abs(a - b) <= 1e-9)
        }
    }

    /// With CSV, spike times go to FILE.spikes.csv beside the trajectory, the same as in JSON.
    @Test func csvSpikesGoToASidecarFile() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ml.csv").path
        let result = try CommandLineTool.simulate(["morris-lecar", "--spikes", "--output", path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.isEmpty, "with --output nothing goes to standard output")
        let sidecar = try String(contentsOfFile: directory.appendingPathComponent("ml.spikes.csv").path, encoding: .utf8)
        let rows = sidecar.split(separator: "\n")
        #expect(rows.first == "neuron,t")
        let csvTimes = rows.dropFirst().compactMap { Double($0.split(separator: ",")[1]) }
        let object = try SimulationJSON.parse(try CommandLineTool.simulate(["morris-lecar", "--spikes", "--format", "json"]).standardOutput)
        let jsonTimes = try #require(object.spikes?.first)
        #expect(csvTimes == jsonTimes)
        #expect(!csvTimes.isEmpty)
    }

    /// --output FILE writes exactly what standard output would get; .json selects JSON.
    @Test func outputFileMatchesStandardOutputAndPicksFormatFromExtension() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("nested/run.json").path
        let arguments = ["morris-lecar", "--t-end", "20"]
        #expect(try CommandLineTool.simulate(arguments + ["--output", path]).status == 0)
        let written = try String(contentsOfFile: path, encoding: .utf8)
        let printed = try CommandLineTool.simulate(arguments + ["--format", "json"]).standardOutput
        // Identical but for the measured wall time and the command line in the provenance.
        func withoutRunSpecifics(_ text: String) -> String {
            text.split(separator: "\n").filter { !$0.contains("wallTimeSeconds") && !$0.contains("\"output\" :") }.joined(separator: "\n")
                .replacingOccurrences(of: #""(commandLine|arguments)" : \[[^\]]*\],"#, with: "", options: .regularExpression)
        }
        #expect(withoutRunSpecifics(written) == withoutRunSpecifics(printed))
        #expect(try SimulationJSON.parse(written).t.count == 201)
    }

    /// Requested output times come back exactly, and the states there are the linear interpolant
    /// of the every-step trajectory (leapfrog's documented dense output).
    @Test func outputTimesAreSampledExactly() throws {
        let requested = [0, 0.05, 12.34, 100, 333.3333, 999.95, 1000]
        let list = requested.map { "\($0)" }.joined(separator: ",")
        let sampled = try Trajectory(csv: try CommandLineTool.simulate(["morris-lecar", "--times", list]).standardOutput)
        #expect(sampled.times == requested)
        let full = try Trajectory(csv: try CommandLineTool.simulate(["morris-lecar"]).standardOutput)
        for (i, t) in requested.enumerated() {
            let k = try #require(full.times.firstIndex { $0 >= t })
            let expected: [Double]
            if full.times[k] == t {
                expected = full.states[k]
            } else {
                let f = (t - full.times[k - 1]) / (full.times[k] - full.times[k - 1])
                expected = zip(full.states[k - 1], full.states[k]).map { $0 + f * ($1 - $0) }
            }
            for (a, b) in zip(sampled.states[i], expected) {
                #expect(abs(a - b) <= 1e-10 * max(1, abs(b)), "t = \(t)")
            }
        }
    }

    /// Presets, --param, --y0 and --dt reach the model: trajectories match SciPy (DOP853, tol 1e-12).
    /// Leapfrog at dt = 0.01 is within 0.15 ms in spike time and 1 mV in V of the reference; the
    /// bars leave room for that, while a wrong preset or current moves spikes by more than 10 ms.
    @Test(arguments: [
        ("hopf-default", [String]()),
        ("snic-I45", ["--preset", "snic", "--param", "I=45"]),
    ])
    func presetsAndParametersMatchSciPy(name: String, arguments: [String]) throws {
        let reference = try Reference.morrisLecar(name)
        let times = reference.t.map { "\($0)" }.joined(separator: ",")
        let y0 = reference.y0.map { "\($0)" }.joined(separator: ",")
        let result = try CommandLineTool.simulate(
            ["morris-lecar", "--dt", "0.01", "--t-end", "\(reference.tEnd)", "--y0", y0, "--times", times,
             "--spikes", "--format", "json"] + arguments)
        #expect(result.status == 0, "\(result.standardError)")
        let object = try SimulationJSON.parse(result.standardOutput)
        let trajectory = Trajectory(json: object)
        #expect(trajectory.times == reference.t)
        for (row, expected) in zip(trajectory.states, reference.y) {
            #expect(abs(row[0] - expected[0]) <= 2)
            #expect(abs(row[1] - expected[1]) <= 0.02)
        }
        let spikes = try #require(object.spikes?.first)
        try #require(spikes.count == reference.spikes.count)
        for (a, b) in zip(spikes, reference.spikes) {
            #expect(abs(a - b) <= 0.3)
        }
    }

    /// Starting at the resting point computed here (bisection on the nullclines), with I = 0 set by
    /// --param, the trajectory stays put: --y0 and --param both take effect.
    @Test func restingStateStaysAtRest() throws {
        let (gL, gCa, gK, vL, vCa, vK, v1, v2, v3, v4) = (2.0, 4.0, 8.0, -60.0, 120.0, -84.0, -1.2, 18.0, 2.0, 30.0)
        func current(_ v: Double) -> Double {
            let m = 0.5 * (1 + tanh((v - v1) / v2)), w = 0.5 * (1 + tanh((v - v3) / v4))
            return gL * (vL - v) + gCa * m * (vCa - v) + gK * w * (vK - v)
        }
        var (a, b) = (-70.0, -40.0)
        #expect(current(a) > 0 && current(b) < 0)
        for _ in 0..<200 {
            let mid = 0.5 * (a + b)
            if current(mid) > 0 { a = mid } else { b = mid }
        }
        let vRest = 0.5 * (a + b), wRest = 0.5 * (1 + tanh((vRest - v3) / v4))
        let result = try CommandLineTool.simulate(
            ["morris-lecar", "--param", "I=0", "--y0", "\(vRest),\(wRest)", "--t-end", "200", "--format", "json"])
        #expect(result.status == 0, "\(result.standardError)")
        let trajectory = Trajectory(json: try SimulationJSON.parse(result.standardOutput))
        let v = trajectory.component(0), w = trajectory.component(1)
        #expect(v.allSatisfy { abs($0 - vRest) < 1e-9 })
        #expect(w.allSatisfy { abs($0 - wRest) < 1e-9 })
    }

    /// --plot writes well-formed SVG 1.1 with one vertex per output time on the V(t) curve.
    @Test func plotIsValidSVG() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plot = directory.appendingPathComponent("ml.svg")
        let result = try CommandLineTool.simulate(
            ["morris-lecar", "--t-end", "300", "--output", directory.appendingPathComponent("ml.csv").path,
             "--plot", plot.path])
        #expect(result.status == 0, "\(result.standardError)")
        let data = try Data(contentsOf: plot)
        let collector = SVGCollector()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.delegate = collector
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(collector.root == "svg")
        #expect(collector.rootNamespace == "http://www.w3.org/2000/svg")
        #expect(collector.rootAttributes["version"] == "1.1")
        #expect(collector.texts.contains { $0.contains("membrane potential") })
        #expect(collector.texts.contains("V (mV)"))
        #expect(collector.texts.contains("t (ms)"))
        // The single data path: one move and 3000 line segments for 3001 samples.
        let paths = collector.pathData.filter { $0.hasPrefix("M") }
        #expect(paths.count == 1)
        let vertices = paths.first.map { $0.filter { $0 == "M" || $0 == "L" }.count }
        #expect(vertices == 3001)
    }
}

/// Collects what the SVG checks need.
final class SVGCollector: NSObject, XMLParserDelegate {
    var root: String?
    var rootNamespace: String?
    var rootAttributes: [String: String] = [:]
    var texts: [String] = []
    var pathData: [String] = []
    private var text = ""

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        if root == nil {
            root = elementName
            rootNamespace = namespaceURI
            rootAttributes = attributeDict
        }
        if elementName == "path", let d = attributeDict["d"] { pathData.append(d) }
        text = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        text += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        if elementName == "text" || elementName == "title" { texts.append(text) }
        text = ""
    }
}

/// Reference trajectories written by Validation/cli_morris_lecar.py.
struct Reference: Decodable {
    let name: String
    let y0: [Double]
    let tEnd: Double
    let t: [Double]
    let y: [[Double]]
    let spikes: [Double]

    private struct File: Decodable { let cases: [Reference] }

    static func morrisLecar(_ name: String) throws -> Reference {
        let url = try #require(Bundle.module.url(forResource: "cli_morris_lecar", withExtension: "json", subdirectory: "References"))
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
        return try #require(file.cases.first { $0.name == name })
    }
}
