"""Shared pieces of the DMFT (App. A) and RTA (Sec. IV) references for the electron-TLS chain (seed 001).

Units: t = e = a = hbar = k_B = 1 (energies in t).  Conductivities are *per particle* (one electron,
Boltzmann statistics), the normalization of the seed's Eq. (A14).

Lattices: ``chain`` has N(eps) = 1/(pi sqrt(4t^2 - eps^2)); ``bethe`` the semicircle of the same
half-width 2t.  Both use the squared velocity phi(eps) = 4t^2 - eps^2 (seed Eq. A15).  Every
eps-integral of the bubble is done analytically through

    G(z) = int N(eps)/(z - eps),   F(z) = int N(eps) phi(eps)/(z - eps) = (4t^2 - z^2) G(z) + z,

which holds for any N with unit weight and zero mean, so sharp spectral functions cost nothing.
"""
from __future__ import annotations

import numpy as np


def _sqrt_branch(z, t):
    """sqrt(z^2 - 4t^2) on the branch that behaves as z at infinity (Im z > 0)."""
    return np.sqrt(z - 2 * t) * np.sqrt(z + 2 * t)


def lattice_green(z, t: float, lattice: str):
    """Local lattice Green function G(z) (Hilbert transform of the DOS) and dG/dz."""
    s = _sqrt_branch(z, t)
    if lattice == "chain":
        g = 1.0 / s
        return g, -z * g**3
    g = (z - s) / (2 * t * t)
    return g, (1.0 - z / s) / (2 * t * t)


def velocity_green(z, t: float, lattice: str):
    """F(z) = int N phi/(z - eps) and dF/dz."""
    g, dg = lattice_green(z, t, lattice)
    f = (4 * t * t - z * z) * g + z
    return f, -2 * z * g + (4 * t * t - z * z) * dg + 1.0


def bubble_kernel(z1, z2, t: float, lattice: str):
    """int N(eps) phi(eps) A(z1, eps) A(z2, eps) d eps, with A(z, eps) = -Im 1/(z - eps)/pi.

    z1, z2 broadcast; Im z > 0.  Equal arguments use the derivative (the d.c. kernel, Eq. A15).
    """
    z1, z2 = np.broadcast_arrays(np.asarray(z1, complex), np.asarray(z2, complex))
    f1, df1 = velocity_green(z1, t, lattice)
    f2, _ = velocity_green(z2, t, lattice)
    f2c = np.conj(f2)
    # K(a, b) = (F(b) - F(a))/(a - b); K(a, a) = -F'(a)
    k_conj = (f2c - f1) / (z1 - np.conj(z2))
    same = np.abs(z1 - z2) < 1e-12
    diff = np.where(same, 1.0, z1 - z2)
    k_same = np.where(same, -df1, (f2 - f1) / diff)
    return np.real(k_conj - k_same) / (2 * np.pi**2)


def boltzmann(energies, temp: float):
    """exp(-(E - E_min)/T) (shifted to avoid overflow); T = 0 keeps only the minimum."""
    e = np.asarray(energies, float)
    if temp <= 0:
        return (e == e.min()).astype(float)
    return np.exp(-(e - e.min()) / temp)


def defect_fraction(omega0: float, temp: float) -> float:
    """Thermal fraction of excited TLS, Eq. (A8): n_i = e^{-w0/T}/(1 + e^{-w0/T})."""
    if temp <= 0:
        return 0.0 if omega0 > 0 else 0.5
    return float(0.5 * (1.0 - np.tanh(omega0 / (2.0 * temp))))


def gaussian_smooth(y, dx: float, width: float, axis: int = -1):
    """Gaussian filter (standard deviation ``width``) on a bin-centred grid x_j = (j + 1/2) dx,
    reflected at x = 0 as befits functions even in x such as Re sigma(omega)."""
    from scipy.ndimage import gaussian_filter1d

    if width <= 0:
        return np.asarray(y, float)
    return gaussian_filter1d(np.asarray(y, float), width / dx, axis=axis, mode="reflect", truncate=5.0)
