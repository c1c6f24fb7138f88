"""Matrix-free H and current J of one electron + TLS chain in a total-momentum sector.

Lab basis |x, s> (electron on site x, TLS bit i = 1 <=> sigma^z_i = +1, the excited level).
Sector basis |K, u> = N^-1/2 sum_x e^{iKx} |x, rotl(u, x)>: bit j of u is the TLS at distance j
ahead of the electron, so bit 0 is the TLS on the electron's site.  In this frame

    (H v)[u] = (w0/2)(2 popcount(u) - N) v[u] - g v[u ^ 1]
               - t e^{-iK} v[rotl(u)] - t e^{+iK} v[rotr(u)],
    (J v)[u] = i t (e^{-iK} v[rotl(u)] - e^{+iK} v[rotr(u)]),        J = dH/dK = -dH/dA,

i.e. the lab-frame J = i t sum_x (c+_{x+1} c_x - c+_x c_{x+1}) (particle current, e = a = 1).
PBC: K = 2 pi k / N; a boundary twist phi is K -> K + phi/N (any real K is a valid twisted
chain).  Units t = 1 (fixed), energies in t.  The 2^N amplitudes per sector are complex128.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _popcount(x):
    # SWAR bit count (64-bit), branch-free so the gather loop vectorizes
    x = x - ((x >> 1) & 0x5555555555555555)
    x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333)
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0F
    return (x * 0x0101010101010101) >> 56


@njit(cache=True, parallel=True)
def apply_h(v, out, n, k, g, w0):
    """out = H_K v (overwrites out)."""
    mask = (1 << n) - 1
    top = n - 1
    ef = np.exp(-1j * k)  # forward hop amplitude phase (electron x -> x+1)
    eb = np.exp(1j * k)
    for u in prange(v.shape[0]):
        pc = _popcount(u)
        left = ((u << 1) | (u >> top)) & mask
        right = (u >> 1) | ((u & 1) << top)
        out[u] = (0.5 * w0 * (2 * pc - n)) * v[u] - g * v[u ^ 1] - ef * v[left] - eb * v[right]


@njit(cache=True, parallel=True)
def apply_j(v, out, n, k):
    """out = J_K v (overwrites out)."""
    mask = (1 << n) - 1
    top = n - 1
    ef = 1j * np.exp(-1j * k)
    eb = 1j * np.exp(1j * k)
    for u in prange(v.shape[0]):
        left = ((u << 1) | (u >> top)) & mask
        right = (u >> 1) | ((u & 1) << top)
        out[u] = ef * v[left] - eb * v[right]


@njit(cache=True, parallel=True)
def apply_hkin(v, out, n, k):
    """out = H_kin,K v, the hopping part of H (kinetic energy operator)."""
    mask = (1 << n) - 1
    top = n - 1
    ef = np.exp(-1j * k)
    eb = np.exp(1j * k)
    for u in prange(v.shape[0]):
        left = ((u << 1) | (u >> top)) & mask
        right = (u >> 1) | ((u & 1) << top)
        out[u] = -ef * v[left] - eb * v[right]


def energy_floor(n: int, g: float, w0: float) -> float:
    """A rigorous lower bound of the spectrum, -2t - g - N w0/2 (norm bound of each term).

    Used as the fixed energy reference of Boltzmann factors, identical for every member; the true
    ground energy lies within g of it (trial state: all TLS down, electron at k = 0).
    """
    return -2.0 - g - 0.5 * n * w0


def sector_dim(n: int) -> int:
    return 1 << n


def dense_operator(apply, n: int, *args) -> np.ndarray:
    """Dense matrix of a sector operator by applying it to unit vectors (small n only, for tests)."""
    d = 1 << n
    mat = np.zeros((d, d), dtype=np.complex128)
    e = np.zeros(d, dtype=np.complex128)
    col = np.empty(d, dtype=np.complex128)
    for c in range(d):
        e[:] = 0.0
        e[c] = 1.0
        apply(e, col, n, *args)
        mat[:, c] = col
    return mat


def csr_h(n: int, k: float, g: float, w0: float):
    """scipy CSR matrix of H_K built with vectorized index arithmetic (benchmark reference)."""
    import scipy.sparse as sp

    d = 1 << n
    u = np.arange(d, dtype=np.int64)
    pc = np.zeros(d, dtype=np.int64)
    x = u.copy()
    for _ in range(n):
        pc += x & 1
        x >>= 1
    mask = d - 1
    left = ((u << 1) | (u >> (n - 1))) & mask
    right = (u >> 1) | ((u & 1) << (n - 1))
    rows = np.concatenate([u, u, u, u])
    cols = np.concatenate([u, u ^ 1, left, right])
    vals = np.concatenate([
        (0.5 * w0 * (2 * pc - n)).astype(np.complex128),
        np.full(d, -g, dtype=np.complex128),
        np.full(d, -np.exp(-1j * k)),
        np.full(d, -np.exp(1j * k)),
    ])
    return sp.csr_matrix((vals, (rows, cols)), shape=(d, d))
