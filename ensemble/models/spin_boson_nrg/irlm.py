"""The ohmic spin-boson model as an interacting resonant-level model (IRLM), and the parameter map.

    H = Σ_n t_n (f_n† f_{n+1} + h.c.) + V (d† f_0 + f_0† d) + U (n_d − ½)(n_0 − ½) + ε (n_d − ½)

on the Wilson chain of a flat band ρ = 1/2 (half-bandwidth D = 1).  Bosonization (Vigman–Finkelstein,
Schlottmann; Guinea, Hakim, Muramatsu) maps it, at energies ≪ D, onto the spin-boson model with

    σ^x (bath-coupled) = 2 n_d − 1,   tunnelling Δ ∝ V,   bias ∝ ε,
    α = ½ (1 − Δδ/π)²,   Δδ = 2 arctan(π ρ U / 2)   (the jump of the lead's phase shift when d fills).

U = 0 is the Toulouse point α = ½; U > 0 gives α < ½, U < 0 gives ½ < α < 2.  Δ/ω_c ↔ V/D holds up to
an α-dependent O(1) factor that depends on the cutoff scheme; nothing here needs it, because the
renormalized scale h_R is measured from the static susceptibility of the same run (scaling.py).  The
map holds in the scaling limit V ≪ D; the run's h_R/D says how far a point is from it.  That the
discretized chain has exactly this Δδ (Anderson orthogonality exponent of the two potentials ±U/2 on
f_0) is checked in the tests.
"""
from __future__ import annotations

import numpy as np

RHO = 0.5  # flat-band density of states per unit D


def alpha_of_u(u: float) -> float:
    return 0.5 * (1.0 - (2.0 / np.pi) * np.arctan(np.pi * RHO * u / 2.0)) ** 2


def u_of_alpha(alpha: float) -> float:
    """U/D giving spin-boson coupling α (0 < α < 2)."""
    if not 0.0 < alpha < 2.0:
        raise ValueError("the IRLM reaches 0 < alpha < 2")
    return (2.0 / (np.pi * RHO)) * np.tan(0.5 * np.pi * (1.0 - np.sqrt(2.0 * alpha)))


def orthogonality_phase_jump(hop: np.ndarray, u: float, lengths=(60, 62)) -> float:
    """|Δδ|/π from the Anderson overlap of the half-filled chains with ±U/2 on f_0:
    |⟨Ψ₊|Ψ₋⟩| ∝ Λ^{−N (Δδ/π)²/4}; measured between two even chain lengths."""
    logs = []
    for n in lengths:
        orbitals = []
        for pot in (u / 2.0, -u / 2.0):
            h = np.diag(hop[: n - 1], 1) + np.diag(hop[: n - 1], -1)
            h[0, 0] = pot
            orbitals.append(np.linalg.eigh(h)[1][:, : n // 2])
        logs.append(np.log(abs(np.linalg.det(orbitals[0].T @ orbitals[1]))))
    lam = hop[-2] / hop[-1]  # Λ^{1/2} from the chain's own decay
    slope = (logs[1] - logs[0]) / (lengths[1] - lengths[0])
    return float(np.sqrt(-4.0 * slope / np.log(lam**2)))
