"""One member (disorder realization) of the S-tau dipolar-gap Monte Carlo.

Random draws, in this order from the member's own Generator: the occupied sites (n of 4L^3,
without replacement), the n x n unit Gaussians c_ij (S_i - tau_j; c_ij and c_ji independent),
and n unit Gaussians for the tau random fields (always drawn, so h_tau = 0 and h_tau > 0 share
their couplings).  The field on tau_j is h_j = h_tau <|E_tau|>_0 z_j with <|E_tau|>_0 the
realization's field-free mean |E_tau| (so h_tau is the caption's ratio h^tau/<E_tau>).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernels import couplings_inplace, e_s_min
from .lattice import LENGTH_SCALE, fcc_sites, n_impurities


@dataclass
class Member:
    pos: np.ndarray        # (n, 3) impurity positions, cell units (U uses them in r_unit)
    e_tau0: np.ndarray     # field-free |E_tau_j| (the caption's <E_tau> is taken over these)
    e_tau: np.ndarray      # |E_tau_j| with the random field
    e_min: np.ndarray      # E_S^min_i


def draw(rng: np.random.Generator, L: int, x: float):
    """Positions, Gaussian couplings c and field normals z of one realization."""
    sites = fcc_sites(L)
    n = n_impurities(L, x)
    pos = sites[np.sort(rng.choice(len(sites), n, replace=False))]
    c = rng.standard_normal((n, n))
    z = rng.standard_normal(n)
    return pos, c, z


def simulate(seed, L: int, x: float, a_tilde: float, J: float, h_tau: float, r_unit: str = "cell") -> Member:
    rng = np.random.default_rng(seed)
    pos, c, z = draw(rng, L, x)
    s = LENGTH_SCALE[r_unit]
    U = couplings_inplace(c, pos * s, L * s, a_tilde**3, J)
    e0 = U.sum(axis=0)
    e = e0 + h_tau * np.abs(e0).mean() * z
    return Member(pos, np.abs(e0), np.abs(e), e_s_min(U, e))
