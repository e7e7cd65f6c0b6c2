/*
 * Internal to CKernels: the exponential every kernel builds on, and the per-CPU cloning they share.
 *
 * e^x is returned as a fraction N/D so that callers fold the division into their own: Cody–Waite
 * reduction x = n ln 2 + r with |r| ≤ ln 2/2, a Padé approximant P(r)/P(−r), and 2ⁿ assembled in the
 * exponent bits and folded into N. Floating-point contraction is off, so every clone performs the
 * same IEEE operations (README "Performance").
 */
#ifndef NEUROODE_EXP_FRACTION_H
#define NEUROODE_EXP_FRACTION_H

#include <stdint.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__) && defined(__clang__)
#define NK_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NK_CLONES
#endif
#define NK_INLINE static inline __attribute__((always_inline))

/* float64: x clamped to [−708, 709]; [6/6] Padé, relative error below 3e−16. */
/* The float64 reduction alone, for callers that treat the unscaled case (n = 0) apart: e^x ≈
 * 2ⁿ·(even + odd)/(even − odd), with x clamped by the caller. */
NK_INLINE void exp_parts_f64(double x, double *n, double *even, double *odd, double *scale) {
    const double shifter = 6755399441055744.0; /* 1.5·2⁵²: adding it rounds to an integer */
    const double t = x * 1.4426950408889634 + shifter;
    *n = t - shifter;
    const double r = (x - *n * 0.69314718036912381649) - *n * 1.9082149292705877e-10;
    const double r2 = r * r;
    *even = ((r2 * (1.0 / 665280.0) + 1.0 / 792.0) * r2 + 5.0 / 44.0) * r2 + 1.0;
    *odd = ((r2 * (1.0 / 15840.0) + 1.0 / 66.0) * r2 + 0.5) * r;
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023u) << 52;
    memcpy(scale, &bits, sizeof *scale);
}

NK_INLINE void exp_fraction_f64(double x, double *numerator, double *denominator) {
    double n, even, odd, scale;
    exp_parts_f64(x < -708.0 ? -708.0 : (x > 709.0 ? 709.0 : x), &n, &even, &odd, &scale);
    *numerator = (even + odd) * scale;
    *denominator = even - odd;
}

/* float32: x clamped to [−87, 88]; [3/3] Padé, truncation below 1e−8 relative on |r| ≤ ln2/2. */
NK_INLINE void exp_fraction_f32(float x, float *numerator, float *denominator) {
    const float xc = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    const float shifter = 12582912.0f; /* 1.5·2²³ */
    const float t = xc * 1.44269504f + shifter;
    const float n = t - shifter;
    const float r = (xc - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
    const float r2 = r * r;
    const float even = r2 * (1.0f / 10.0f) + 1.0f;
    const float odd = (r2 * (1.0f / 120.0f) + 0.5f) * r;
    uint32_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    *numerator = (even + odd) * scale;
    *denominator = even - odd;
}

#endif
