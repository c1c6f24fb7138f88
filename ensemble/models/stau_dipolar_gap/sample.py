"""One disorder realization of the S-tau dipolar-gap Monte Carlo, and one S configuration on it.

Random draws, in this order from the member's own Generator: the occupied sites (n of 4L^3,
without replacement), the n x n unit Gaussians c_ij (S_i - tau_j; c_ij and c_ji independent),
and n unit Gaussians for the tau random fields (always drawn, so h_tau = 0 and h_tau > 0 share
their couplings).  The field on tau_j is h_j = h_tau <|E_tau|>_0 z_j with <|E_tau|>_0 the
realization's field-free mean |E_tau| (so h_tau is the caption's ratio h^tau/<E_tau>).
App. B2 writes c'_ij = c_ij S_i^z: the frozen S configuration enters only through the sign of c'_ij.
A flat member absorbs it into c_ij (same distribution); a two-level vector draws s_i = +-1 for the
realization's fixed c_ij, so that samples (c_ij, positions, fields) and S configurations separate.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernels import couplings_inplace, e_s_min, tau_fields
from .lattice import LENGTH_SCALE, fcc_sites, n_impurities


@dataclass
class Member:
    pos: np.ndarray        # (n, 3) impurity positions, cell units (U uses them in r_unit)
    e_tau0: np.ndarray     # field-free |E_tau_j| (the caption's <E_tau> is taken over these)
    e_tau: np.ndarray      # |E_tau_j| with the random field
    e_min: np.ndarray      # E_S^min_i


@dataclass
class Disorder:
    """What a realization fixes: positions, U_ij = c_ij J/(R^3 + a~^3) and the field normals z."""

    pos: np.ndarray
    U: np.ndarray
    z: np.ndarray


def draw(rng: np.random.Generator, L: int, x: float):
    """Positions, Gaussian couplings c and field normals z of one realization."""
    sites = fcc_sites(L)
    n = n_impurities(L, x)
    pos = sites[np.sort(rng.choice(len(sites), n, replace=False))]
    c = rng.standard_normal((n, n))
    z = rng.standard_normal(n)
    return pos, c, z


def disorder(rng: np.random.Generator, L: int, x: float, a_tilde: float, J: float, r_unit: str = "cell") -> Disorder:
    pos, c, z = draw(rng, L, x)
    s = LENGTH_SCALE[r_unit]
    return Disorder(pos, couplings_inplace(c, pos * s, L * s, a_tilde**3, J), z)


def stable_energies(d: Disorder, e0: np.ndarray, s_spin: np.ndarray, h_tau: float) -> Member:
    """E_tau and E_S^min of the S configuration s_spin whose field-free tau energies are e0 = sum_i s_i U_ij."""
    e = e0 + h_tau * np.abs(e0).mean() * d.z
    return Member(d.pos, np.abs(e0), np.abs(e), e_s_min(d.U, e, s_spin))


def simulate(seed, L: int, x: float, a_tilde: float, J: float, h_tau: float, r_unit: str = "cell") -> Member:
    """One flat member: the S configuration is absorbed into the Gaussian c_ij (all s_i = +1)."""
    d = disorder(np.random.default_rng(seed), L, x, a_tilde, J, r_unit)
    return stable_energies(d, d.U.sum(axis=0), np.ones(len(d.z)), h_tau)


def s_configuration(d: Disorder, seed, h_tau: float) -> Member:
    """One vector: a random S configuration s_i = +-1 (equally likely, from the vector's stream) frozen in
    the realization ``d``."""
    s_spin = np.random.default_rng(seed).choice(np.array([-1.0, 1.0]), len(d.z))
    return stable_energies(d, tau_fields(d.U, s_spin), s_spin, h_tau)
