"""Relaxation-time approximation of seed 001, Sec. IV, Eqs. (3)-(5), acting on a tabulated sigma_static(w).

sigma_static is given on the bin-centred grid w_j = (j + 1/2) dw, j >= 0 (midpoint rule), and is
even in w.  Pass the raw binned spectrum: the Lorentzian of half-width p smooths it, while a prior
smoothing of width >~ p would fill the |w| dip at w -> 0 that Eq. (4) probes.  Units as in ``common``.
"""
from __future__ import annotations

import numpy as np


def _thermal_factor(w, temp):
    """w / tanh(w/2T), -> 2T at w = 0."""
    w = np.asarray(w, float)
    x = w / (2.0 * temp)
    small = np.abs(x) < 1e-8
    return np.where(small, 2.0 * temp, w / np.tanh(np.where(small, 1.0, x)))


def _grid(n, dw):
    return (np.arange(n) + 0.5) * dw


def rta_dc(sigma_static, dw: float, temp: float, p: float) -> float:
    """Eq. (4): sigma_dc = p/(pi T) int_0^inf w/tanh(w/2T) sigma_static(w)/(w^2 + p^2) dw."""
    w = _grid(len(sigma_static), dw)
    f = _thermal_factor(w, temp) * sigma_static / (w**2 + p**2)
    return float(p / (np.pi * temp) * dw * np.sum(f))


def rta_sigma(sigma_static, dw: float, temp: float, p: float, omega_out):
    """Eq. (3): Lorentzian (half-width p) convolution of w/tanh(w/2T) sigma_static over all w'."""
    w = _grid(len(sigma_static), dw)
    g = _thermal_factor(w, temp) * sigma_static * dw
    wo = np.asarray(omega_out, float)[:, None]
    lor = p / ((wo - w) ** 2 + p**2) + p / ((wo + w) ** 2 + p**2)   # w' > 0 and its mirror w' < 0
    conv = (lor * g).sum(axis=1) / np.pi
    return conv / _thermal_factor(wo[:, 0], temp)


def eq5(omega0, a, omega_bar):
    """Eq. (5): sigma_dc = A w0 log(w_bar/w0) / (1 - (w0/w_bar)^2)."""
    r = np.asarray(omega0, float) / omega_bar
    near = np.abs(r - 1.0) < 1e-9
    val = a * omega0 * np.log(1.0 / np.where(near, 0.5, r)) / (1.0 - np.where(near, 0.5, r) ** 2)
    return np.where(near, a * omega_bar / 2.0, val)


def fit_eq5(omega0, sigma_dc):
    """Least-squares (in log sigma) fit of Eq. (5); returns (A, omega_bar) or (nan, nan)."""
    from scipy.optimize import least_squares

    x, y = np.asarray(omega0, float), np.asarray(sigma_dc, float)
    ok = (x > 0) & (y > 0) & np.isfinite(y)
    if ok.sum() < 2:
        return np.nan, np.nan
    x, y = x[ok], y[ok]

    def resid(q):
        return np.log(eq5(x, np.exp(q[0]), np.exp(q[1]))) - np.log(y)

    q0 = [np.log(y[0] / x[0]), np.log(max(1.5 * x.max(), 0.5))]
    try:
        sol = least_squares(resid, q0)
    except ValueError:
        return np.nan, np.nan
    return float(np.exp(sol.x[0])), float(np.exp(sol.x[1]))
