import NeuroODECommandLine
import NeuroODEMPI

// The `neuroode` executable: every command lives in the NeuroODECommandLine library; under `mpirun`
// its methods share their work among the ranks (README "Beyond one machine: MPI").
await NeuroODECommand.runCommandLine(processGroup: { try MPICommunicator.start() })
