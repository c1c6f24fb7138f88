"""Fits used by finalize/plots: power law, stretched exponential, double-exponential in N (App. E)."""
from __future__ import annotations

import numpy as np


def power_law_exponent(t: np.ndarray, C: np.ndarray, tmin: float, tmax: float) -> float:
    """beta of C ~ t^-beta by least squares of log C on log t over tmin <= t <= tmax (nan if < 3 points)."""
    m = (t >= tmin) & (t <= tmax) & (C > 0)
    if m.sum() < 3:
        return np.nan
    return -np.polyfit(np.log(t[m]), np.log(C[m]), 1)[0]


def linear_rise_slope(t: np.ndarray, C: np.ndarray, tmax: float) -> float:
    """Exponent of C ~ t^k for t <= tmax (should be 1: linear rise)."""
    return -power_law_exponent(t, C, 0.0, tmax)


def double_exp_in_N(N: np.ndarray, C: np.ndarray):
    """a, b of <C> = exp(-a 2^(b N)) from log2(-ln C) = log2 a + b N (App. E)."""
    y = np.log2(-np.log(np.asarray(C)))
    p, cov = np.polyfit(np.asarray(N, float), y, 1, cov=True) if len(N) > 3 else (np.polyfit(N, y, 1), np.zeros((2, 2)))
    return 2.0 ** p[1], p[0], np.sqrt(np.diag(cov))


def stretched_exp(t, amp, t0, tau, delta):
    return amp * np.exp(-(((t + t0) / tau) ** delta))


def fit_stretched(t: np.ndarray, y: np.ndarray):
    """(amp, t0, tau, delta) of amp exp(-((t + t0)/tau)^delta) (Fig. 8)."""
    from scipy.optimize import curve_fit

    m = np.isfinite(y) & (y > 0)
    p0 = (y[m][0], 0.0, t[m][np.argmin(np.abs(y[m] - y[m][0] / np.e))], 0.5)
    p, _ = curve_fit(stretched_exp, t[m], y[m], p0=p0, bounds=([0, 0, 1e-12, 0.01], [np.inf, np.inf, np.inf, 5]),
                     maxfev=20000)
    return p
