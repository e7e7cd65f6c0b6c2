import Foundation

/// The eigendecomposition A = B·diag(λ)·Bᵀ of a real symmetric matrix by the cyclic Jacobi method
/// (Golub & Van Loan, *Matrix Computations*, §8.5), for CMA-ES's covariance.
///
/// Jacobi rotations annihilate the off-diagonal entries sweep by sweep until their norm falls below
/// 10⁻¹⁵·‖A‖_F (quadratic convergence: about ten sweeps). It is O(n³) per sweep, which CMA-ES pays
/// only every few generations (``CMAES`` updates the decomposition lazily), and it is exactly
/// deterministic: the same matrix gives the same bits on every machine and thread count, which a
/// threaded LAPACK does not promise.
public struct SymmetricEigendecomposition: Sendable, Codable, Equatable {
    /// λ, in ascending order.
    public var eigenvalues: [Double]
    /// B, column-major: column k (entries k·n ..< (k+1)·n) is the unit eigenvector of λ_k.
    public var eigenvectors: [Double]
    /// n.
    public var dimension: Int { eigenvalues.count }

    /// Decomposes the symmetric n×n `matrix` (row-major; only symmetric input is meaningful, the
    /// upper triangle is read). Throws ``TrainingError/invalidOption(name:value:reason:)`` for a
    /// wrong size or a non-finite entry, and when the sweeps do not converge.
    public init(symmetric matrix: [Double], dimension n: Int) throws(TrainingError) {
        guard n >= 1, matrix.count == n * n else {
            throw .invalidOption(name: "matrix", value: "\(matrix.count) entries", reason: "expected \(n)×\(n)")
        }
        guard matrix.allSatisfy(\.isFinite) else {
            throw .invalidOption(name: "matrix", value: "non-finite entry", reason: "an eigendecomposition needs finite entries")
        }
        // a: the symmetric matrix being diagonalised (full storage, symmetrised from the upper
        // triangle); v accumulates the rotations, column-major.
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                a[i * n + j] = matrix[i * n + j]
                a[j * n + i] = matrix[i * n + j]
            }
        }
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let scale = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var converged = scale == 0
        for _ in 0..<100 where !converged {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<n { off += 2 * a[i * n + j] * a[i * n + j] } }
            if off.squareRoot() <= 1e-15 * scale {
                converged = true
                break
            }
            for p in 0..<n {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    if apq == 0 { continue }
                    // The rotation (c, s) that zeroes a_pq, with |θ| ≤ π/4 (the stable choice).
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot()
                    let s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    a[p * n + q] = 0
                    a[q * n + p] = 0
                    for k in 0..<n {
                        let vkp = v[p * n + k], vkq = v[q * n + k]
                        v[p * n + k] = c * vkp - s * vkq
                        v[q * n + k] = s * vkp + c * vkq
                    }
                }
            }
        }
        guard converged else {
            throw .invalidOption(name: "matrix", value: "\(n)×\(n)", reason: "the Jacobi sweeps did not converge in 100 sweeps")
        }
        let order = (0..<n).sorted { a[$0 * n + $0] < a[$1 * n + $1] || (a[$0 * n + $0] == a[$1 * n + $1] && $0 < $1) }
        eigenvalues = order.map { a[$0 * n + $0] }
        eigenvectors = order.flatMap { column in v[(column * n)..<((column + 1) * n)] }
    }
}
