"""Log-Gaussian broadening of binned spectral weights into Imχ(ω) on a grid of ω > 0.

A peak W at ω_j becomes W·L(ω, ω_j) with L = e^{−b²/4}/(b ω_j √π) · exp(−[ln(ω/ω_j)/b]²) for ω ω_j > 0, a
kernel of unit weight whose width is a fixed fraction b of ln ω, matched to the logarithmic
resolution of NRG.  Imχ(ω > 0) = (C(ω) − C(−ω))/2 = π Σ_j sgn(ω_j) W_j L(ω, |ω_j|): positive and negative
peaks enter with opposite signs, so at finite T the pairs ±ω_j below T cancel to the linear Imχ ∝ ω.
"""
from __future__ import annotations

import numpy as np

from .fdm import Weights


def log_gaussian(omega: np.ndarray, centers: np.ndarray, b: float) -> np.ndarray:
    """L(ω_i, c_j) as a matrix (ω and centres positive)."""
    ln = np.log(omega[:, None] / centers[None, :])
    return np.exp(-b * b / 4.0 - (ln / b) ** 2) / (b * centers[None, :] * np.sqrt(np.pi))


def im_chi(weights: Weights, omega: np.ndarray, b: float) -> np.ndarray:
    centers = 10.0 ** (0.5 * (weights.edges[1:] + weights.edges[:-1]))
    signed = weights.positive - weights.negative
    use = signed != 0.0
    return np.pi * log_gaussian(omega, centers[use], b) @ signed[use]
