import NeuroODECommandLine

// The `neuroode` executable: every command lives in the NeuroODECommandLine library.
await NeuroODECommand.runCommandLine()
