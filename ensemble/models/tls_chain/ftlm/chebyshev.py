"""Chebyshev propagators exp(-tau (H - E_floor)) and exp(-i H dt) of a sector Hamiltonian, O(D) memory.

With the rigorous bound |E| <= a = 2 + g + N w0/2 (``energy_floor`` is -a), H~ = H/a has its
spectrum in [-1, 1] and
    exp(-i H dt)           = sum_k (2 - delta_k0) (-i)^k J_k(a dt) T_k(H~),
    exp(-tau (H + a))      = sum_k (2 - delta_k0) (-1)^k e^{-a tau} I_k(a tau) T_k(H~),
both truncated where the Bessel coefficients fall below ``TOL`` (they decay faster than
exponentially once k > a dt, resp. k > sqrt(a tau)).  Each term is one fused sweep of the
sector kernel (recursion step + accumulation, ``apply_h_step``); three work vectors.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ive, jv

from .hamiltonian import apply_h_step, energy_floor

TOL = 1e-13  # coefficient cutoff relative to the largest one (imaginary time, tests)


def spectral_radius(n: int, g: float, w0: float) -> float:
    """a with spec(H_K) in [-a, a] for every K (norm bound of each term)."""
    return -energy_floor(n, g, w0)


def real_time_coefficients(a: float, times, tol: float = TOL) -> np.ndarray:
    """Rows c_k(t) of exp(-i H t) for each t of ``times`` (one row for a scalar), common length.

    Terms below ``tol`` x the largest coefficient are dropped (the error of one step is about that).
    """
    times = np.atleast_1d(np.asarray(times, dtype=float))
    z = a * np.abs(times).max()
    k = np.arange(int(z + 12 * max(1.0, z) ** (1 / 3) + 30))
    c = (2.0 - (k == 0))[None, :] * (-1j) ** k[None, :] * jv(k[None, :], a * times[:, None])
    return _truncate(c, tol)


def imaginary_time_coefficients(a: float, tau: float) -> np.ndarray:
    """Row c_k of exp(-tau (H + a)), shape (1, K)."""
    z = a * tau
    k = np.arange(int(z + 8 * np.sqrt(z + 1) + 30))
    c = (2.0 - (k == 0)) * (-1.0) ** k * ive(k, z)  # ive = e^{-z} I_k(z)
    return _truncate(c[None, :])


def _truncate(coefs, tol=TOL):
    big = (np.abs(coefs) > tol * np.abs(coefs).max()).any(axis=0)
    last = int(np.nonzero(big)[0][-1])
    return coefs[:, : last + 1]


class Propagator:
    """Expands v into rows sum_k c_sk T_k(H_K / a) v (several times at once) with 2 + rows work vectors."""

    def __init__(self, n: int, k: float, g: float, w0: float, rows: int = 1):
        self.n, self.k, self.g, self.w0 = n, k, g, w0
        self.a = spectral_radius(n, g, w0)
        d = 1 << n
        self.t_prev = np.empty(d, dtype=np.complex128)
        self.t_cur = np.empty(d, dtype=np.complex128)
        self.acc = np.empty((rows, d), dtype=np.complex128)
        self.sweeps = 0  # kernel sweeps done (cost counter)

    def expand(self, coefs: np.ndarray, v: np.ndarray) -> np.ndarray:
        """acc[s] = sum_k coefs[s, k] T_k(H~) v for the rows s of coefs; returns that view of acc."""
        n, k, g, w0, a = self.n, self.k, self.g, self.w0, self.a
        rows = coefs.shape[0]
        acc, prev, cur = self.acc[:rows], self.t_prev, self.t_cur
        np.multiply(coefs[:, :1], v[None, :], out=acc)
        if coefs.shape[1] > 1:
            cf = np.ascontiguousarray(np.stack([coefs.real, coefs.imag], axis=-1).transpose(1, 0, 2))
            prev[:] = v
            apply_h_step(prev, cur, n, k, g, w0, 1.0 / a, 0.0, 0.0, acc, cf[1])
            for j in range(2, coefs.shape[1]):
                apply_h_step(cur, prev, n, k, g, w0, 2.0 / a, 0.0, -1.0, acc, cf[j])
                prev, cur = cur, prev
            self.sweeps += coefs.shape[1] - 1
        return acc

    def apply(self, coefs: np.ndarray, v: np.ndarray) -> None:
        """v <- the last row of ``expand`` (a single propagation step in place)."""
        v[:] = self.expand(coefs, v)[-1]
