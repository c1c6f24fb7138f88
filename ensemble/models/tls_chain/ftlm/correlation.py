"""From the current correlation C(t) on t_j = j dt to sigma_delta(omega), as FTLM defines it.

FTLM filters sigma = pi f(w) C(w), f(w) = (1 - e^{-beta w})/w, with a Gaussian of std delta AFTER
applying f per transition.  By detailed balance C(-w) = e^{-beta w} C(w), f C has two exact forms,
    f C = (2/w) C_a(w)                      (commutator, C_a = [C(w) - C(-w)]/2 <- i Im C(t)),
    f C = (2/w) tanh(beta w/2) C_s(w)       (anticommutator, C_s = [C(w) + C(-w)]/2 <- Re C(t)).
Their typicality noise differs: at high T, C(w) and C(-w) of one vector fluctuate together and
cancel in C_a (why FTLM's (p_i - q_k) form is quiet there), while the commutator form needs
arbitrarily long times at w -> 0 (1/w) and misses the w = 0 (degenerate-pair) weight.  So
    pi f C = lam(w) (2 pi/w) C_a + (1 - lam(w)) (2 pi/w) tanh(beta w/2) C_s,  lam = 1 - e^{-w^2/2 w_c^2},
w_c = 3 delta: the anticommutator only below ~2 w_c, where it carries the w = 0 weight.  With
C(-t) = conj C(t) the Gaussian filter becomes a time-domain sum
    sigma_delta(w) = 2 sum_j' [Re C(t_j) K_s(w, t_j) - Im C(t_j) K_a(w, t_j)] dt,
    K_s = int G(w - w') m_s(w') cos(w' t) dw',  K_a = int G(w - w') m_a(w') sin(w' t) dw',
(m_s, m_a the two multipliers), done by Gauss-Hermite quadrature; both decay like the window
e^{-(delta t)^2/2} (multipliers smooth on scales >= w_c), so C(t) up to 4/delta suffices.
"""
from __future__ import annotations

import numpy as np

N_HERMITE = 32
CROSSOVER = 3.0  # w_c / delta


def _multipliers(w, beta, wc):
    """pi m_s = pi (1 - lam) tanh(beta w/2)/w and pi m_a = pi lam/w (even, resp. odd) as (m_s, m_a).

    sigma = 2 int G (pi m_s C_s + pi m_a C_a) dw' and C_s(w') = (1/pi) int_0^inf Re C cos(w't) dt:
    the two pi cancel, so the kernels carry m_s, m_a and the factor 2.
    """
    small = np.abs(w) < 1e-8
    safe = np.where(small, 1.0, w)
    lam = -np.expm1(-0.5 * (w / wc) ** 2)
    m_s = np.where(small, 0.5 * beta, (1 - lam) * np.tanh(0.5 * beta * w) / safe)
    m_a = np.where(small, 0.5 * w / wc**2, lam / safe)
    return m_s, m_a


def sigma_kernels(omega: np.ndarray, t: np.ndarray, beta: float, delta: float):
    """(K_s, K_a) with trapezoid dt-weights (half at t = 0) and the factor 2: shapes (w, t)."""
    y, wh = np.polynomial.hermite.hermgauss(N_HERMITE)
    x = np.sqrt(2.0) * delta * y  # nodes of int G_delta(x) ... dx
    wts = wh / np.sqrt(np.pi)
    dt = t[1] - t[0] if len(t) > 1 else 1.0
    tw = np.full(len(t), 2 * dt)
    tw[0] *= 0.5
    ks = np.zeros((len(omega), len(t)))
    ka = np.zeros((len(omega), len(t)))
    for xj, wj in zip(x, wts):
        wp = omega + xj
        m_s, m_a = _multipliers(wp, beta, CROSSOVER * delta)
        rot = np.exp(1j * np.outer(wp, t))
        ks += (wj * m_s)[:, None] * rot.real
        ka += (wj * m_a)[:, None] * rot.imag
    return ks * tw, ka * tw


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
