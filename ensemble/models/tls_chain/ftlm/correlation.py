"""From the current correlation C(t) on t_j = j dt to sigma_delta(omega), exactly as FTLM defines it.

FTLM filters sigma = pi f(w) C(w), f(w) = (1 - e^{-beta w})/w, with a Gaussian of std delta AFTER
applying f per transition.  With C(t) = int C(w) e^{-iwt} dw and f(w) = int_0^beta e^{-lam w} dlam
the Gaussian integral over w is closed:
    sigma_delta(w) = Re int_0^inf C(t) K_w(t) dt,
    K_w(t) = e^{iwt - delta^2 t^2/2} I(w + i delta^2 t),  I(b) = int_0^beta e^{delta^2 lam^2/2 - b lam} dlam,
(C(-t) = conj C(t) for the thermal trace), and I in closed form with the Dawson function D:
    I(b) = [e^{A beta^2 - b beta} D(sqrt(A)(beta - c)) + D(sqrt(A) c)] / sqrt(A),  A = delta^2/2, c = b/(2A).
K_w decays like the window e^{-delta^2 t^2/2}, so no deconvolution and no extrapolation of C(t)
is needed; the w = 0 (degenerate-pair) weight pi beta C_inf is included as in FTLM.
"""
from __future__ import annotations

import numpy as np
from scipy.special import dawsn


def _lambda_integral(b, beta: float, delta: float):
    a = 0.5 * delta * delta
    sa = np.sqrt(a)
    c = b / (2 * a)
    return (np.exp(a * beta * beta - b * beta) * dawsn(sa * (beta - c)) + dawsn(sa * c)) / sa


def sigma_kernel(omega: np.ndarray, t: np.ndarray, beta: float, delta: float) -> np.ndarray:
    """K_w(t) dt-weights for the trapezoid sum over t_j (half weight at t = 0): shape (w, t)."""
    dt = t[1] - t[0] if len(t) > 1 else 1.0
    w = omega[:, None]
    tt = t[None, :]
    ker = np.exp(1j * w * tt - 0.5 * (delta * tt) ** 2) * _lambda_integral(w + 1j * delta * delta * tt, beta, delta)
    ker *= dt
    ker[:, 0] *= 0.5
    return ker


def sigma(corr: np.ndarray, dt: float, omega: np.ndarray, betas: np.ndarray, delta: float) -> np.ndarray:
    """sigma_delta(w) per temperature from corr (T, n_t + 1) = C(t_j) / Z."""
    t = dt * np.arange(corr.shape[1])
    keep = t <= 6.0 / delta  # the window is below 1e-7 beyond
    out = np.empty((len(betas), len(omega)))
    for i, beta in enumerate(betas):
        out[i] = (sigma_kernel(omega, t[keep], beta, delta) @ corr[i, keep]).real
    return out


def spectrum_integral(corr: np.ndarray, dt: float, delta: float) -> np.ndarray:
    """int C_delta(w) dw over one period 2 pi/dt of the sampled transform (the current sum rule).

    C_delta(w) = (dt/2 pi) sum_j' 2 Re[C(t_j) e^{-delta^2 t_j^2/2} e^{iwt_j}] on a uniform w grid
    that resolves the period exactly; the integral is C(0) up to round-off.
    """
    n = corr.shape[1]
    t = dt * np.arange(n)
    m = 2 * n + 1
    omega = 2 * np.pi / dt * (np.arange(m) / m - 0.5)
    wts = np.full(n, dt / (2 * np.pi))
    wts[0] *= 0.5
    phase = np.exp(1j * omega[:, None] * t[None, :]) * (wts * np.exp(-0.5 * (delta * t) ** 2))[None, :]
    spec = 2 * (phase @ corr.T).real  # (w, T)
    return spec.sum(axis=0) * (2 * np.pi / dt) / m


def peak_position(omega: np.ndarray, sig: np.ndarray, wmin: float) -> np.ndarray:
    """Maximum of sigma_delta above wmin, refined by a parabola through the grid maximum; NaN at wmin."""
    start = int(np.searchsorted(omega, wmin - 1e-12))
    out = np.full(sig.shape[0], np.nan)
    h = omega[1] - omega[0]
    for i, row in enumerate(sig):
        j = start + int(np.argmax(row[start:]))
        if j == start or j == len(omega) - 1:
            continue
        y0, y1, y2 = row[j - 1], row[j], row[j + 1]
        den = y0 - 2 * y1 + y2
        out[i] = omega[j] + (0.5 * h * (y0 - y2) / den if den < 0 else 0.0)
    return out
