"""Exact α = ½ reference: the Toulouse point is a resonant level of width Γ = h_R with σ^x = 2n_d − 1, so
Imχ(ω, T) = 4π ∫dε ρ_d(ε) ρ_d(ε + ω) [n_F(ε) − n_F(ε + ω)],  ρ_d(ε) = (Γ/π)/(ε² + Γ²)
(the particle–hole bubble; at T = 0 it is large_n_tls.scaling.f_toulouse).  Quadrature on a grid wide
enough for the Lorentzian tails; used by the tests as the exact finite-T reference."""
from __future__ import annotations

import numpy as np
from scipy import integrate


def f_toulouse_t(x: float, t: float) -> float:
    """ω·Imχ at x = ω/Γ, T/Γ = t (Γ = 1)."""

    def fermi(e):
        if t == 0:
            return float(e < 0)
        return 0.5 * (1.0 - np.tanh(e / (2.0 * t)))

    def rho(e):
        return 1.0 / (np.pi * (e * e + 1.0))

    def integrand(e):
        return rho(e) * rho(e + x) * (fermi(e) - fermi(e + x))

    lo, hi = -x - 40.0 * (1.0 + t), 40.0 * (1.0 + t)
    pts = sorted({-x, 0.0})
    val = integrate.quad(integrand, lo, hi, points=pts, limit=400, epsabs=1e-13, epsrel=1e-10)[0]
    tails = integrate.quad(integrand, -np.inf, lo)[0] + integrate.quad(integrand, hi, np.inf)[0]
    return 4.0 * np.pi * x * (val + tails)
