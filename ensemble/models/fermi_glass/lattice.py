"""Anderson Hamiltonian of Eq. (2) (fermion part) on an L^3 periodic simple-cubic lattice.

H = sum_i eps_i c_i^+ c_i - sum_<ij> t_ij (c_i^+ c_j + h.c.); site i = (x*L + y)*L + z.  The sign of
the hopping does not matter for any estimator here (bipartite lattice, disorder symmetric about 0).
Bond arrays: bonds[d, i] is the hopping between i and its + neighbour along axis d (x, y, z).
The H.v kernel is matrix-free and fused with the Chebyshev step y <- 2 H~ x - y, H~ = H / a.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

GAUSS_CLIP = 6.0  # Gaussian site energies are clipped at 6 sigma so the spectral bound is fixed


@dataclass
class Realization:
    """One disorder realization: site energies, optional random bonds, the KPM scale a."""

    L: int
    eps: np.ndarray            # (L^3,) site energies
    t: float                   # uniform hopping (used when bonds is None)
    bonds: np.ndarray | None   # (3, L^3) random hoppings, or None
    scale: float               # a: spectrum of H lies strictly inside [-a, a]

    @property
    def n_sites(self) -> int:
        return self.L ** 3


def disorder_sigma(W: float, distribution: str) -> float:
    """Standard deviation of the site energies: the Gaussian has the variance W^2/12 of the box."""
    return W / np.sqrt(12.0)


def spectral_bound(W: float, t: float, t_spread: float, distribution: str) -> float:
    """Gershgorin bound on |E|: max |eps| + 6 max |t_ij| (a parameter-only number, so moments of
    different realizations refer to the same rescaled axis and stay additive)."""
    eps_max = W / 2 if distribution == "uniform" else GAUSS_CLIP * disorder_sigma(W, distribution)
    return eps_max + 6.0 * t * (1.0 + t_spread)


def kpm_scale(W: float, t: float, t_spread: float, distribution: str) -> float:
    return 1.01 * spectral_bound(W, t, t_spread, distribution)


def build(rng: np.random.Generator, L: int, W: float, t: float, t_spread: float, distribution: str) -> Realization:
    n = L ** 3
    if distribution == "uniform":
        eps = rng.uniform(-W / 2, W / 2, n)
    else:
        sig = disorder_sigma(W, distribution)
        eps = np.clip(rng.normal(0.0, sig, n), -GAUSS_CLIP * sig, GAUSS_CLIP * sig)
    bonds = rng.uniform(t * (1 - t_spread), t * (1 + t_spread), (3, n)) if t_spread > 0 else None
    return Realization(L, eps, t, bonds, kpm_scale(W, t, t_spread, distribution))


# Two kernels on purpose: with uniform hopping the step reads no bond arrays (three fewer memory streams
# per site in a bandwidth-bound loop); the random-hopping kernel is the same stencil with t_ij.
@njit(parallel=True, cache=True)
def _cheb_step_uniform(L, eps, t, inv_a, x, y):
    n2 = L * L
    yy = 0.0
    yx = 0.0
    for ix in prange(L):
        xp = ((ix + 1) % L) * n2
        xm = ((ix - 1 + L) % L) * n2
        for iy in range(L):
            yp = ((iy + 1) % L) * L
            ym = ((iy - 1 + L) % L) * L
            row = ix * n2 + iy * L
            for iz in range(L):
                zp = iz + 1 if iz + 1 < L else 0
                zm = iz - 1 if iz > 0 else L - 1
                i = row + iz
                nb = (x[xp + iy * L + iz] + x[xm + iy * L + iz] + x[ix * n2 + yp + iz]
                      + x[ix * n2 + ym + iz] + x[row + zp] + x[row + zm])
                v = 2.0 * inv_a * (eps[i] * x[i] - t * nb) - y[i]
                y[i] = v
                yy += v * v
                yx += v * x[i]
    return yy, yx


@njit(parallel=True, cache=True)
def _cheb_step_bonds(L, eps, bonds, inv_a, x, y):
    n2 = L * L
    yy = 0.0
    yx = 0.0
    for ix in prange(L):
        xp = ((ix + 1) % L) * n2
        xm = ((ix - 1 + L) % L) * n2
        for iy in range(L):
            yp = ((iy + 1) % L) * L
            ym = ((iy - 1 + L) % L) * L
            row = ix * n2 + iy * L
            for iz in range(L):
                zp = iz + 1 if iz + 1 < L else 0
                zm = iz - 1 if iz > 0 else L - 1
                i = row + iz
                jxm = xm + iy * L + iz
                jym = ix * n2 + ym + iz
                jzm = row + zm
                hop = (bonds[0, i] * x[xp + iy * L + iz] + bonds[0, jxm] * x[jxm]
                       + bonds[1, i] * x[ix * n2 + yp + iz] + bonds[1, jym] * x[jym]
                       + bonds[2, i] * x[row + zp] + bonds[2, jzm] * x[jzm])
                v = 2.0 * inv_a * (eps[i] * x[i] - hop) - y[i]
                y[i] = v
                yy += v * v
                yx += v * x[i]
    return yy, yx


def cheb_step(h: Realization, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """y <- 2 (H/a) x - y in place; returns (<y|y>, <y|x>) of the new y."""
    if h.bonds is None:
        return _cheb_step_uniform(h.L, h.eps, h.t, 1.0 / h.scale, x, y)
    return _cheb_step_bonds(h.L, h.eps, h.bonds, 1.0 / h.scale, x, y)


def dense_hamiltonian(h: Realization) -> np.ndarray:
    """The same H as a dense matrix (for checks at small L).  At L = 2 the two neighbours along an axis
    are one site, and this matrix, like the H.v kernel, counts that bond twice."""
    L, n = h.L, h.n_sites
    H = np.diag(h.eps.astype(float))
    idx = np.arange(n).reshape(L, L, L)
    for d in range(3):
        nb = np.roll(idx, -1, axis=d).ravel()
        tb = np.full(n, h.t) if h.bonds is None else h.bonds[d]
        np.add.at(H, (idx.ravel(), nb), -tb)
        np.add.at(H, (nb, idx.ravel()), -tb)
    return H


def memory_bytes(L: int, t_spread: float) -> int:
    """Peak bytes of one vector task: eps, two recursion vectors, a start copy, bonds if random."""
    n = L ** 3
    return int(8 * n * (4 + (3 if t_spread > 0 else 0)))
