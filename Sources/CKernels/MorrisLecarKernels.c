/*
 * The Morris–Lecar network's element-wise kernels (NeuroODEKernels.h); the rate functions are
 * written with one exponential each (MorrisLecarNetwork.swift, NetworkKinetics). See README
 * "Performance" for what each CPU level's clone gives.
 */
#include "NeuroODEKernels.h"
#include "ExpFraction.h"

/* 1/(1 + e^{−y}) from e^{−y} = N/D. */
NK_INLINE double logistic_minus_f64(double y) {
    double n, d;
    exp_fraction_f64(y, &n, &d);
    return d / (d + n);
}
NK_INLINE float logistic_minus_f32(float y) {
    float n, d;
    exp_fraction_f32(y, &n, &d);
    return d / (d + n);
}

/* u = e^z = N/D for the gate, z = (V − V3)/(2V4) clamped to ±50 (tanh 2z is ±1 to double precision
 * beyond, and N⁶ cannot overflow). */
NK_INLINE void gate_exponential_f64(double v, const nk_ml_constants *c, double *n, double *d) {
    const double z = (v - c->v3) * c->halfOverV4;
    exp_fraction_f64(z < -50.0 ? -50.0 : (z > 50.0 ? 50.0 : z), n, d);
}

/* w∞ and τ from u = e^z = N/D, z = (V − V3)/(2V4) clamped (±50 in float64, ±9 in float32, where
 * tanh 2z is ±1 to the precision): w∞ = N⁴/(D⁴ + N⁴), τ = 2ND/(φ(D² + N²)). */
NK_INLINE void gate_kinetics_f64(double v, const nk_ml_constants *k, double *wInf, double *tau) {
    double n, d;
    gate_exponential_f64(v, k, &n, &d);
    const double n2 = n * n, d2 = d * d;
    const double n4 = n2 * n2;
    const double a = d2 * d2 + n4, b = d2 + n2;
    const double q = 1.0 / (a * b);
    *wInf = n4 * b * q;
    *tau = 2.0 * n * d * a * q * k->inversePhi;
}
NK_INLINE void gate_kinetics_f32(float v, const nk_ml_constants *k, float *wInf, float *tau) {
    const float z0 = (v - (float)k->v3) * (float)k->halfOverV4;
    float n, d;
    exp_fraction_f32(z0 < -9.0f ? -9.0f : (z0 > 9.0f ? 9.0f : z0), &n, &d);
    const float n2 = n * n, d2 = d * d;
    const float n4 = n2 * n2;
    const float a = d2 * d2 + n4, b = d2 + n2;
    const float q = 1.0f / (a * b);
    *wInf = n4 * b * q;
    *tau = 2.0f * n * d * a * q * (float)k->inversePhi;
}

/* ---------------------------------------------- float64 ---------------------------------------------- */

NK_CLONES
void nk_logistic_f64(const double *restrict v, double *restrict out, long count, double threshold, double minusInverseSlope) {
    for (long j = 0; j < count; j++) out[j] = logistic_minus_f64((v[j] - threshold) * minusInverseSlope);
}

NK_CLONES
void nk_ml_gate_kinetics_f64(const double *restrict v, double *restrict steadyState, double *restrict timeConstant,
                             long count, const nk_ml_constants *k) {
    const nk_ml_constants c = *k;
    for (long j = 0; j < count; j++) gate_kinetics_f64(v[j], &c, steadyState + j, timeConstant + j);
}

NK_CLONES
void nk_ml_membrane_f64(const double *restrict v, const double *restrict w, double *restrict conductance,
                        double *restrict drive, long neurons, long batch, const double *restrict constant,
                        const nk_ml_constants *k) {
    const nk_ml_constants c = *k;
    for (long i = 0; i < neurons; i++) {
        const double base = constant[i];
        const long row = i * batch;
        for (long j = row; j < row + batch; j++) {
            const double gCa = c.gCa * logistic_minus_f64((v[j] - c.v1) * c.minusTwoOverV2), gK = c.gK * w[j];
            conductance[j] = c.gL + gCa + gK;
            drive[j] = base + drive[j] + gCa * c.vCa + gK * c.vK;
        }
    }
}

NK_CLONES
void nk_ml_right_hand_side_f64(const double *restrict v, const double *restrict w, double *restrict voltageDerivative,
                               double *restrict gateDerivative, long neurons, long batch, const double *restrict constant,
                               const nk_ml_constants *k) {
    const nk_ml_constants c = *k;
    for (long i = 0; i < neurons; i++) {
        const double base = constant[i];
        const long row = i * batch;
        for (long j = row; j < row + batch; j++) {
            const double vj = v[j], wj = w[j];
            const double gCa = c.gCa * logistic_minus_f64((vj - c.v1) * c.minusTwoOverV2), gK = c.gK * wj;
            const double g = c.gL + gCa + gK;
            const double e = base + voltageDerivative[j] + gCa * c.vCa + gK * c.vK;
            voltageDerivative[j] = (e - g * vj) * c.inverseCapacitance;
            /* φ cosh z (w∞ − w) with cosh z = (N² + D²)/(2ND) and w∞ = N⁴/(D⁴ + N⁴), over one division. */
            double n, d;
            gate_exponential_f64(vj, &c, &n, &d);
            const double n2 = n * n, d2 = d * d;
            const double n4 = n2 * n2;
            const double a = d2 * d2 + n4, twoND = 2.0 * n * d;
            const double q = 1.0 / (a * twoND);
            const double wInf = n4 * twoND * q;
            const double coshZ = (n2 + d2) * a * q;
            gateDerivative[j] = c.phi * coshZ * (wInf - wj);
        }
    }
}

