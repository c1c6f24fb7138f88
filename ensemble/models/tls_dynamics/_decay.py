"""Decay exponent beta of C(t) ~ t^-beta (seed 004, Fig. 3 inset and Fig. 9b): windows, fits, 1/N extrapolation.

The power law of the paper holds between t1 (N-independent, after the maximum) and t2(N), where the decay
meets the plateau C(inf) ~ e^{-alpha N}; t2 grows with N.  A fit over a fixed window therefore reaches the
plateau at small N (and flattens there), while subtracting the plateau or stopping at t2(N) does not.

* ``fit_power_law``: least squares of ln(C - plateau) on ln t over a window (weighted, with chi^2, when
  errors are given; unweighted as the finalize estimates, whose errors come from the jackknife).
* ``paper_window_end``: t2(N) of the paper's window rule, as used here: the last time after t1 at which
  the decay is still ``PLATEAU_MARGIN`` times above the plateau and resolved (relative statistical error
  below ``MAX_REL_ERR`` and above the concurrence floor), the run of such times starting at t1.
* ``local_slopes``: -d ln C / d ln t on the grid (a power law is a constant).
* ``extrapolate_inverse_N``: beta(N) = beta_inf + b/N by weighted least squares, with chi^2.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PLATEAU_MARGIN = 2.0    # t2(N): C(t) - C(inf) still >= 2 C(inf) (at N = 8 the maximum is only ~9 C(inf))
MAX_REL_ERR = 0.2       # t2(N): standard error of C(t) - C(inf) at most 20 % of it


@dataclass
class LineFit:
    """y = a + b x by weighted least squares; errors from the inverse normal matrix (statistical only)."""

    a: float
    b: float
    a_err: float
    b_err: float
    chi2: float
    dof: int


def fit_line(x: np.ndarray, y: np.ndarray, err: np.ndarray) -> LineFit:
    x, y, err = (np.asarray(v, float) for v in (x, y, err))
    w = 1.0 / err ** 2
    A = np.stack([np.ones_like(x), x], 1)
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    a, b = cov @ (A.T @ (w * y))
    chi2 = float((w * (y - a - b * x) ** 2).sum())
    return LineFit(float(a), float(b), float(np.sqrt(cov[0, 0])), float(np.sqrt(cov[1, 1])), chi2, len(x) - 2)


def fit_power_law(t: np.ndarray, C: np.ndarray, tmin: float, tmax: float, plateau: float = 0.0,
                  err: np.ndarray | None = None) -> LineFit | None:
    """ln(C - plateau) = a - beta ln t over tmin <= t <= tmax (b = -beta); None with fewer than 3 usable times.

    err, if given, is the standard error of C at each time and weights the fit; times are correlated (same
    realizations), so that chi^2 measures the shape, not an independent-sample goodness of fit.
    """
    y = C - plateau
    e = np.ones_like(y) if err is None else err / np.where(y > 0, y, 1.0)
    m = (t >= tmin) & (t <= tmax) & (y > 0) & (e > 0)
    if m.sum() < 3:
        return None
    return fit_line(np.log(t[m]), np.log(y[m]), e[m])


def beta_of(fit: LineFit | None) -> float:
    return np.nan if fit is None else -fit.b


def paper_window_end(t: np.ndarray, C: np.ndarray, err: np.ndarray, plateau: float, t1: float,
                     floor: float) -> float:
    """t2(N): end of the contiguous run of times from t1 on where the decay is resolved above the plateau."""
    y = C - plateau
    ok = (y >= PLATEAU_MARGIN * max(plateau, 0.0)) & (err <= MAX_REL_ERR * y) & (C > floor)
    start = np.searchsorted(t, t1)
    end = start
    while end < len(t) and ok[end]:
        end += 1
    return float(t[end - 1]) if end > start else np.nan


def local_slopes(t: np.ndarray, C: np.ndarray) -> np.ndarray:
    """-d ln C / d ln t at every grid time (second-order differences; nan where C <= 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lnC = np.where(C > 0, np.log(np.where(C > 0, C, 1.0)), np.nan)
    return -np.gradient(lnC, np.log(t))


def extrapolate_inverse_N(N: np.ndarray, beta: np.ndarray, err: np.ndarray) -> LineFit:
    """beta(N) = beta_inf + b/N; beta_inf = .a with error .a_err, the fit's chi^2 over .dof."""
    return fit_line(1.0 / np.asarray(N, float), beta, err)
