"""Thermodynamics from a single-particle density of states (k_B = 1, energies in the DOS unit).

Fermions (fixed particle number): mu(T) from int nu f = filling; with g = f(1-f)/T,
C = (1/T) [ int (E-mu)^2 nu g - (int (E-mu) nu g)^2 / int nu g ]   (dU/dT at fixed N, exact).
Independent TLSs with splitting density P(E): C = int_0^inf P(E) (E/2T)^2 sech^2(E/2T) dE.
Convention for "the same level density": P(E) = [nu(eps_F + E) + nu(eps_F - E)] / 2, E > 0, i.e.
one TLS per glasson state, particle and hole sides averaged.  A localized fermion level at
eps_F +- E is a TLS of splitting E, so the fermions are TLSs with P = nu(eps_F+E) + nu(eps_F-E):
twice as many, C_F/C_TLS -> 2 at low T ((pi^2/3) nu T against (pi^2/6) nu T); at higher T the ratio
departs from 2 only through mu(T) (particle-number conservation) and the band edges.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

WINDOW = 40.0                      # f(1-f) < 5e-18 beyond |E - mu| = 40 T
_X, _WX = np.polynomial.legendre.leggauss(400)


def _nodes(a: float, b: float):
    return 0.5 * (b - a) * _X + 0.5 * (b + a), 0.5 * (b - a) * _WX


def _fermi_g(E, mu, T):
    """f(1-f)/T, overflow-free."""
    return 1.0 / (4.0 * T * np.cosh(0.5 * (E - mu) / T) ** 2)


def particle_number(dos, mu: float, T: float) -> float:
    a, b = max(dos.lo, mu - WINDOW * T), min(dos.hi, mu + WINDOW * T)
    below = dos.counting(a)[0] if a > dos.lo else 0.0
    if b <= a:
        return below
    E, w = _nodes(a, b)
    f = 0.5 * (1.0 - np.tanh(0.5 * (E - mu) / T))
    return below + float(np.sum(w * dos.density(E) * f))


def chemical_potential(dos, filling: float, T: float) -> float:
    total = dos.counting(dos.hi)[0]
    target = filling * total
    return float(brentq(lambda m: particle_number(dos, m, T) - target, dos.lo - 50 * T, dos.hi + 50 * T,
                        xtol=1e-13 * (dos.hi - dos.lo)))


def fermion_heat_capacity(dos, filling: float, T: float) -> tuple[float, float]:
    """(C per site, mu) at temperature T and fixed filling."""
    mu = chemical_potential(dos, filling, T)
    a, b = max(dos.lo, mu - WINDOW * T), min(dos.hi, mu + WINDOW * T)
    E, w = _nodes(a, b)
    wg = w * dos.density(E) * _fermi_g(E, mu, T)
    d = E - mu
    I0, I1, I2 = wg.sum(), (wg * d).sum(), (wg * d * d).sum()
    C = (I2 - (I1 * I1 / I0 if I0 > 0 else 0.0)) / T
    return float(C), mu


def tls_heat_capacity(dos, eps_F: float, T: float) -> float:
    """Independent TLSs with splitting density P(E) = [nu(eps_F + E) + nu(eps_F - E)] / 2, E > 0."""
    b = min(WINDOW * T, max(dos.hi - eps_F, eps_F - dos.lo))
    if b <= 0:
        return 0.0
    E, w = _nodes(0.0, b)
    x = E / (2 * T)
    P = 0.5 * (dos.density(eps_F + E) + dos.density(eps_F - E))
    return float(np.sum(w * P * x * x / np.cosh(x) ** 2))


SOMMERFELD = np.pi ** 2 / 3
