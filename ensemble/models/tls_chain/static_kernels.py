"""Exact one-particle Kubo conductivity of an open chain with site energies (seed 001, Sec. II at omega0 = 0).

H = -t sum_i (c+_{i+1} c_i + h.c.) + sum_i eps_i n_i, current J = i t sum_i (c+_{i+1} c_i - h.c.).
Per particle (one electron, Boltzmann weights p_n = e^{-E_n/T}/Z), for w > 0,

    sigma(w) = pi (1 - e^{-w/T})/w sum_{n<m} p_n |J_nm|^2 delta(w - (E_m - E_n))

(the n > m terms give the same at -w).  The f-sum rule reads int_0^inf sigma = (pi/2) <-K>.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import eigh_tridiagonal


def diagonalize(eps, t: float):
    """Eigenvalues and eigenvectors (columns) of the open chain."""
    return eigh_tridiagonal(np.asarray(eps, float), np.full(len(eps) - 1, -t))


def current_sq(vecs, t: float):
    """|J_nm|^2 in the eigenbasis (real eigenvectors)."""
    a = vecs[1:].T @ vecs[:-1]
    return (t * (a - a.T)) ** 2


def kinetic_diag(vecs, t: float):
    """<n|K|n> with K = -t sum (c+_{i+1} c_i + h.c.)."""
    return -2.0 * t * np.einsum("in,in->n", vecs[:-1], vecs[1:])


def sigma_histogram(energies, jsq, temps, dw: float, nbins: int):
    """sigma(w) per particle binned on [0, nbins*dw) (density per unit w), one row per temperature.

    Pairs beyond the last bin are dropped; the caller sizes nbins to the spectrum width.
    """
    n = len(energies)
    iu, ju = np.triu_indices(n, k=1)
    w = energies[ju] - energies[iu]
    bins = np.minimum((w / dw).astype(np.int64), nbins)
    jw = jsq[iu, ju]
    out = np.zeros((len(temps), nbins))
    for k, temp in enumerate(temps):
        pn = np.exp(-(energies - energies[0]) / temp)
        pn /= pn.sum()
        x = w / temp
        fac = np.where(x < 1e-10, 1.0 / temp, -np.expm1(-x) / np.where(w > 0, w, 1.0))
        out[k] = np.bincount(bins, np.pi * pn[iu] * fac * jw, minlength=nbins + 1)[:nbins] / dw
    return out


def thermal_kinetic(energies, kin, temps):
    """<-K> at each temperature."""
    res = []
    for temp in temps:
        pn = np.exp(-(energies - energies[0]) / temp)
        res.append(-np.sum(pn * kin) / pn.sum())
    return np.asarray(res)
