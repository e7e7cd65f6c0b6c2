/* Exponential throughput of one core: exp / expf over a 4096-element array, repeated, built with
 * -O3 -march=native -ffast-math so that GCC calls glibc's vector math library (libmvec) at the
 * widest SIMD width the CPU has. Prints one JSON object. Used by probe.py (README.md here). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define LEN 4096

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 20000;
  static double x[LEN], y[LEN];
  static float xf[LEN], yf[LEN];
  for (int i = 0; i < LEN; i++) { x[i] = -5.0 + 10.0 * i / LEN; xf[i] = (float)x[i]; }
  double sum = 0, sumf = 0;
  double t0 = now();
  for (long r = 0; r < rounds; r++) {
    for (int i = 0; i < LEN; i++) y[i] = exp(x[i]);
    sum += y[r % LEN];
  }
  double t1 = now();
  for (long r = 0; r < rounds; r++) {
    for (int i = 0; i < LEN; i++) yf[i] = expf(xf[i]);
    sumf += yf[r % LEN];
  }
  double t2 = now();
  printf("{\"expPerSecondF64\": %.6e, \"expPerSecondF32\": %.6e, \"checksum\": %.6e}\n",
         rounds * (double)LEN / (t1 - t0), rounds * (double)LEN / (t2 - t1), sum + sumf);
  return 0;
}
