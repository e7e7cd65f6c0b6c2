import Foundation
import Testing

/// `mpirun -np R neuroode …` (README "Beyond one machine: MPI"): the results of R = 1, 2 and 3
/// ranks equal a plain run's bit for bit, and a job whose rank is killed resumes, with another R,
/// to the uninterrupted run's result. The reference is always the plain run (no MPI at all), with
/// another thread count than the ranks use.
@Suite(
    "MPI", .serialized,
    .enabled(if: MPIRun.launcher != nil, "mpirun is not installed (Debian: openmpi-bin); the MPI tests need it"))
struct MPICommandTests {
    /// The evidence task at a toy size whose batch of 16 makes all 8 BPTT parts.
    static let task = ["evidence", "--neurons", "3", "--batch", "16", "--test-trials", "2", "--token-ms", "0.5"]

    /// `compare evidence --methods es,bptt,cmaes`: summary.json, curves.csv and the final θ of
    /// every checkpointed run are the plain run's with R = 1, 2, 3, wall-clock and measured-memory
    /// fields aside (bytes_stored too: ES's per-process buffers grow with the thread count); the
    /// table and the progress are printed once.
    @Test func compareIsBitIdenticalForOneTwoAndThreeRanks() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = ["compare"] + Self.task + ["--methods", "es,bptt,cmaes", "--iterations", "3", "--eval-every", "1"]
        func run(ranks: Int?) throws -> (summary: String, curves: String, theta: [String: [Double]]) {
            let out = directory.appendingPathComponent(ranks.map { "r\($0)" } ?? "plain").path
            let result = try MPIRun.run(arguments + ["--out", out], ranks: ranks, threads: ranks == nil ? 2 : 1)
            #expect(result.status == 0, "\(result.standardError)")
            // Rank 0 alone prints: the table and each final progress line once.
            #expect(result.standardOutput.components(separatedBy: "\nwrote ").count == 2, "\(result.standardOutput)")
            #expect(result.standardError.components(separatedBy: "[es run 1/1] iteration 3/3").count == 2, "\(result.standardError)")
            let summary = try MPIRun.withoutMeasuredFields(Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            let curves = try MPIRun.columns(of: out + "/curves.csv", dropping: ["wall_s", "peak_bytes", "bytes_stored"])
            var theta: [String: [Double]] = [:]
            for method in ["es", "bptt"] {
                theta[method] = try MPIRun.newestCheckpointParameters(in: out + "/checkpoints/\(method)/run-0")
            }
            return (summary, curves, theta)
        }
        let plain = try run(ranks: nil)
        #expect(plain.theta["es"]?.count == 171 && plain.theta["bptt"]?.count == 171)
        for ranks in 1...3 {
            let distributed = try run(ranks: ranks)
            #expect(distributed.summary == plain.summary, "R = \(ranks)")
            #expect(distributed.curves == plain.curves, "R = \(ranks)")
            #expect(distributed.theta == plain.theta, "R = \(ranks)")
        }
    }

    /// `gradient`: BPTT's gradient (8 batch parts over the ranks) and ES's estimate (20 samples
    /// over the ranks) and their counts equal the plain run's.
    @Test(arguments: ["bptt", "es"])
    func gradientIsBitIdentical(method: String) throws {
        let arguments = ["gradient"] + Self.task.prefix(5) + ["--method", method, "--format", "json"]
            + (method == "es" ? ["--samples", "20"] : [])
        func run(ranks: Int?) throws -> [String: Any] {
            let result = try MPIRun.run(Array(arguments), ranks: ranks, threads: ranks == nil ? 2 : 1)
            #expect(result.status == 0, "\(result.standardError)")
            var object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            var stats = try #require(object["stats"] as? [String: Any])
            stats["wallTime"] = nil
            stats["bytesStored"] = nil
            object["stats"] = stats
            object["provenance"] = nil
            return object
        }
        let plain = try run(ranks: nil)
        #expect((plain["gradient"] as? [String: Double])?.count == 171)
        for ranks in [2, 3] {
            let distributed = try run(ranks: ranks)
            #expect(NSDictionary(dictionary: distributed).isEqual(to: plain), "R = \(ranks)")
        }
    }

