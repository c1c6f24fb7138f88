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

NRG (``scaling_function = "nrg"``): f_α(x) computed numerically exactly by the spin_boson_nrg model
(docs/models/spin_boson_nrg.md) for 0.05 ≤ α ≤ 0.9, shipped as data/nrg_scaling.npz; same conventions.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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


# ----- the numerically exact f_α from NRG (spin_boson_nrg; table shipped in data/) -----
NRG_TABLE = Path(__file__).resolve().parent / "data" / "nrg_scaling.npz"
SOURCES = ("nrg", "interpolated")
#: large_n_tls's default: the NRG table, which passes its checks (docs/models/spin_boson_nrg.md).
DEFAULT_SOURCE = "nrg"


@lru_cache(maxsize=1)
def nrg_table() -> dict:
    with np.load(NRG_TABLE) as z:
        return {k: z[k] for k in z.files}


def nrg_alpha_range() -> tuple[float, float]:
    a = nrg_table()["alpha"]
    return float(a[0]), float(a[-1])


@lru_cache(maxsize=64)
def _nrg_row(alpha: float):
    """ln f on the table's x grid at this α and the large-x exponent.  f (not ln f) is interpolated
    linearly in α between rows, which keeps the sum rule ∫f/x = π of the rows (ln f lost 1.7 % at α = 0.25)."""
    t = nrg_table()
    a = t["alpha"]
    if not a[0] - 1e-12 <= alpha <= a[-1] + 1e-12:
        raise ValueError(f"the NRG table covers {a[0]} <= alpha <= {a[-1]}")
    f = t["f"][:, 0, :]
    i = int(np.clip(np.searchsorted(a, alpha) - 1, 0, len(a) - 2))
    w = (alpha - a[i]) / (a[i + 1] - a[i])
    row = np.log(np.maximum((1.0 - w) * f[i] + w * f[i + 1], 1e-300))
    tail = (1.0 - w) * t["tail_exponent"][i] + w * t["tail_exponent"][i + 1]
    return np.log(t["x"]), row, float(tail)


def f_alpha_nrg(x, alpha: float):
    """f_α(x, T = 0) from the NRG table: log–log interpolation inside the x grid, f ∝ x² below it (the
    Shiba regime) and the row's fitted power law above it.  α = ½ uses the exact Toulouse form."""
    if is_toulouse(alpha):
        return f_toulouse(x)
    lx_grid, row, tail = _nrg_row(float(alpha))
    x = np.minimum(np.asarray(x, dtype=float), 1e150)
    lx = np.log(np.maximum(x, 1e-300))
    inside = np.interp(lx, lx_grid, row)
    below = row[0] + 2.0 * (lx - lx_grid[0])
    above = row[-1] + tail * (lx - lx_grid[-1])
    return np.exp(np.where(lx < lx_grid[0], below, np.where(lx > lx_grid[-1], above, inside)))


@lru_cache(maxsize=64)
def _nrg_cumulative(alpha: float):
    lx = _LY
    f = f_alpha_nrg(np.exp(lx), alpha)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(lx))])
    return cum + 0.5 * f[0]  # ∫_0^{y0} f/x dx with f ∝ x²


def cumulative_weight_nrg(y, alpha: float):
    if is_toulouse(alpha):
        return cumulative_weight(y, alpha)
    y = np.minimum(np.asarray(y, dtype=float), 1e150)
    ly = np.log(np.maximum(y, 1e-300))
    cum = _nrg_cumulative(float(alpha))
    f0 = f_alpha_nrg(np.exp(_LY[0]), alpha)
    _, _, tail = _nrg_row(float(alpha))
    small = 0.5 * f0 * np.exp(2.0 * (ly - _LY[0]))
    f_end = f_alpha_nrg(np.exp(_LY[-1]), alpha)
    big = cum[-1] + f_end / (-tail) * (1.0 - np.exp(tail * np.maximum(ly - _LY[-1], 0.0)))
    return np.where(ly < _LY[0], small, np.where(ly > _LY[-1], big, np.interp(ly, _LY, cum)))


def scaling_functions(source: str):
    """(f_α(x, α), F_α(y, α)) for ``source`` = "nrg" (table) or "interpolated" (the closed forms above)."""
    if source == "nrg":
        return f_alpha_nrg, cumulative_weight_nrg
    if source == "interpolated":
        return f_alpha, cumulative_weight
    raise ValueError(f"scaling function source {source!r}: allowed {SOURCES}")


def prefactor_a(alpha: float, beta: float, source: str = "interpolated") -> float:
    """A_α = ∫_0^∞ f_α(x) x^{−(γ+1)} dx (App. B, Eq. B8), γ = (1+β)(1−α) < 2: the O(1) factor of every
    low-energy amplitude (−ImΣ = C K A_α ω^γ/γ, ρ − ρ0, σ_TLS).  Quadrature in ln x over 10⁻²⁰…10²⁰
    with the f ∝ x² and large-x power-law ends added in closed form."""
    gamma = (1.0 + beta) * (1.0 - alpha)
    if not 0.0 < gamma < 2.0:
        raise ValueError("A_alpha needs 0 < gamma < 2")
    f = scaling_functions(source)[0]
    lx = np.linspace(np.log(1e-20), np.log(1e20), 40001)
    x = np.exp(lx)
    g = f(x, alpha) * x ** (-gamma)
    inner = np.sum(0.5 * (g[1:] + g[:-1]) * np.diff(lx))
    return float(inner + g[0] / (2.0 - gamma))  # below 1e-20: f ∝ x², ∫ x^{1−γ} dx; above 1e20: negligible
