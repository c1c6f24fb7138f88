"""Broadening of binned spectral weights into Imχ(ω) on a grid of ω > 0.

T = 0: a peak W at ω_j becomes W·L(ω, ω_j), L = e^{−b²/4}/(b|ω_j|√π) · exp(−[ln(ω/ω_j)/b]²) for ω ω_j > 0, a
unit-weight kernel of fixed width b in ln ω, matched to NRG's logarithmic resolution.  On a power law
Imχ ∝ ω^p it multiplies by e^{(p²−1)b²/4} (+0.75 % at p = −2 for b = 0.1), which sets how small b must be.
Imχ(ω > 0) = π Σ_j W_j L(ω, ω_j) over the peaks at ω_j > 0.

T > 0 (Weichselbaum–von Delft 2007): peaks below ω0 are not resolved logarithmically, so a peak gets
h(ω_j) L + (1 − h(ω_j)) G with G a Gaussian of width ω0 in linear ω and h = 1 above ω0,
exp(−[ln(|ω_j|/ω0)/b]²) below; the peaks at ω = 0 (quasi-elastic weight of degenerate pairs) get G.
This broadens the correlation C(ω) = 2π Σ_j W_j K(ω, ω_j); Imχ = (1 − e^{−ω/T}) C/2 follows by detailed
balance, linear in ω below T.  The value of Imχ/ω below T depends on ω0 (the NRG does not resolve the
quasi-elastic line): measured against the exact α = ½ result in the tests.
"""
from __future__ import annotations

import numpy as np


def log_gaussian(omega: np.ndarray, centers: np.ndarray, b: float) -> np.ndarray:
    """L(ω_i, c_j) as a matrix, for ω and c of the same sign (zero otherwise)."""
    ratio = omega[:, None] / centers[None, :]
    out = np.zeros(ratio.shape)
    same = ratio > 0
    ln = np.log(ratio[same])
    width = b * np.abs(np.broadcast_to(centers[None, :], ratio.shape)[same]) * np.sqrt(np.pi)
    out[same] = np.exp(-b * b / 4.0 - (ln / b) ** 2) / width
    return out


def kernel(omega: np.ndarray, centers: np.ndarray, b: float, omega0: float) -> np.ndarray:
    a = np.abs(centers)
    h = np.where(a >= omega0, 1.0, np.exp(-(np.log(np.maximum(np.minimum(a, omega0), 1e-300) / omega0) / b) ** 2))
    gauss = np.exp(-(((omega[:, None] - centers[None, :]) / omega0) ** 2)) / (omega0 * np.sqrt(np.pi))
    nonzero = a > 0
    out = (1.0 - h)[None, :] * gauss
    out[:, nonzero] += h[nonzero][None, :] * log_gaussian(omega, centers[nonzero], b)
    return out


def im_chi(weights: np.ndarray, edges: np.ndarray, omega: np.ndarray, b: float,
           temperature: float = 0.0, zero_weight: float = 0.0, omega0_over_t: float = 1.0) -> np.ndarray:
    """Imχ(ω > 0) from binned weights (2, bins): peaks at ω > 0 and ω < 0 per bin of log10|ω|."""
    mid = 10.0 ** (0.5 * (edges[1:] + edges[:-1]))
    omega = np.asarray(omega, dtype=float)
    if temperature <= 0:
        use = weights[0] != 0.0
        return np.pi * log_gaussian(omega, mid[use], b) @ weights[0][use]
    centers = np.concatenate([mid, -mid, [0.0]])
    w = np.concatenate([weights[0], weights[1], [zero_weight]])
    use = w != 0.0
    corr = kernel(omega, centers[use], b, omega0_over_t * temperature) @ w[use]
    return np.pi * -np.expm1(-omega / temperature) * corr
