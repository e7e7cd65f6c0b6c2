import ArgumentParser
import Foundation
import Gradients
import NeuroODE
import NeuroODEStudies

/// `neuroode`: the root command. The `neuroode` executable calls ``runCommandLine()``; so does a tool of
/// one's own that registers its models with `StudyRegistry` first (NeuroODEStudies article
/// "Registering your model with every command").
public struct NeuroODECommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "neuroode",
        abstract: "Simulate and train ODE models, from biophysical neurons to neural ODEs.",
        version: NeuroODEVersion.string,
        subcommands: Subcommands.all
    )

    /// Parses and runs a subcommand, reporting every failure as one line on standard error.
    ///
    /// ArgumentParser's own `main` prints usage blocks after errors and lets a caller see only the
    /// first line of a multi-line message; scripts that run many simulations want exactly one
    /// line that names the bad value, and a non-zero status.
    ///
    /// `processGroup` starts the communicator the methods share their work through; the `neuroode`
    /// executable passes MPI's (README "Beyond one machine: MPI"), which is a single process unless
    /// the program runs under `mpirun`. This library itself needs no MPI.
    public static func runCommandLine(processGroup: () throws -> any Communicator = { SingleProcess() }) async {
        // A closed pipe is reported as a failed write (OutputFile), not a silent death by signal.
        signal(SIGPIPE, SIG_IGN)
        startProcessGroup(processGroup)
        let arguments: [String], configFile: ConfigurationFile?
        do {
            (arguments, configFile) = try ArgumentPipeline.prepare(Array(CommandLine.arguments.dropFirst()))
        } catch {
            report(error)
        }
        Provenance.recordInvocation(commandLine: CommandLine.arguments, arguments: arguments)
        do {
            var command: ParsableCommand
            do {
                command = try parseAsRoot(arguments)
            } catch where exitCode(for: error) != .success {
                // An unknown or malformed option that came from the file: name the key and the file.
                let message = Self.message(for: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
                guard let file = configFile, let reason = file.reason(forParsingError: message) else { throw error }
                throw CommandLineError.invalidValue(option: "--config", value: file.path, reason: reason)
            }
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            report(error)
        }
    }

    public init() {}

    /// Installs the communicator as the library's ``ProcessGroup/world``, so every method built
    /// later shares its work among the ranks, and lets rank 0 alone print: the other ranks'
    /// standard output and error go to /dev/null (their files and checkpoints are gated in the
    /// library), their errors excepted. A single process is left exactly as it was.
    private static func startProcessGroup(_ start: () throws -> any Communicator) {
        let world: any Communicator
        do {
            world = try start()
        } catch {
            report(error)
        }
        ProcessGroup.world = world
        guard !world.writesOutput else { return }
        savedStandardError = dup(STDERR_FILENO)
        let null = open("/dev/null", O_WRONLY)
        dup2(null, STDOUT_FILENO)
        dup2(null, STDERR_FILENO)
        close(null)
    }

    /// A silenced rank's own standard error, for its error line.
    nonisolated(unsafe) private static var savedStandardError: Int32 = -1

    /// Prints one error line (prefixed with the rank on ranks other than 0) and exits with its status;
    /// in a job of several ranks, MPI_Abort ends them all with that status.
    private static func report(_ error: any Error) -> Never {
        let message: String
        let code: Int32
        switch error {
        case let error as ODEError:
            message = CommandLineError.describe(error)
            code = ExitCode.failure.rawValue
        case let error as CommandLineError:
            message = error.description
            code = ExitCode.validationFailure.rawValue
        case let error as TrainingError:
            // A method option the library refused is a command-line mistake; the rest are failures.
            if case let .invalidOption(name, _, _) = error {
                message = "--\(name): \(error)"
                code = ExitCode.validationFailure.rawValue
            } else {
                message = error.description
                code = ExitCode.failure.rawValue
            }
        case let error as CommandInterrupted:
            message = error.description
            code = error.exitStatus
        case let error as TrainerError:
            message = error.description
            code = ExitCode.failure.rawValue
        case let error as GradientFailure:
            message = error.description
            code = ExitCode.failure.rawValue
        default:
            // Help, version and clean exits keep ArgumentParser's full output and status.
            guard exitCode(for: error) != .success else { exit(withError: error) }
            message = Self.message(for: error)
            code = exitCode(for: error).rawValue
        }
        let line = message.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
        let world = ProcessGroup.world
        if savedStandardError >= 0 { dup2(savedStandardError, STDERR_FILENO) }
        let origin = world.size > 1 ? "rank \(world.rank): " : ""
        FileHandle.standardError.write(Data("\(origin)error: \(line)\n".utf8))
        if world.size > 1 { world.abort(code: code, message: "rank \(world.rank) ends the MPI job (status \(code))") }
        Foundation.exit(code)
    }
}
