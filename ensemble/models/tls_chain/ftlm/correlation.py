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
(C_s(w') = (1/pi) int_0^inf Re C(t) cos(w't) dt; the pi cancel).
tanh(beta w/2)/w is analytic for |Im w| < pi/beta, so K decays like the window e^{-(delta t)^2/2}
for t < pi/(beta delta^2) (196 at T = 0.1, delta = 0.04): C(t) up to t_max = 4/delta suffices.
The time grid runs to 4/delta_min, so a wider filter (sigma at delta = 0.04 beside rho at 0.008) needs
K at delta t up to 20, where K ~ e^{-200}: the w'-integral is a trapezoid sum on a uniform grid fine
enough to resolve cos(w't) there (a fixed 32-node Gauss-Hermite rule is off by O(1) beyond delta t ~ 6,
and that error multiplies the undamped long-time C(t) of a small ring).
"""
from __future__ import annotations

import numpy as np

FILTER_HALF_WIDTH = 9.0  # the w'-grid spans +-9 delta: the Gaussian is e^{-40.5} at its ends
ALIAS_EXPONENT = 35.0  # the grid step keeps the aliased images of K below ~e^{-35} (1e-15) of K(w, 0)
KERNEL_ROWS = 256  # frequencies per block of the kernel product


def _multiplier(w, beta):
    """tanh(beta w/2)/w (even, -> beta/2 at w = 0)."""
    small = np.abs(w) < 1e-8
    return np.where(small, 0.5 * beta, np.tanh(0.5 * beta * w) / np.where(small, 1.0, w))


def filter_nodes(t_max: float, beta: float, delta: float):
    """Nodes x and weights of int G_delta(x) F(x) dx for F = tanh/w times cos(w' t), t <= t_max.

    Trapezoid sum with step 2 pi / (t_max + D): its error is the transform of the integrand at a
    distance >= D from the band |tau| <= t_max, i.e. ~ e^{-(delta D)^2/2} from the Gaussian and
    ~ e^{-pi T D/2} from the poles of tanh(beta w/2) at +-i pi T; D makes both ~ e^{-ALIAS_EXPONENT}.
    """
    reach = max(np.sqrt(2 * ALIAS_EXPONENT) / delta, 2 * ALIAS_EXPONENT * beta / np.pi)
    step = 2 * np.pi / (t_max + reach)
    half = int(np.ceil(FILTER_HALF_WIDTH * delta / step))
    x = step * np.arange(-half, half + 1)
    return x, step * np.exp(-0.5 * (x / delta) ** 2) / (np.sqrt(2 * np.pi) * delta)


def sigma_kernel(omega: np.ndarray, t: np.ndarray, beta: float, delta: float) -> np.ndarray:
    """K(w, t_j) with trapezoid dt-weights (half at t = 0) and the factor 2: sigma = K @ Re C, shape (w, t).

    cos((w + x) t) = Re[e^{iwt} e^{ixt}] makes the node sum one matrix product per kernel.
    """
    omega = np.asarray(omega, dtype=float)
    x, wx = filter_nodes(float(t[-1]), beta, delta)
    dt = t[1] - t[0] if len(t) > 1 else 1.0
    tw = np.full(len(t), 2 * dt)
    tw[0] *= 0.5
    phase = np.exp(1j * np.outer(x, t))  # (x, t)
    ker = np.empty((len(omega), len(t)))
    for a in range(0, len(omega), KERNEL_ROWS):  # row blocks bound the complex temporaries
        w = omega[a:a + KERNEL_ROWS]
        inner = (wx[None, :] * _multiplier(w[:, None] + x[None, :], beta)) @ phase
        ker[a:a + KERNEL_ROWS] = (np.exp(1j * np.outer(w, t)) * inner).real * tw
    return ker


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