    /// A rank killed mid-run (SIGKILL, as a lost node) ends the job with MPI's message naming the
    /// rank; `--resume` with another number of ranks continues from the last checkpoint to the
    /// plain uninterrupted run's log and θ, bit for bit.
    @Test func aKilledRankEndsTheJobAndResumeWithOtherRanksFinishesIt() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let iterations = 24
        func arguments(_ name: String) -> [String] {
            ["train"] + Self.task + ["--method", "es", "--iterations", "\(iterations)", "--eval-every", "4",
                                     "--checkpoint-every", "2", "--checkpoint", directory.appendingPathComponent(name).path]
        }
        let plain = try MPIRun.run(arguments("plain"), ranks: nil, threads: 2)
        #expect(plain.status == 0, "\(plain.standardError)")

        let killed = directory.appendingPathComponent("killed").path
        let marker = UUID().uuidString
        let job = try MPIRun.start(arguments("killed"), ranks: 2, marker: marker)
        // Kill rank 1 once rank 0 has checkpointed iteration 4.
        let deadline = Date().addingTimeInterval(120)
        while job.process.isRunning, Date() < deadline,
              !FileManager.default.fileExists(atPath: killed + "/checkpoint-00000004.json") { usleep(20_000) }
        let victim = try #require(MPIRun.pid(ofRank: 1, marker: marker), "rank 1 of the job was not found")
        kill(victim, SIGKILL)
        let ended = job.finish()
        #expect(ended.status != 0)
        #expect(ended.standardError.contains("rank 1"), "\(ended.standardError)")
        let newest = try #require(MPIRun.newestCheckpoint(in: killed))
        #expect(newest < iterations, "the job finished before the kill; the test did not test a fault")

        let resumed = try MPIRun.run(arguments("killed") + ["--resume"], ranks: 3, threads: 1)
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(resumed.standardError.contains("resuming from"))
        let dropped: Set = ["wall_s", "peak_bytes", "bytes_stored"]
        #expect(try MPIRun.columns(of: killed + "/curve.csv", dropping: dropped)
            == MPIRun.columns(of: directory.appendingPathComponent("plain/curve.csv").path, dropping: dropped))
        #expect(try MPIRun.newestCheckpointParameters(in: killed)
            == MPIRun.newestCheckpointParameters(in: directory.appendingPathComponent("plain").path))
    }
}

/// Running `neuroode` under Open MPI's `mpirun` from the tests.
enum MPIRun {
    /// `mpirun` on the PATH, or nil.
    static let launcher: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// mpirun's options: as many ranks as asked on one machine whatever its cores, no single-copy
    /// shared memory (refused in some containers), and root allowed (CI containers run as root).
    static func launcherArguments(ranks: Int) -> [String] {
        [launcher!, "--oversubscribe", "-np", "\(ranks)", "--mca", "btl_vader_single_copy_mechanism", "none"]
    }

    static let rootPermission = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"]

    /// `neuroode arguments…` with `threads` threads per process, under `mpirun -np ranks` or, for
    /// nil, as a plain process.
    static func run(_ arguments: [String], ranks: Int?, threads: Int) throws -> CommandLineTool.Result {
        try CommandLineTool.run(
            arguments, timeLimit: 300, launcher: ranks.map(launcherArguments) ?? [],
            environment: rootPermission.merging(["NEUROODE_THREADS": "\(threads)"]) { $1 })
    }

    /// A job started in the background, its output in files.
    struct Job {
        let process: Process
        let output: URL

