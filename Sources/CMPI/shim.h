// Open MPI for Swift: its handles (MPI_COMM_WORLD, MPI_DOUBLE, MPI_UINT8_T, ...) are macros that
// expand to casts of addresses of library globals, which Swift cannot import, so these inline
// functions name them. Every function works on MPI_COMM_WORLD and returns MPI's error code
// (MPI_SUCCESS = 0); the default error handler (MPI_ERRORS_ARE_FATAL) ends the job on a failure.
#ifndef NEUROODE_CMPI_SHIM_H
#define NEUROODE_CMPI_SHIM_H

#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>

static inline void cmpi_finalize_at_exit(void) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
}

/// Initialises MPI for calls from one thread at a time (MPI_THREAD_SERIALIZED) and registers
/// MPI_Finalize to run at exit. `provided` receives the level the library granted.
static inline int cmpi_init(int *provided) {
    int status = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
    if (status == MPI_SUCCESS) atexit(cmpi_finalize_at_exit);
    return status;
}

/// Whether the granted thread level allows calls from any one thread at a time.
static inline int cmpi_serialized_supported(int provided) { return provided >= MPI_THREAD_SERIALIZED; }

static inline int cmpi_rank(int *rank) { return MPI_Comm_rank(MPI_COMM_WORLD, rank); }

static inline int cmpi_size(int *size) { return MPI_Comm_size(MPI_COMM_WORLD, size); }

/// Gathers `count` doubles from every rank into `received` (size × count), in rank order.
static inline int cmpi_allgather_double(const double *local, int count, double *received) {
    return MPI_Allgather(local, count, MPI_DOUBLE, received, count, MPI_DOUBLE, MPI_COMM_WORLD);
}

/// Gathers `count` bytes from every rank into `received` (size × count), in rank order.
static inline int cmpi_allgather_uint8(const uint8_t *local, int count, uint8_t *received) {
    return MPI_Allgather(local, count, MPI_UINT8_T, received, count, MPI_UINT8_T, MPI_COMM_WORLD);
}

static inline int cmpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

static inline int cmpi_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }

#endif