NK_CLONES
void nk_ml_gate_kinetics_pullback_f64(const double *restrict v, const double *restrict steadyStateCotangent,
                                      const double *restrict timeConstantCotangent, double *restrict voltageCotangent,
                                      long count, const nk_ml_constants *k) {
    const nk_ml_constants c = *k;
    for (long j = 0; j < count; j++) {
        /* dw∞/dz = 4N⁴D⁴/a², dτ/dz = 2ND(D² − N²)/(φb²), a = D⁴ + N⁴, b = D² + N², over one division. */
        const double z = (v[j] - c.v3) * c.halfOverV4;
        const double inside = z > -50.0 && z < 50.0 ? 1.0 : 0.0;
        double n, d;
        gate_exponential_f64(v[j], &c, &n, &d);
        const double n2 = n * n, d2 = d * d;
        const double n4 = n2 * n2, d4 = d2 * d2;
        const double a = d4 + n4, b = d2 + n2;
        const double q = 1.0 / (a * b);
        const double bq = b * q, aq = a * q;
        const double wInfSlope = 4.0 * n4 * d4 * bq * bq;
        const double tauSlope = 2.0 * n * d * (d2 - n2) * aq * aq * c.inversePhi;
        voltageCotangent[j] += inside * c.halfOverV4 * (steadyStateCotangent[j] * wInfSlope + timeConstantCotangent[j] * tauSlope);
    }
}

NK_CLONES
void nk_ml_membrane_pullback_f64(const double *restrict v, const double *restrict conductanceCotangent,
                                 const double *restrict driveCotangent, const double *restrict recurrentCotangent,
                                 double *restrict synapse, double *restrict voltageCotangent, double *restrict gateCotangent,
                                 long count, double gain, double threshold, double slope, const nk_ml_constants *k) {
    const nk_ml_constants c = *k;
    const double minusInverseSlope = -1.0 / slope, inverseSlope = 1.0 / slope, twoOverV2 = -c.minusTwoOverV2;
    for (long j = 0; j < count; j++) {
        const double vj = v[j];
        /* T = D/(D + N) and T′ = DN/(D + N)²/K_p from e^{−(V − V_T)/K_p} = N/D; m∞′ likewise. */
        double tn, td;
        exp_fraction_f64((vj - threshold) * minusInverseSlope, &tn, &td);
        const double ts = 1.0 / (td + tn);
        const double tValue = td * ts;
        const double tSlope = td * tn * ts * ts * inverseSlope;
        synapse[j] = tValue;
        double mn, md;
        exp_fraction_f64((vj - c.v1) * c.minusTwoOverV2, &mn, &md);
        const double ms = 1.0 / (md + mn);
        const double mSlope = md * mn * ms * ms * twoOverV2;
        const double g = conductanceCotangent[j], e = driveCotangent[j];
        voltageCotangent[j] += c.gCa * (g + e * c.vCa) * mSlope + gain * recurrentCotangent[j] * tSlope;
        gateCotangent[j] += c.gK * (g + e * c.vK);
    }
}

/* ---------------------------------------------- float32 ---------------------------------------------- */

NK_CLONES
void nk_ml_gate_kinetics_f32(const float *restrict v, float *restrict steadyState, float *restrict timeConstant,
                             long count, const nk_ml_constants *k) {
    const nk_ml_constants c = *k;
    for (long j = 0; j < count; j++) gate_kinetics_f32(v[j], &c, steadyState + j, timeConstant + j);
}

NK_CLONES
void nk_ml_gate_step_f32(const float *restrict v, float *restrict gates, long count, float h, const nk_ml_constants *k) {
    const nk_ml_constants c = *k;
    const float half = 0.5f * h;
    for (long j = 0; j < count; j++) {
        float wInf, tau;
        gate_kinetics_f32(v[j], &c, &wInf, &tau);
        gates[j] = (wInf * h + (tau - half) * gates[j]) / (tau + half);
    }
}

NK_CLONES
void nk_ml_midpoint_f32(const float *restrict v, float *restrict lastV, float *restrict midV, float *restrict synapse,
                        long count, float slope, float threshold, float minusInverseSlope) {
    for (long j = 0; j < count; j++) {
        const float mid = v[j] + slope * (v[j] - lastV[j]);
        lastV[j] = v[j];
        midV[j] = mid;
        synapse[j] = logistic_minus_f32((mid - threshold) * minusInverseSlope);
    }
}

NK_CLONES
int nk_ml_voltage_step_f32(float *restrict v, const float *restrict midV, const float *restrict gates,
                           const float *restrict drive, long neurons, long batch, const float *restrict constant,
                           float h, float capacitance, const nk_ml_constants *k) {
    const float gL = (float)k->gL, gCaMax = (float)k->gCa, gKMax = (float)k->gK, vCa = (float)k->vCa, vK = (float)k->vK;
    const float v1 = (float)k->v1, m2v2 = (float)k->minusTwoOverV2, half = 0.5f * h;
    uint32_t flags = 0;
    for (long i = 0; i < neurons; i++) {
        const float base = constant[i];
        const long row = i * batch;
        for (long j = row; j < row + batch; j++) {
            const float gCa = gCaMax * logistic_minus_f32((midV[j] - v1) * m2v2), gK = gKMax * gates[j];
            const float g = gL + gCa + gK;
            const float e = base + drive[j] + gCa * vCa + gK * vK;
            const float updated = (v[j] * (capacitance - half * g) + h * e) / (capacitance + half * g);
            v[j] = updated;
            uint32_t bits;
            memcpy(&bits, &updated, sizeof bits);
            /* The exponent field all ones (NaN, ±∞) carries into bit 31 when one is added to it. */
            flags |= (bits & 0x7F800000u) + 0x00800000u;
        }
    }
    return (int)(flags >> 31);
}

