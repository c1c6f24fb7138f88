"""Kubo transport without vertex corrections (spatially uncorrelated couplings → vertex corrections
vanish), flat band, momentum-independent Σ, ReΣ neglected (it only shifts ε):

    σ_dc(T) = ∫ dω (−∂f/∂ω) / (2Γ(ω,T)),      ρ(T) = 1/σ_dc,
    σ_el(Ω) = (1/Ω) ∫_{−Ω}^0 dω (Γ(ω)+Γ(ω+Ω)) / (Ω² + (Γ(ω)+Γ(ω+Ω))²)   (T = 0),
    σ_TLS(Ω) = d² Ω Imχ̄(Ω),

with Γ(ω,T) = Γ0 + (−ImΣ(ω,T)), Γ0 the potential-scattering rate (ρ0 = 2Γ0 without frozen TLSs).
Conductivities are in units of e²ρ_F v_F²/d (dropped), ρ in the inverse units, energies in E_F.
Without Γ0: Γ ∝ Ω^γ gives σ_el ∝ Ω^{−γ} (γ < 1) and ∝ Ω^{γ−2} (γ > 1), i.e. Ω^{−min(2−γ, γ)}.
"""
from __future__ import annotations

import numpy as np

_X, _WX = np.polynomial.legendre.leggauss(64)


def dc_resistivity(excess_fn, floor, temperatures, x_max=40.0):
    """ρ(T) and ρ(T) − ρ0 for Γ = floor + excess_fn(omega_array, T), ρ0 = 2·floor.

    ρ − ρ0 = ρ0 ε/(1−ε) with ε = ⟨δ/Γ⟩_{−f'} is computed without the cancellation of ρ − ρ0."""
    x = 0.5 * x_max * (_X + 1.0)
    wx = 0.5 * x_max * _WX * 2.0 / (4.0 * np.cosh(x / 2.0) ** 2)  # both signs of ω; Σ wx = 1
    rho, drho = [], []
    for T in temperatures:
        d = excess_fn(x * T, T)
        eps = np.sum(wx * d / (floor + d))  # |x| > x_max carries e^{-40}: dropped
        r0 = 2.0 * floor
        drho.append(r0 * eps / (1.0 - eps) if floor > 0 else np.inf)
        rho.append(1.0 / np.sum(wx / (2.0 * (floor + d))))
    return np.array(rho), np.array(drho)


def optical_el(rate0_fn, omega):
    """σ_el(Ω) at T = 0 given Γ(|ω|) at T = 0 (vectorised over Ω)."""
    om = np.asarray(omega, dtype=float)[:, None]
    u = 0.5 * om * (_X[None, :] + 1.0)  # u = −ω ∈ [0, Ω]
    g = rate0_fn(u) + rate0_fn(om - u)
    return 0.5 * np.sum(_WX[None, :] * g / (om**2 + g**2), axis=1)
