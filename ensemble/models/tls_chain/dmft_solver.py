"""Real-frequency DMFT of one electron coupled to on-site TLS (seed 001, App. A1) and its Kubo bubble (App. A2).

Energies are measured in the frame of App. A (site energy shifted by omega0/2, so the free band is
[-2t, 2t] and the TLS ground state has n = 0).  The impurity Green function is Eq. (A6),

    G = [1/(G0^-1(w) - g^2 G0(w - w0)) + e^{-w0/T}/(G0^-1(w) - g^2 G0(w + w0))] / (1 + e^{-w0/T}),

closed by the lattice self-consistency Sigma = G0^-1 - G^-1, G = G_lat(w + i eta - Sigma).  The
frequency grid step divides omega0 so the shifts w +- w0 are grid shifts; outside the grid the Weiss
field is the free one (the grid extends beyond the spectrum, thermally activated states included:
``make_grid``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.models.tls_chain.common import bubble_kernel, boltzmann, lattice_green


@dataclass
class Grid:
    omega: np.ndarray   # real frequencies
    step: int           # omega0 = step * d
    d: float


def make_grid(t: float, g: float, omega0: float, eta: float, d_target: float, temp: float = 0.0,
              margin: float = 1.5, thermal_margin: float = 3.0) -> Grid:
    """Uniform grid with omega0 = step*d covering the spectrum at temperature ``temp``.

    Upwards the spectrum ends near 2t + g + omega0 (TLS band); the grid adds ``margin``.  Downwards the
    T = 0 band ends near -2t - g (grid: ``margin`` more).  At T > 0 an electron can absorb the energy of
    a thermally excited TLS, which puts weight down to -2t - g - omega0, and the Kubo formula weights
    it by e^{-nu/T}: the grid then reaches ``thermal_margin`` * T below that.  Reaching further down
    than that only amplifies the Lorentzian eta-tails by e^{-nu/T}, so the window is per temperature.
    """
    step = int(np.ceil(omega0 / d_target - 1e-9)) if omega0 > 0 else 0
    d = omega0 / step if step else d_target
    below = omega0 + thermal_margin * temp if temp > 0 else margin
    lo = -2 * t - g - below - 20 * eta
    hi = 2 * t + g + omega0 + margin + 20 * eta
    n_lo, n_hi = int(np.ceil(-lo / d)), int(np.ceil(hi / d))
    return Grid(np.arange(-n_lo, n_hi + 1) * d, step, d)


def _shift(arr, k, fill):
    """arr evaluated at index j + k (fill outside)."""
    if k == 0:
        return arr.copy()
    out = fill.copy()
    if k > 0:
        out[:-k] = arr[k:]
    else:
        out[-k:] = arr[:k]
    return out


def solve_dmft(grid: Grid, t: float, g: float, omega0: float, temp: float, eta: float, lattice: str,
               mix: float = 0.5, tol: float = 1e-10, max_iter: int = 5000):
    """Self-consistent Sigma(w) and local G(w) on ``grid`` at broadening eta.  Returns (sigma, G, iters)."""
    z = grid.omega + 1j * eta
    k = grid.step
    free_m = lattice_green(z - omega0, t, lattice)[0]
    free_p = lattice_green(z + omega0, t, lattice)[0]
    boltz = np.exp(-omega0 / temp) if temp > 0 else 0.0
    g0 = lattice_green(z, t, lattice)[0]
    for it in range(max_iter):
        g0m, g0p = _shift(g0, -k, free_m), _shift(g0, k, free_p)
        inv0 = 1.0 / g0
        gimp = (1.0 / (inv0 - g * g * g0m) + boltz / (inv0 - g * g * g0p)) / (1.0 + boltz)
        sigma = inv0 - 1.0 / gimp
        gloc = lattice_green(z - sigma, t, lattice)[0]
        g0new = 1.0 / (1.0 / gloc + sigma)
        rel = np.abs(g0new - g0) / (1.0 + np.abs(g0))   # relative: G0 is large at band edges
        # a handful of grid points sitting on an edge singularity (eta << d) may oscillate forever;
        # they carry no weight, so convergence is judged on all but 0.1% of the points
        err = np.quantile(rel, 0.999)
        g0 = mix * g0new + (1 - mix) * g0
        if err < tol:
            break
    else:
        raise RuntimeError(f"DMFT did not converge in {max_iter} iterations (last change {err:.2e})")
    return sigma, gloc, it + 1


def kubo(omega, sigma, t: float, temp: float, lattice: str, opt_omega_steps=None, gamma_floor: float = 1e-14):
    """Mobility (Eq. A14-A17) and optical conductivity without vertex corrections.

    sigma: self-energy on the uniform grid ``omega``; the bubble uses A(nu, eps) with Gamma = -Im Sigma
    only (no extra broadening).  opt_omega_steps: integer frequency offsets (in grid steps) at which
    sigma(w) is returned.  Returns (mu, sigma_opt, kinetic) with kinetic = <eps> (band energy).
    """
    zeta = omega - sigma.real + 1j * np.maximum(-sigma.imag, gamma_floor)
    w = boltzmann(omega, temp)
    dos = -lattice_green(zeta, t, lattice)[0].imag / np.pi
    norm = np.sum(w * dos)
    d_dc = bubble_kernel(zeta, zeta, t, lattice)
    mu = np.pi / temp * np.sum(w * d_dc) / norm if temp > 0 else np.inf
    # band energy <eps> = int N eps A = -Im(zeta G(zeta))/pi, for the f-sum rule
    eps_avg = np.sum(w * (-(zeta * lattice_green(zeta, t, lattice)[0]).imag / np.pi)) / norm
    if opt_omega_steps is None:
        return mu, None, eps_avg
    d = omega[1] - omega[0]
    out = np.empty(len(opt_omega_steps))
    for i, m in enumerate(opt_omega_steps):
        if m == 0:
            out[i] = mu
            continue
        phi = bubble_kernel(zeta[:-m], zeta[m:], t, lattice)
        om = m * d
        fac = (-np.expm1(-om / temp) / om) if temp > 0 else 1.0 / om
        out[i] = np.pi * fac * np.sum(w[:-m] * phi) / norm
    return mu, out, eps_avg
