"""From z-averaged raw weights to the scaling function f_α(x, T/h_R) = ω Imχ(ω, T), x = ω/h_R, and the
identities it must obey.  Conventions (those of large_n_tls/scaling.py): χ is the retarded correlator of
the bath-coupled Pauli operator σ^x, h_R ≡ 4/(π χ0) with χ0 = (2/π)∫_0^∞ Imχ/ω dω at T = 0 (at α = ½ this
is the resonant-level width Γ), the T = 0 sum rule is ∫_0^∞ Imχ dω/π = ⟨σ²⟩ = 1, and the generalized
Shiba relation is lim_{ω→0} Imχ(ω)/ω = (π/2) α χ0² (equivalently S(ω)/ω → π α χ0² for the
symmetrized correlation S = ∫dt e^{iωt}⟨{σ(t), σ}⟩).
"""
from __future__ import annotations

import numpy as np


def h_r(chi0_ground: float) -> float:
    return 4.0 / (np.pi * chi0_ground)


def shiba_ratio(f_small_x: float, x: float, alpha: float) -> float:
    """[Imχ/ω]/[(π/2)αχ0²] in scaled form: f(x)/x² over 8α/π (with χ0 = 4/(π h_R))."""
    return f_small_x / x**2 / (8.0 * alpha / np.pi)


def power_law_slope(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> float:
    """Least-squares slope of ln y against ln x on lo ≤ x ≤ hi."""
    sel = (x >= lo) & (x <= hi) & (y > 0)
    if sel.sum() < 2:
        return np.nan
    return float(np.polyfit(np.log(x[sel]), np.log(y[sel]), 1)[0])
