"""Scaling function f_α(x) of Eq. (9): Imχ_ret(h, ω) = f_α(ω/h_R)/ω at T = 0 (x = ω/h_R > 0).

Convention: χ is the retarded correlator of the Pauli operator σ^x (the bath-coupled one), so the
T = 0 sum rule ⟨σ^x σ^x⟩ = 1 reads ∫_0^∞ Imχ dω = π, i.e. ∫_0^∞ f(x)/x dx = π for every α < 1; the
static susceptibility is fixed to χ0 = 4/(π h_R) (this *defines* the O(1) scale of h_R), so
Kramers–Kronig gives ∫ f/x² dx = (π/2) h_R χ0 = 2, and the Shiba relation Imχ/ω → (π/2) α χ0²
gives f(x ≪ 1) = (8α/π) x².

α = 1/2 (exact): the Toulouse point maps to a resonant level of width Γ = h_R with σ^x = 2d†d − 1;
the particle–hole bubble of two Lorentzians gives
    f_{1/2}(x) = (8/π)[ln(1+x²) + x·arctan x]/(x² + 4),
so f ≈ (4/π)x² (x ≪ 1), f ≈ 4/x (x ≫ 1) and A_{1/2} = ∫ f/x² dx = 2 (β = 1, γ = 1).

Other α (INTERPOLATION, not exact): f_α(x) = (8α/π) x² / (1 + b x²)^{2−α} with
b = 4α/(π²(1−α)), which obeys the Shiba limit, the sum rule and the large-x law f ∝ x^{2α−2}
(Imχ ∝ ω^{2α−3}, the perturbative-in-h result [Guinea 1985]; App. B of the paper quotes x^{−(4−2α)},
which the exact Toulouse result contradicts).  At α = 1/2 it also gives ∫ f/x² = 2.  It is poor
for α ≲ 0.1, where the true f is a narrow peak at the bare splitting.

F_α(y) = ∫_0^y f(x)/x dx is the cumulative spectral weight (→ π).
"""
from __future__ import annotations

import numpy as np


def is_toulouse(alpha: float) -> bool:
    return abs(alpha - 0.5) < 1e-12


def _b(alpha):
    return 4.0 * alpha / (np.pi**2 * (1.0 - alpha))


def f_toulouse(x):
    x = np.minimum(np.asarray(x, dtype=float), 1e150)  # avoid inf·0; f(1e150) is ~0 anyway
    return (8.0 / np.pi) * (np.log1p(x * x) + x * np.arctan(x)) / (x * x + 4.0)


def f_alpha(x, alpha: float):
    """ω·Imχ_ret as a function of x = ω/h_R (exact at α = 1/2, interpolation otherwise)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError("f_alpha needs 0 < alpha < 1")
    x = np.minimum(np.asarray(x, dtype=float), 1e150)
    if is_toulouse(alpha):
        return f_toulouse(x)
    return (8.0 * alpha / np.pi) * x * x * (1.0 + _b(alpha) * x * x) ** (alpha - 2.0)


# Cumulative weight of the Toulouse f, tabulated once on a fine log grid (no closed form).
_LY = np.linspace(np.log(1e-6), np.log(1e12), 20001)


def _toulouse_cumulative_table():
    y = np.exp(_LY)
    integrand = f_toulouse(y)  # f(x)/x dx = f d(ln x)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(_LY))])
    return cum + (2.0 / np.pi) * y[0] ** 2  # ∫_0^{y0} (4/π) x dx


_TOULOUSE_CUM = _toulouse_cumulative_table()


def cumulative_weight(y, alpha: float):
    """F_α(y) = ∫_0^y f_α(x)/x dx (→ π as y → ∞)."""
    y = np.asarray(y, dtype=float)
    if is_toulouse(alpha):
        y = np.minimum(y, 1e150)
        ly = np.log(np.maximum(y, 1e-300))
        small = (2.0 / np.pi) * y * y
        # beyond the table: f ≈ 4/x + (16/π) ln x/x² ... use π − 4/y for the tail
        big = np.pi - 4.0 / np.maximum(y, 1e-300)
        mid = np.interp(ly, _LY, _TOULOUSE_CUM)
        return np.where(ly < _LY[0], small, np.where(ly > _LY[-1], big, mid))
    b = _b(alpha)
    y = np.minimum(y, 1e150)
    return np.pi * -np.expm1((alpha - 1.0) * np.log1p(b * y * y))
