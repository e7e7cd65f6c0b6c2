/* Activation functions of the neural ODEs' layers (NeuroODEKernels.h), vectorised per CPU level. */
#include "NeuroODEKernels.h"
#include <stdint.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__) && defined(__clang__)
#define NK_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NK_CLONES
#endif

NK_CLONES
void nk_tanh_f64(const double *x, double *out, long count) {
    for (long j = 0; j < count; j++) {
        const double u0 = 2.0 * x[j];
        const double u = u0 < -40.0 ? -40.0 : (u0 > 40.0 ? 40.0 : u0);
        /* Cody–Waite reduction u = n ln 2 + r and the [6/6] Padé approximant of e^r, as in
         * MorrisLecarKernels.c; the shifter rounds u·log2(e) to the integer n. */
        const double shifter = 6755399441055744.0;
        const double t = u * 1.4426950408889634 + shifter;
        const double n = t - shifter;
        const double r = (u - n * 0.69314718036912381649) - n * 1.9082149292705877e-10;
        const double r2 = r * r;
        const double even = ((r2 * (1.0 / 665280.0) + 1.0 / 792.0) * r2 + 5.0 / 44.0) * r2 + 1.0;
        const double odd = ((r2 * (1.0 / 15840.0) + 1.0 / 66.0) * r2 + 0.5) * r;
        uint64_t bits;
        memcpy(&bits, &t, sizeof bits);
        bits = (bits + 1023u) << 52;
        double scale;
        memcpy(&scale, &bits, sizeof scale);
        const double numerator = (even + odd) * scale, denominator = even - odd;
        const int unscaled = n == 0.0;
        out[j] = (unscaled ? odd : numerator - denominator) / (unscaled ? even : numerator + denominator);
    }
}
