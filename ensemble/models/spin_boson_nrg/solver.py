"""One ensemble member: the NRG run of one discretization offset z, and its spectral weights at the
requested temperatures (T in units of that run's own h_R)."""
from __future__ import annotations

import numpy as np

from . import chain, fdm, irlm, nrg

BINS_PER_DECADE = 400  # bins of log10|ω| for the raw weights: fine enough for b ≥ 0.1 (tested)


def van_der_corput_offset(member: int) -> float:
    """z ∈ (0, 1] of member m: 1 − (radical inverse of m in base 2).  The first 2^k members are exactly the
    stratified grid {j/2^k}, and every prefix is evenly spread, so a run extended to more members
    refines the z-average instead of redrawing it."""
    x, base, m = 0.0, 0.5, int(member)
    while m:
        x += base * (m & 1)
        m >>= 1
        base /= 2.0
    return 1.0 - x


def tunnelling(p: dict) -> float:
    """V/D: the spec's ``v``, or one aimed at h_R ≈ h_target by h_R ≈ (2/π) Δ (Δ/D)^{α/(1−α)}, Δ = 2V (within
    a factor ~3 of the measured h_R for 0.05 ≤ α ≤ 0.9; the run measures h_R, this only aims)."""
    if p["v"] > 0:
        return p["v"]
    return 0.5 * (0.5 * np.pi * p["h_target"]) ** (1.0 - p["alpha"])


def log_edges(p: dict) -> np.ndarray:
    lowest = np.floor(p["shells"] / 2.0 * np.log10(p["lam"])) + 4.0
    n = int(round((lowest + 0.5) * BINS_PER_DECADE))
    return np.linspace(-lowest, 0.5, n + 1)


def run_member(p: dict, z: float) -> dict:
    """Raw weights (T, sign, bin), χ0(T), Σ W(T) and the balance defect of one z."""
    hop = chain.hoppings(p["lam"], z, p["shells"])
    shells = nrg.run(hop, tunnelling(p), irlm.u_of_alpha(p["alpha"]), p["bias"], p["keep"], p["e_cut"])
    edges = log_edges(p)
    ground = fdm.spectral_weights(shells, 0.0, edges)
    h_r = 4.0 / (np.pi * ground.chi0)
    t_grid = np.asarray(p["t_over_hr"], dtype=float)
    weights = np.zeros((len(t_grid), 2, len(edges) - 1))
    zero = np.zeros(len(t_grid))
    chi0, total, defect = (np.zeros(len(t_grid)) for _ in range(3))
    for i, t in enumerate(t_grid):
        w = ground if t == 0 else fdm.spectral_weights(shells, t * h_r, edges)
        weights[i, 0], weights[i, 1], zero[i] = w.positive, w.negative, w.zero
        chi0[i], total[i], defect[i] = w.chi0, w.total, w.balance_defect
    return {"weights": weights, "zero_weight": zero, "chi0": chi0, "total": total, "balance_defect": defect,
            "chi0_ground": ground.chi0, "lowest_scale": shells[-1].scale}
