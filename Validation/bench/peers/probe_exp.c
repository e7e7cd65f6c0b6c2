/* Exponential throughput of one core: exp / expf over a 4096-element array, repeated, built with
 * -O3 -march=native -ffast-math so that GCC calls glibc's vector math library (libmvec) at the
 * widest SIMD width the CPU has. The best of five trials is reported, so a moment of scheduler
 * noise does not count. Prints one JSON object. Used by probe.py (README.md here). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define LEN 4096
#define TRIALS 5

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double x[LEN], y[LEN];
static float xf[LEN], yf[LEN];

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 4000;
  for (int i = 0; i < LEN; i++) { x[i] = -5.0 + 10.0 * i / LEN; xf[i] = (float)x[i]; }
  double sum = 0, best = 1e30, bestf = 1e30;
  for (int trial = 0; trial < TRIALS; trial++) {
    double t0 = now();
    for (long r = 0; r < rounds; r++) {
      for (int i = 0; i < LEN; i++) y[i] = exp(x[i]);
      sum += y[r % LEN];
    }
    double t1 = now();
    for (long r = 0; r < rounds; r++) {
      for (int i = 0; i < LEN; i++) yf[i] = expf(xf[i]);
      sum += yf[r % LEN];
    }
    double t2 = now();
    if (t1 - t0 < best) best = t1 - t0;
    if (t2 - t1 < bestf) bestf = t2 - t1;
  }
  printf("{\"expPerSecondF64\": %.6e, \"expPerSecondF32\": %.6e, \"checksum\": %.6e}\n",
         rounds * (double)LEN / best, rounds * (double)LEN / bestf, sum);
  return 0;
}
