"""Geometry of the S-tau Monte Carlo: the fcc substitutional sublattice of an L x L x L periodic box.

Positions are in cubic-cell sides a0 = 1: each cell holds 4 fcc sites (0,0,0), (1/2,1/2,0),
(1/2,0,1/2), (0,1/2,1/2), nearest-neighbour distance 1/sqrt(2).  The length unit of R and a_tilde
in U_ij is r_unit: "cell" (a0) or "nn" (the nearest-neighbour distance); LENGTH_SCALE converts.
Distances use the minimum-image convention of the cubic box of side L cells.
"""
from __future__ import annotations

import numpy as np

LENGTH_SCALE = {"cell": 1.0, "nn": float(np.sqrt(2.0))}  # R in r_unit = R in cells * scale
BASIS = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]])


def fcc_sites(L: int) -> np.ndarray:
    """All 4 L^3 site positions, shape (4 L^3, 3), cell-major order."""
    g = np.arange(L, dtype=float)
    cells = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 1, 3)
    return (cells + BASIS[None, :, :]).reshape(-1, 3)


def n_impurities(L: int, x: float) -> int:
    """Number of impurities: concentration x of the 4 L^3 sites, rounded (fixed per realization)."""
    return int(round(x * 4 * L**3))


def min_image(d: np.ndarray, L: int) -> np.ndarray:
    return d - L * np.rint(d / L)


def rms_e_tau(L: int, x: float, a_tilde: float, J: float, r_unit: str = "cell") -> float:
    """Exact ensemble rms of the field-free E_tau = sum_i c_i J/(R_i^3 + a~^3).

    With c_i independent unit Gaussians and n impurities placed without replacement, each of the
    other 4L^3 - 1 sites is occupied with probability p = (n-1)/(4L^3-1), so
    <E_tau^2> = J^2 p sum_{k != 0} (R_k^3 + a~^3)^-2 (all fcc sites are equivalent in the box).
    """
    sites = fcc_sites(L)[1:]
    r = np.sqrt((min_image(sites, L) ** 2).sum(axis=1)) * LENGTH_SCALE[r_unit]
    p = (n_impurities(L, x) - 1) / (4 * L**3 - 1)
    return float(J * np.sqrt(p * np.sum((r**3 + a_tilde**3) ** -2.0)))
