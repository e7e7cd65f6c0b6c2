#ifndef NEUROODE_CSUNDIALS_SHIM_H
#define NEUROODE_CSUNDIALS_SHIM_H

#include <cvodes/cvodes.h>
#include <nvector/nvector_serial.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sundials/sundials_types.h>
#include <cblas.h>

/* Swift cannot import function-like macros; these inline helpers stand in for the ones we need. */

/** NV_DATA_S: the contiguous data of a serial N_Vector. */
static inline double *nde_nvector_data(N_Vector v) { return NV_DATA_S(v); }

/** NV_LENGTH_S: the length of a serial N_Vector. */
static inline long nde_nvector_length(N_Vector v) { return (long)NV_LENGTH_S(v); }

/** SM_DATA_D: the column-major data of a dense SUNMatrix. */
static inline double *nde_dense_data(SUNMatrix a) { return SM_DATA_D(a); }

/** SM_ROWS_D / SM_COLUMNS_D. */
static inline long nde_dense_rows(SUNMatrix a) { return (long)SM_ROWS_D(a); }
static inline long nde_dense_columns(SUNMatrix a) { return (long)SM_COLUMNS_D(a); }

/** Keep OpenBLAS single-threaded: NeuroODE parallelises over independent samples itself. */
void openblas_set_num_threads(int num_threads);

#endif
