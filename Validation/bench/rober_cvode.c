/* ROBER to t = 4e10 with CVODES 6.4 in plain C: the baseline for `neuroode bench rober`.
 *
 * Same problem and settings as the Swift benchmark: BDF, dense Newton with the analytic
 * Jacobian, rtol 1e-6, scalar atol 1e-10, one-step mode with the stop time at 4e10 (so the
 * per-step control flow matches NeuroODE's driver), first call aimed at 4e10 as there is no
 * output time. Each repetition builds and frees the whole solver, as a NeuroODE solve does.
 *
 * Build and run: Validation/bench/run_rober_cvode.sh [repetitions]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cvodes/cvodes.h>
#include <nvector/nvector_serial.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_dense.h>

#define K1 0.04
#define K2 3.0e7
#define K3 1.0e4
#define T_END 4.0e10

static int rhs(realtype t, N_Vector y, N_Vector ydot, void *user_data) {
  const double *x = NV_DATA_S(y);
  double *d = NV_DATA_S(ydot);
  double dy1 = -K1 * x[0] + K3 * x[1] * x[2];
  double dy3 = K2 * x[1] * x[1];
  d[0] = dy1;
  d[1] = -(dy1 + dy3);
  d[2] = dy3;
  return 0;
}

static int jac(realtype t, N_Vector y, N_Vector fy, SUNMatrix J, void *user_data,
               N_Vector t1, N_Vector t2, N_Vector t3) {
  const double *x = NV_DATA_S(y);
  double *a = SM_DATA_D(J); /* column-major */
  a[0] = -K1; a[1] = K1; a[2] = 0;
  a[3] = K3 * x[2]; a[4] = -2 * K2 * x[1] - K3 * x[2]; a[5] = 2 * K2 * x[1];
  a[6] = K3 * x[1]; a[7] = -K3 * x[1]; a[8] = 0;
  return 0;
}

static void die(const char *what, int flag) {
  fprintf(stderr, "%s failed with %d\n", what, flag);
  exit(1);
}

typedef struct { long steps, rejected, rhs, jac, nni, ncf, setups; double y[3]; } Result;

static Result solve(void) {
  SUNContext ctx;
  if (SUNContext_Create(NULL, &ctx)) die("SUNContext_Create", -1);
  N_Vector y = N_VNew_Serial(3, ctx);
  NV_Ith_S(y, 0) = 1; NV_Ith_S(y, 1) = 0; NV_Ith_S(y, 2) = 0;
  void *mem = CVodeCreate(CV_BDF, ctx);
  int flag;
  if ((flag = CVodeInit(mem, rhs, 0.0, y))) die("CVodeInit", flag);
  if ((flag = CVodeSStolerances(mem, 1e-6, 1e-10))) die("CVodeSStolerances", flag);
  SUNMatrix A = SUNDenseMatrix(3, 3, ctx);
  SUNLinearSolver LS = SUNLinSol_Dense(y, A, ctx);
  if ((flag = CVodeSetLinearSolver(mem, LS, A))) die("CVodeSetLinearSolver", flag);
  if ((flag = CVodeSetJacFn(mem, jac))) die("CVodeSetJacFn", flag);
  if ((flag = CVodeSetMaxNumSteps(mem, 1000000))) die("CVodeSetMaxNumSteps", flag);
  if ((flag = CVodeSetStopTime(mem, T_END))) die("CVodeSetStopTime", flag);
  double t = 0;
  for (;;) {
    flag = CVode(mem, T_END, y, &t, CV_ONE_STEP);
    if (flag < 0) die("CVode", flag);
    if (flag == CV_TSTOP_RETURN) break;
  }
  Result r;
  CVodeGetNumSteps(mem, &r.steps);
  CVodeGetNumErrTestFails(mem, &r.rejected);
  CVodeGetNumRhsEvals(mem, &r.rhs);
  CVodeGetNumJacEvals(mem, &r.jac);
  CVodeGetNumNonlinSolvIters(mem, &r.nni);
  CVodeGetNumNonlinSolvConvFails(mem, &r.ncf);
  CVodeGetNumLinSolvSetups(mem, &r.setups);
  for (int i = 0; i < 3; i++) r.y[i] = NV_Ith_S(y, i);
  CVodeFree(&mem);
  SUNLinSolFree(LS);
  SUNMatDestroy(A);
  N_VDestroy(y);
  SUNContext_Free(&ctx);
  return r;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int repetitions = argc > 1 ? atoi(argv[1]) : 200;
  if (repetitions < 1) repetitions = 1;
  double *ms = malloc(sizeof(double) * repetitions);
  Result r = solve(); /* warm-up */
  for (int i = 0; i < repetitions; i++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    r = solve();
    clock_gettime(CLOCK_MONOTONIC, &b);
    ms[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) * 1e-6;
  }
  qsort(ms, repetitions, sizeof(double), compare);
  printf("ROBER to t = 4e10, CVODE BDF (C), rtol 1e-6, atol 1e-10, %d solves\n", repetitions);
  printf("median %.4f ms per solve (min %.4f, max %.4f)\n", ms[repetitions / 2], ms[0], ms[repetitions - 1]);
  printf("steps %ld, rejected %ld, rhs %ld, jacobians %ld, nonlinear iterations %ld, "
         "convergence failures %ld, linear setups %ld\n",
         r.steps, r.rejected, r.rhs, r.jac, r.nni, r.ncf, r.setups);
  printf("y(4e10) = %.10e %.10e %.10e\n", r.y[0], r.y[1], r.y[2]);
  free(ms);
  return 0;
}
