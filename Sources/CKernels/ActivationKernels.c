/* Activation functions of the neural ODEs' layers (NeuroODEKernels.h), vectorised per CPU level. */
#include "NeuroODEKernels.h"
#include "ExpFraction.h"

NK_CLONES
void nk_tanh_f64(const double *x, double *out, long count) {
    for (long j = 0; j < count; j++) {
        const double u0 = 2.0 * x[j];
        double n, even, odd, scale;
        exp_parts_f64(u0 < -40.0 ? -40.0 : (u0 > 40.0 ? 40.0 : u0), &n, &even, &odd, &scale);
        /* tanh x = (e^{2x} − 1)/(e^{2x} + 1) = (N − D)/(N + D); without scaling it is odd/even, which
         * keeps full relative accuracy near 0. */
        const double numerator = (even + odd) * scale, denominator = even - odd;
        const int unscaled = n == 0.0;
        out[j] = (unscaled ? odd : numerator - denominator) / (unscaled ? even : numerator + denominator);
    }
}
