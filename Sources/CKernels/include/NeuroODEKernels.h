#ifndef NEUROODE_KERNELS_H
#define NEUROODE_KERNELS_H

/*
 * Element-wise kernels of the Morris–Lecar network's leapfrog step, in float64 and float32.
 *
 * Every function is compiled three times (x86-64-v4: AVX-512; x86-64-v3: AVX2; baseline SSE2) and
 * the loader picks the widest the CPU supports (GNU ifunc through clang's target_clones), so the
 * package needs no unsafe flags and stays usable as a dependency. Floating-point contraction is
 * off: each clone performs the same IEEE operations in the same order, so the float64 kernels
 * return bit-identical results on every x86-64 and ARM machine, and equal the Swift reference
 * loops they replace (README, "Performance").
 */

#include <stddef.h>

/** The Morris–Lecar constants a network's kinetics read (units as in MorrisLecar: mV, ms, µF/cm², mS/cm²). */
typedef struct {
    double inverseCapacitance, gL, gCa, gK, vCa, vK, leakDrive;
    double v1, minusTwoOverV2, v3, halfOverV4, phi, inversePhi;
} nk_ml_constants;

/* T(V) = 1/(1 + exp(−(V − threshold)·inverseSlope)) for `count` voltages. */
void nk_logistic_f64(const double *v, double *out, long count, double threshold, double minusInverseSlope);

/* w∞(V) and τ(V) = 1/(φ cosh((V − V3)/(2V4))) for `count` voltages. */
void nk_ml_gate_kinetics_f64(const double *v, double *steadyState, double *timeConstant, long count, const nk_ml_constants *k);
void nk_ml_gate_kinetics_f32(const float *v, float *steadyState, float *timeConstant, long count, const nk_ml_constants *k);

/*
 * Membrane coefficients of `neurons` × `batch` compartments (neuron-major): G = gL + gCa·m∞(V) + gK·w
 * and E = constant_i + E + gCa·m∞(V)·VCa + gK·w·VK, where E enters holding the synaptic current and
 * constant_i (one per neuron) holds I_bias + gain·bias_i + gL·VL.
 */
void nk_ml_membrane_f64(const double *v, const double *w, double *conductance, double *drive,
                        long neurons, long batch, const double *constant, const nk_ml_constants *k);

/*
 * The continuous right-hand side of `neurons` × `batch` compartments (for dopri5 and CVODE):
 * dV/dt = (constant_i + S + gCa·m∞(V)(VCa − V)… written as (E − G·V)/C, with `voltageDerivative`
 * entering holding the synaptic current S, and dw/dt = φ cosh z (w∞ − w).
 */
void nk_ml_right_hand_side_f64(const double *v, const double *w, double *voltageDerivative, double *gateDerivative,
                               long neurons, long batch, const double *constant, const nk_ml_constants *k);

/*
 * Pullbacks of the float64 kernels, for BPTT through the network (MorrisLecarNetwork+Pullbacks.swift):
 * voltageCotangent += x̄∞·dw∞/dV + τ̄·dτ/dV (zero where the exponent is clamped).
 */
void nk_ml_gate_kinetics_pullback_f64(const double *v, const double *steadyStateCotangent, const double *timeConstantCotangent,
                                      double *voltageCotangent, long count, const nk_ml_constants *k);

/*
 * The membrane coefficients' element-wise pullback: with Ḡ, Ē and R = W_recᵀĒ given, writes T(V) into
 * `synapse` and adds V̄ += gCa(Ḡ + Ē·VCa)·m∞′(V) + gain·R·T′(V) and w̄ += gK(Ḡ + Ē·VK).
 */
void nk_ml_membrane_pullback_f64(const double *v, const double *conductanceCotangent, const double *driveCotangent,
                                 const double *recurrentCotangent, double *synapse, double *voltageCotangent,
                                 double *gateCotangent, long count, double gain, double threshold, double slope,
                                 const nk_ml_constants *k);

/* One float32 leapfrog gate half-step with V frozen: x ← (x∞·h + (τ − h/2)·x)/(τ + h/2). */
void nk_ml_gate_step_f32(const float *v, float *gates, long count, float h, const nk_ml_constants *k);

/*
 * The float32 leapfrog's instantaneous voltage V_mid = V + slope·(V − V_last) (slope 0 on the first
 * step), V_last ← V, and the synaptic output T(V_mid), for `count` compartments.
 */
void nk_ml_midpoint_f32(const float *v, float *lastV, float *midV, float *synapse, long count,
                        float slope, float threshold, float minusInverseSlope);

/*
 * One float32 leapfrog voltage step over `neurons` × `batch` compartments: G, E as in nk_ml_membrane
 * at V_mid with `drive` holding the synaptic current, then V ← (V(C − hG/2) + hE)/(C + hG/2).
 * Returns non-zero if any new voltage is NaN or infinite.
 */
int nk_ml_voltage_step_f32(float *v, const float *midV, const float *gates, const float *drive,
                           long neurons, long batch, const float *constant, float h, float capacitance,
                           const nk_ml_constants *k);

/*
 * tanh for `count` values, in place allowed (out == x). From e^{2x} = N/D as (N − D)/(N + D), and as
 * odd/even of the Padé approximant when the reduced argument needs no scaling (|2x| < ln 2/2), which
 * keeps full relative accuracy near 0; |2x| is clamped at 40, where tanh is ±1 in float64.
 * Relative error below 1e−15 (Tests: NeuralODE tanh against libm).
 */
void nk_tanh_f64(const double *x, double *out, long count);

#endif