        /// Waits for the job to end and returns its status and output.
        func finish() -> CommandLineTool.Result {
            process.waitUntilExit()
            defer { try? FileManager.default.removeItem(at: output) }
            func text(_ name: String) -> String {
                String(decoding: (try? Data(contentsOf: output.appendingPathComponent(name))) ?? Data(), as: UTF8.self)
            }
            return CommandLineTool.Result(status: process.terminationStatus, standardOutput: text("stdout"), standardError: text("stderr"))
        }
    }

    /// Starts `mpirun -np ranks neuroode arguments…` with `NEUROODE_MPI_TEST=marker` in every rank's
    /// environment, so its ranks can be found.
    static func start(_ arguments: [String], ranks: Int, marker: String) throws -> Job {
        let output = try CommandLineTool.temporaryDirectory()
        let out = output.appendingPathComponent("stdout"), err = output.appendingPathComponent("stderr")
        try Data().write(to: out)
        try Data().write(to: err)
        let process = Process()
        let launcher = launcherArguments(ranks: ranks)
        process.executableURL = URL(fileURLWithPath: launcher[0])
        process.arguments = launcher.dropFirst() + [try CommandLineTool.executable().path] + arguments
        process.environment = ProcessInfo.processInfo.environment
            .merging(rootPermission.merging(["NEUROODE_MPI_TEST": marker, "NEUROODE_THREADS": "1"]) { $1 }) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        return Job(process: process, output: output)
    }

    /// The process id of `rank` of the job started with `marker`, read from /proc.
    static func pid(ofRank rank: Int, marker: String) -> pid_t? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry),
                  let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
            let variables = Set(environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
            if variables.contains("NEUROODE_MPI_TEST=\(marker)"), variables.contains("OMPI_COMM_WORLD_RANK=\(rank)") {
                return pid
            }
        }
        return nil
    }

    /// summary.json as sorted-key JSON without the wall-clock and measured-memory fields.
    static func withoutMeasuredFields(_ data: Data) throws -> String {
        func strip(_ value: Any) -> Any {
            if let object = value as? [String: Any] {
                // The provenance holds each run's own command line (its --out, mpirun's rank count).
                return object.filter { !["wallSeconds", "secondsToTarget", "peakBytes", "bytesStored", "provenance"].contains($0.key) }
                    .mapValues(strip)
            }
            if let array = value as? [Any] { return array.map(strip) }
            return value
        }
        let stripped = strip(try JSONSerialization.jsonObject(with: data))
        return String(decoding: try JSONSerialization.data(withJSONObject: stripped, options: [.sortedKeys]), as: UTF8.self)
    }

    /// A CSV file's text without the named columns.
    static func columns(of path: String, dropping dropped: Set<String>) throws -> String {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let kept = header.indices.filter { !dropped.contains(header[$0]) }
        return lines.map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return kept.map { $0 < fields.count ? String(fields[$0]) : "" }.joined(separator: ",")
        }.joined(separator: "\n")
    }

    /// The iteration of the newest checkpoint file in `directory`.
    static func newestCheckpoint(in directory: String) -> Int? {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .compactMap { name -> Int? in
                guard name.hasPrefix("checkpoint-"), name.hasSuffix(".json") else { return nil }
                return Int(name.dropFirst("checkpoint-".count).dropLast(".json".count))
            }
            .max()
    }

    /// θ of the newest checkpoint in `directory` (a plain JSON document: `checksum` and `state`).
    static func newestCheckpointParameters(in directory: String) throws -> [Double] {
        let iteration = try #require(newestCheckpoint(in: directory), "no checkpoint in \(directory)")
        let path = directory + "/checkpoint-" + String(format: "%08d", iteration) + ".json"
        let contents = try Data(contentsOf: URL(fileURLWithPath: path))
        let document = try #require(try JSONSerialization.jsonObject(with: contents) as? [String: Any])
        let state = try #require(document["state"] as? [String: Any])
        return try #require(state["parameters"] as? [Double])
    }
}
