// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "NeuroODE",
    products: [
        .library(name: "NeuroODE", targets: ["NeuroODE"]),
        .library(name: "Gradients", targets: ["Gradients"]),
        .library(name: "NeuroODEStudies", targets: ["NeuroODEStudies"]),
        .library(name: "NeuroODECommandLine", targets: ["NeuroODECommandLine"]),
        .executable(name: "neuroode", targets: ["neuroode"]),
        .executable(name: "custom-model", targets: ["custom-model"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation --target NeuroODE` (or Gradients, NeuroODEStudies) builds the DocC catalogs.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // SUNDIALS 6.4 (CVODES, serial N_Vector, dense matrix and solver) and CBLAS from OpenBLAS.
        // The module map links the libraries directly: Debian ships no pkg-config file for them.
        .systemLibrary(
            name: "CSundials",
            path: "Sources/CSundials",
            providers: [.apt(["libsundials-dev", "libopenblas-dev"])]
        ),
        // SIMD kernels of the network step, compiled per CPU level and chosen at load time (README
        // "Performance"): no unsafe flags, so the package stays usable as a dependency.
        .target(
            name: "CKernels",
            path: "Sources/CKernels"
        ),
        // Open MPI (Debian's libopenmpi-dev; pkg-config `ompi` gives its include directory, which
        // is not on the default path). shim.h names the handle macros Swift cannot import.
        .systemLibrary(
            name: "CMPI",
            path: "Sources/CMPI",
            pkgConfig: "ompi",
            providers: [.apt(["libopenmpi-dev"])]
        ),
        .target(
            name: "NeuroODE",
            dependencies: ["CSundials", "CKernels"],
            path: "Sources/NeuroODE"
        ),
        .target(
            name: "Gradients",
            dependencies: ["NeuroODE"],
            path: "Sources/Gradients"
        ),
        // The MPI communicator (README "Beyond one machine: MPI"). Always built: only the neuroode
        // executable depends on it, so a package that uses the NeuroODE, Gradients, NeuroODEStudies
        // or NeuroODECommandLine products never compiles it and needs no MPI.
        .target(
            name: "NeuroODEMPI",
            dependencies: ["CMPI", "Gradients"],
            path: "Sources/NeuroODEMPI"
        ),
        // The studies behind the `neuroode` commands: task and model catalogs with their
        // defaults, the registry, run configurations, drivers, reports and charts. No
        // ArgumentParser: a program that links it runs every study in-process.
        .target(
            name: "NeuroODEStudies",
            dependencies: ["NeuroODE", "Gradients"],
            path: "Sources/NeuroODEStudies"
        ),
        // The `neuroode` commands: they parse the options (ArgumentParser), build the studies'
        // values, call the library and print. A library, so a tool of one's own can register a
        // model with `StudyRegistry` and then run every command (`NeuroODECommand.runCommandLine()`).
        .target(
            name: "NeuroODECommandLine",
            dependencies: [
                "NeuroODE",
                "Gradients",
                "NeuroODEStudies",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/NeuroODECommandLine"
        ),
        .executableTarget(
            name: "neuroode",
            dependencies: ["NeuroODECommandLine", "NeuroODEMPI"],
            path: "Sources/Examples/neuroode"
        ),
        // A user-defined model (FitzHugh–Nagumo) fitted with ES and BPTT: the "Your own model" example.
        .executableTarget(
            name: "custom-model",
            dependencies: ["NeuroODE", "Gradients"],
            path: "Sources/Examples/custom-model"
        ),
        .testTarget(
            name: "NeuroODETests",
            dependencies: ["NeuroODE", "CKernels"],
            path: "Tests/NeuroODETests",
            resources: [.copy("References")]
        ),
        .testTarget(
            name: "GradientsTests",
            dependencies: ["Gradients", "NeuroODE"],
            path: "Tests/GradientsTests"
        ),
        // The studies in-process: catalogs, registry, configuration, reports; a registered model
        // run through the commands.
        .testTarget(
            name: "NeuroODEStudiesTests",
            dependencies: ["NeuroODEStudies", "NeuroODECommandLine", "Gradients", "NeuroODE"],
            path: "Tests/NeuroODEStudiesTests"
        ),
        // Runs the built `neuroode` executable as a user would; depends on no package target.
        .testTarget(
            name: "CLITests",
            path: "Tests/CLITests",
            resources: [.copy("References")]
        ),
    ]
)
