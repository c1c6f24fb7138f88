"""Numba kernels over impurity pairs: couplings U_ij and the minimal stable S energies E_S^min.

Convention (seed 002, App. B2): U_ij couples S_i to tau_j, E_tau_j = h_j + sum_{i != j} U_ij,
tau spins with E_tau < 0 are flipped (E_tau -> |E_tau|, U_ij -> sign(E_tau_j) U_ij), and
E_S^min_i = max_{j != i} (2 U_ij - E_tau_j), the smallest E with prod_j Theta(E + E_tau_j - 2U_ij) > 0.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def couplings_inplace(c, pos, L, a3, J):
    """Overwrite the Gaussian matrix c[i, j] with U_ij = c_ij J / (R_ij^3 + a~^3); zero diagonal."""
    n = pos.shape[0]
    for i in range(n):
        for j in range(n):
            if i == j:
                c[i, j] = 0.0
                continue
            r2 = 0.0
            for k in range(3):
                d = pos[i, k] - pos[j, k]
                d -= L * np.rint(d / L)
                r2 += d * d
            c[i, j] *= J / (r2 * np.sqrt(r2) + a3)
    return c


@njit(cache=True)
def e_s_min(U, e_tau, s_spin):
    """E_S^min_i = max_{j != i} (2 sign(e_tau_j) s_i U_ij - |e_tau_j|) for signed, unflipped e_tau and the
    S configuration s_i = +-1 (App. B2's c'_ij = c_ij S_i^z; all +1 when c_ij absorbs it)."""
    n = U.shape[0]
    out = np.empty(n)
    for i in range(n):
        best = -np.inf
        for j in range(n):
            if j == i:
                continue
            s = s_spin[i] if e_tau[j] >= 0.0 else -s_spin[i]
            v = 2.0 * s * U[i, j] - abs(e_tau[j])
            if v > best:
                best = v
        out[i] = best
    return out


@njit(cache=True)
def tau_fields(U, s_spin):
    """Field-free E_tau_j = sum_i s_i U_ij, summed in row order (the same bits on every machine and thread count)."""
    n = U.shape[0]
    out = np.zeros(U.shape[1])
    for i in range(n):
        for j in range(U.shape[1]):
            out[j] += s_spin[i] * U[i, j]
    return out
