"""From the current correlation C(t) on t_j = j dt to sigma_delta(omega), as FTLM defines it.

FTLM filters sigma = pi f(w) C(w), f(w) = (1 - e^{-beta w})/w, with a Gaussian of std delta AFTER
applying f per transition.  By detailed balance C(-w) = e^{-beta w} C(w), so f C has three exact
forms: f C itself, the commutator (2/w) C_a and the anticommutator (2/w) tanh(beta w/2) C_s, with
C_s = [C(w) + C(-w)]/2 from Re C(t) and C_a = [C(w) - C(-w)]/2 from i Im C(t).  They differ in
typicality noise: one vector's Im C(t) = <psi|[J(t), J]|psi>/2i fluctuates by ~ |C|/sqrt(D_eff)
while its thermal value is O(beta), so the commutator form is noisy at high T (measured: 10-30x
the FTLM error at T = 3), f C carries half of that noise, and the anticommutator form none: its
noise is beta-suppressed like FTLM's (p_i - q_k) weights.  It also holds the w = 0 (degenerate
pair) weight: tanh(beta w/2)/w -> beta/2.  So
    sigma_delta(w) = int G_delta(w - w') (2 pi/w') tanh(beta w'/2) C_s(w') dw'
                   = 2 sum_j' Re C(t_j) K(w, t_j) dt,   K(w, t) = int G_delta(w - w') tanh(beta w'/2)/w' cos(w't) dw'
(C_s(w') = (1/pi) int_0^inf Re C(t) cos(w't) dt; the pi cancel), K by Gauss-Hermite quadrature.
tanh(beta w/2)/w is analytic for |Im w| < pi/beta, so K decays like the window e^{-(delta t)^2/2}
for t < pi/(beta delta^2) (196 at T = 0.1, delta = 0.04): C(t) up to t_max = 4/delta suffices.
"""
from __future__ import annotations

import numpy as np

N_HERMITE = 32


def _multiplier(w, beta):
    """tanh(beta w/2)/w (even, -> beta/2 at w = 0)."""
    small = np.abs(w) < 1e-8
    return np.where(small, 0.5 * beta, np.tanh(0.5 * beta * w) / np.where(small, 1.0, w))


def sigma_kernel(omega: np.ndarray, t: np.ndarray, beta: float, delta: float) -> np.ndarray:
    """K(w, t_j) with trapezoid dt-weights (half at t = 0) and the factor 2: sigma = K @ Re C, shape (w, t)."""
    y, wh = np.polynomial.hermite.hermgauss(N_HERMITE)
    x = np.sqrt(2.0) * delta * y  # nodes of int G_delta(x) ... dx
    wts = wh / np.sqrt(np.pi)
    dt = t[1] - t[0] if len(t) > 1 else 1.0
    tw = np.full(len(t), 2 * dt)
    tw[0] *= 0.5
    ker = np.zeros((len(omega), len(t)))
    for xj, wj in zip(x, wts):
        wp = omega + xj
        ker += (wj * _multiplier(wp, beta))[:, None] * np.cos(np.outer(wp, t))
    return ker * tw


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
