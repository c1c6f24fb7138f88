"""Field sampling and the ensemble-averaged TLS susceptibility / electron self-energy.

Units: energies in E_F, ρ_F = 1/E_F.  Bare fields h ∈ (0, h_c) with P_β(h) = (1+β) h^β / h_c^{1+β}.
Sampling "direct" draws from P_β; "mixture" (default) draws each field with probability ½ from
P_β and ½ log-uniformly on [h_min, h_c], with weight w = P_β/q ≤ 2 (unbiased, no truncation); the
log half covers every decade of h_R and makes low-ω exponents cheap.  Estimators divide by Σw.

Per field (T = 0): Imχ = f_α(ω/h_R)/ω and cumulative weight W(ω) = ∫_0^ω Imχ = F_α(ω/h_R);
a frozen field is a static σ^x: weight π at ω → 0+ (elastic).  Self-energy (Eq. 7 at T = 0):
    −ImΣ(ω) = ρ_F g² (M/N) ∫_0^{|ω|} Imχ̄ = C·W̄(|ω|),   C = π² α (M/N) E_F  (α = g²ρ_F²/π²),
so the saturation is Σ_∞ = π³ α (M/N) E_F.  Finite T (approximation, stated): the symmetrised TLS
correlation Imχ(ε,T)·coth(ε/2T) is taken at its T = 0 form, which keeps the sum rule exactly, is
exact for T ≪ h_R and makes TLSs with h_R ≪ T classical elastic scatterers:
    −ImΣ(ω,T) = C ∫_0^∞ dW̄(ε) [1 − tanh(ε/2T)·½(tanh((ε−ω)/2T) + tanh((ε+ω)/2T))].
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import rg
from .scaling import DEFAULT_SOURCE, scaling_functions


def sample_fields(rng, n, h_c, beta, h_min, sampling):
    """n bare fields and their importance weights w = P_β/q (E[w] = 1)."""
    u = rng.random(n)
    if sampling == "direct":
        return h_c * u ** (1.0 / (1.0 + beta)), np.ones(n)
    # defensive mixture q = ½ P_β + ½ (log-uniform on [h_min, h_c]): w ≤ 2, every decade covered
    lmin, lmax = np.log(h_min), np.log(h_c)
    pick = rng.random(n) < 0.5
    h = np.where(pick, h_c * u ** (1.0 / (1.0 + beta)), np.exp(lmin + (lmax - lmin) * u))
    p_h = (1.0 + beta) * (h / h_c) ** beta / h_c
    q_log = np.where(h >= h_min, 1.0 / (h * (lmax - lmin)), 0.0)
    return h, p_h / (0.5 * p_h + 0.5 * q_log)


def field_spectra(ln_hr, frozen, w, alpha, omega, source=DEFAULT_SOURCE):
    """Weighted sums over fields of Imχ(ω) and W(ω) on the grid (frozen fields excluded); ``source``
    picks the scaling function ("nrg" table or "interpolated" closed form, scaling.py)."""
    f_alpha, cumulative_weight = scaling_functions(source)
    keep = ~frozen
    with np.errstate(over="ignore"):  # h_R below 1e-308 → x = inf, clipped inside f and F
        x = omega[None, :] * np.exp(-ln_hr[keep])[:, None]
    wk = w[keep]
    chi = wk @ (f_alpha(x, alpha) / omega[None, :])
    cum = wk @ cumulative_weight(x, alpha)
    return chi, cum


def effective_alpha(alpha):
    """α used in f for the dynamical fields: the bare α below 1; at α ≥ 1 the Toulouse shape
    (exact spectral shape unknown there; only the O(1) prefactor of Eq. (13) depends on it)."""
    return alpha if alpha < 1.0 else 0.5


def thermal_kernel(eps, omega, T):
    """1 − tanh(ε/2T)·½[tanh((ε−ω)/2T) + tanh((ε+ω)/2T)], broadcasting; T = 0 gives θ(|ω|−ε)."""
    if T <= 0:
        return (eps < np.abs(omega)).astype(float) + 0.5 * (eps == np.abs(omega))
    return 1.0 - np.tanh(eps / (2 * T)) * 0.5 * (np.tanh((eps - omega) / (2 * T)) + np.tanh((eps + omega) / (2 * T)))


def scattering_rate(cum, elastic, omega_grid, omega, T, C):
    """−ImΣ(ω, T) from the cumulative weight W̄ on omega_grid (Stieltjes sum, geometric midpoints).

    ``elastic`` is the weight already present at ε → 0 (frozen fields + weight below the grid).
    """
    d_w = np.diff(cum)
    eps_mid = np.sqrt(omega_grid[1:] * omega_grid[:-1])
    om = np.asarray(omega, dtype=float)
    k = thermal_kernel(eps_mid, om[..., None], T)
    return C * (elastic + cum[0] + k @ d_w)


@lru_cache(maxsize=64)
def _quadrature_nodes(alpha, beta, h_c, h_min, n=4000):
    lh = np.linspace(np.log(h_min), np.log(h_c), n)
    h = np.exp(lh)
    wq = np.full(n, lh[1] - lh[0])
    wq[[0, -1]] *= 0.5
    wq *= (1.0 + beta) * (h / h_c) ** (1.0 + beta)  # P_β(h)·h d(ln h)
    ln_hr, _, frozen = rg.flow(h, alpha)
    return ln_hr, frozen, wq


def chi_quadrature(alpha, beta, h_c, h_min, omega, source=DEFAULT_SOURCE):
    """Cross-check: Imχ̄(ω) and W̄(ω) by deterministic quadrature over ln h (same truncation h_min)."""
    ln_hr, frozen, wq = _quadrature_nodes(alpha, beta, h_c, h_min)
    chi, cum = field_spectra(ln_hr, frozen, wq, effective_alpha(alpha), omega, source)
    return chi, cum, float(wq[frozen].sum())


def fit_power(x, y, lo, hi):
    """Least-squares slope of ln y vs ln x over lo ≤ x ≤ hi (NaN if fewer than 3 usable points)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    sel = (x >= lo) & (x <= hi) & (y > 0) & np.isfinite(y)
    if sel.sum() < 3:
        return np.nan
    return float(np.polyfit(np.log(x[sel]), np.log(y[sel]), 1)[0])
