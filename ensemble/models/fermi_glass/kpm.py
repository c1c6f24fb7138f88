"""Kernel polynomial method: Chebyshev moments, kernels, and the reconstructed density.

Moments mu_n = <r|T_n(H~)|r> with H~ = H/a come two per matrix-vector product:
mu_2n = 2<a_n|a_n> - mu_0, mu_2n+1 = 2<a_n+1|a_n> - mu_1 (a_n = T_n(H~) r).
Moments are plain sums over start vectors (additive), so the kernel and the number of moments
used are chosen afterwards.  Densities are per site and per energy unit of H.
"""
from __future__ import annotations

import numpy as np
from scipy.fft import dct

from .lattice import Realization, cheb_step


def moments(h: Realization, r: np.ndarray, n_moments: int) -> np.ndarray:
    """mu_0..mu_{n_moments-1} of start vector r (n_moments even); r is not modified."""
    if n_moments % 2:
        raise ValueError("n_moments must be even")
    mu = np.empty(n_moments)
    a0 = np.array(r, dtype=np.float64)
    a1 = np.zeros_like(a0)
    yy, yx = cheb_step(h, a0, a1)           # a1 = 2 H~ r
    a1 *= 0.5
    mu[0] = float(a0 @ a0)
    mu[1] = 0.5 * yx
    if n_moments > 2:
        mu[2] = 2 * 0.25 * yy - mu[0]
    x, y = a1, a0                              # x = a_n, y = a_{n-1}
    for n in range(1, n_moments // 2):
        yy, yx = cheb_step(h, x, y)            # y = a_{n+1}
        mu[2 * n + 1] = 2 * yx - mu[1]
        if 2 * n + 2 < n_moments:
            mu[2 * n + 2] = 2 * yy - mu[0]
        x, y = y, x
    return mu


def random_vector(rng: np.random.Generator, n: int, kind: str) -> list[np.ndarray]:
    """Start vectors whose <r|A|r>/n estimates Tr A / n without bias.  A random-phase vector
    e^{i phi} of a real symmetric A is the pair (cos phi, sin phi) of real vectors."""
    if kind == "rademacher":
        return [rng.choice(np.array([-1.0, 1.0]), n)]
    phi = rng.uniform(0.0, 2 * np.pi, n)
    return [np.cos(phi), np.sin(phi)]


def kernel(n_moments: int, name: str, lorentz_lambda: float = 4.0) -> np.ndarray:
    """Damping factors g_n (Weisse et al., Rev. Mod. Phys. 78, 275 (2006), Eqs. 71 and 74)."""
    n = np.arange(n_moments)
    N = n_moments
    if name == "jackson":
        q = np.pi / (N + 1)
        return ((N - n + 1) * np.cos(q * n) + np.sin(q * n) / np.tan(q)) / (N + 1)
    if name == "lorentz":
        return np.sinh(lorentz_lambda * (1 - n / N)) / np.sinh(lorentz_lambda)
    if name == "dirichlet":
        return np.ones(N)
    raise ValueError(f"unknown kernel {name!r}")


def resolution(n_moments: int, scale: float, name: str, lorentz_lambda: float = 4.0) -> float:
    """Energy resolution at the band centre: Jackson Gaussian sigma = pi a / N, Lorentz width
    lambda a / N (Weisse et al., Sec. II.C)."""
    return (np.pi if name == "jackson" else lorentz_lambda) * scale / n_moments


def chebyshev_matrix(x: np.ndarray, n_moments: int) -> np.ndarray:
    """T_n(x) for n < n_moments, shape (n_moments, len(x))."""
    return np.cos(np.outer(np.arange(n_moments), np.arccos(np.clip(x, -1, 1))))


def density_on(energies: np.ndarray, mu: np.ndarray, g: np.ndarray, scale: float, tn: np.ndarray | None = None):
    """rho(E) = [g0 mu0 + 2 sum g_n mu_n T_n(E/a)] / (pi a sqrt(1 - (E/a)^2)); mu normalized per site.
    ``mu`` may be (..., N); ``tn`` is a cached chebyshev_matrix."""
    x = energies / scale
    c = np.asarray(mu) * g
    c = c.copy()
    c[..., 1:] *= 2
    tn = chebyshev_matrix(x, c.shape[-1]) if tn is None else tn
    return (c @ tn) / (np.pi * scale * np.sqrt(1 - x * x))


class ChebDOS:
    """A KPM density of states as a function of energy: tabulated on a fine theta grid (one DCT)
    for rho(E) and summed exactly for the counting function N(E) = int_{-a}^E rho."""

    def __init__(self, mu: np.ndarray, g: np.ndarray, scale: float, oversample: int = 32):
        self.scale = scale
        self.c = np.asarray(mu, dtype=float) * g           # c_n = g_n mu_n (per site)
        K = max(oversample * len(self.c), 4096)
        # DCT-III: F_k = c_0 + 2 sum c_n cos(n theta_k), theta_k = pi (k + 1/2) / K
        F = dct(np.pad(self.c, (0, K - len(self.c))), type=3)
        self.theta = np.pi * (np.arange(K) + 0.5) / K
        self.F = F
        self.n = np.arange(1, len(self.c))
        self.lo, self.hi = -scale, scale

    def density(self, E) -> np.ndarray:
        E = np.asarray(E, dtype=float)
        x = np.clip(E / self.scale, -1 + 1e-15, 1 - 1e-15)
        th = np.arccos(x)
        F = np.interp(th, self.theta, self.F)
        out = F / (np.pi * self.scale * np.sqrt(1 - x * x))
        return np.where(np.abs(E) < self.scale, out, 0.0)

    def counting(self, E) -> np.ndarray:
        """Integrated density per site from the bottom of the band up to E."""
        E = np.atleast_1d(np.asarray(E, dtype=float))
        th = np.arccos(np.clip(E / self.scale, -1, 1))
        s = np.sin(np.outer(th, self.n)) @ (self.c[1:] / self.n)
        return self.c[0] * (np.pi - th) / np.pi - 2 * s / np.pi

    def energy_at_count(self, filling: float) -> float:
        """Fermi energy at T = 0: N(eps_F) = filling (bisection on the monotone counting function)."""
        from scipy.optimize import brentq

        return float(brentq(lambda e: self.counting(e)[0] - filling * self.c[0], self.lo, self.hi, xtol=1e-12 * self.scale))
