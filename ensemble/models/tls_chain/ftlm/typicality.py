"""Dynamical quantum typicality (DQT) for one start vector: additive tallies with O(D) memory.

For a normalized random vector r of sector K and each temperature (beta ascending, one chain of
imaginary-time steps reaches them all):
    |psi_b> = exp(-beta (H - E_ref)/2) |r>,            Z  += <psi_b|psi_b>,
    E, Ekin, J2 += <psi_b|H|psi_b>, <psi_b|H_kin|psi_b>, <J psi_b|J psi_b>,
    C(t_j) += <psi_b(t_j)| J |phi_b(t_j)>,  psi_b(t) = e^{-iHt} psi_b,  phi_b(t) = e^{-iHt} J psi_b,
on t_j = j dt, j = 0..n_t (Chebyshev real-time steps).  Sum over vectors / sum of Z is the
typicality estimate of Tr[e^{-beta H} J(t) J] / Tr e^{-beta H}: the symmetric split keeps the
low-T variance small (unlike FTLM, whose start vector enters unweighted on one side).
The spectra (sigma_delta, rho, weights) follow in ``correlation``; E_ref is ``energy_floor`` as in
FTLM, so Z and the numerators have the same meaning and scale as the FTLM tallies.
"""
from __future__ import annotations

import numpy as np

from .chebyshev import Propagator, imaginary_time_coefficients, real_time_coefficients
from .hamiltonian import apply_h, apply_hkin, apply_j

WINDOW_SIGMAS = 4.0  # t_max = 4 / delta: the Gaussian window exp(-delta^2 t^2/2) is 3e-4 there
CORRELATION_TOL = 1e-9  # Bessel cutoff of the real-time steps: C(t) to ~1e-7 relative after 10^3 steps
                        # (measured), far below the typicality error, and 25 % fewer sweeps than 1e-13
SHARED_OMEGA0 = 0.5  # the time step is set as for omega0 = max(omega0, this), so sweeps over the omega0
                     # of Fig. 1 (0.02-0.5) share one time grid (array shapes); it costs <= 20 % more steps


def current_bandwidth(g: float, w0: float) -> float:
    """|w| beyond which the current spectrum C(w) carries no weight (< 1e-8 of it; ED-checked).

    One hop changes the hopping energy by at most 4t and the coupling by 2g; dressing by the
    TLS adds a few w0, and 1 t is margin.
    """
    return 4.0 + 2.0 * g + 4.0 * w0 + 1.0


def time_grid(n: int, g: float, w0: float, delta_min: float, omega_max: float):
    """(dt, n_t) of the correlation samples (independent of n, and of w0 <= SHARED_OMEGA0, so sweeps over
    N or the Fig. 1 omega0 share shapes).  A smaller dt than needed changes nothing but the cost: the
    Chebyshev propagation is exact for any step, and the samples only need to be alias-free.

    sigma(w) is needed for w <= w_e = min(omega_max, W_J): the trapezoid sum over t_j = j dt
    aliases it with C at w +- 2 pi/dt, which is empty when 2 pi/dt >= w_e + W_J (C vanishes
    beyond W_J = ``current_bandwidth``, and beyond 2a >= |E_m - E_n| anyway).
    """
    wj = current_bandwidth(g, max(w0, SHARED_OMEGA0))
    dt = 2 * np.pi / (min(omega_max, wj) + wj)
    n_t = int(np.ceil(WINDOW_SIGMAS / delta_min / dt))
    return dt, n_t


def tally(n, k, g, w0, r, temps, dt, n_t, substeps=2, counter=None):
    """Additive DQT contributions of start vector r (normalized inside) for temperatures ``temps``.

    Returns Z, E, Ekin, J2, C0 (shape (T,)) and corr_re, corr_im (shape (T, n_t + 1)).
    One Chebyshev expansion covers ``substeps`` samples (its terms are accumulated into one sum
    per sample in the same sweep): fewer sweeps per sample than one expansion per dt.
    ``counter``: optional dict, gets the number of kernel sweeps under "sweeps".
    """
    temps = np.asarray(temps, dtype=float)
    nt = len(temps)
    betas = 1.0 / temps
    order = np.argsort(betas)
    substeps = max(1, min(substeps, n_t))
    prop = Propagator(n, k, g, w0, rows=substeps)
    prop_right = Propagator(n, k, g, w0, rows=substeps)
    a = prop.a
    psi = r / np.linalg.norm(r)
    left = np.empty_like(psi)
    right = np.empty_like(psi)
    work = np.empty_like(psi)
    out = {key: np.zeros(nt) for key in ("Z", "E", "Ekin", "J2", "C0")}
    corr = np.zeros((nt, n_t + 1), dtype=complex)
    beta_done = 0.0
    extra = 0
    steps = {rows: real_time_coefficients(a, dt * np.arange(1, rows + 1), tol=CORRELATION_TOL)
             for rows in {substeps, n_t % substeps or substeps}}
    for it in order:
        tau = 0.5 * (betas[it] - beta_done)
        if tau > 0:
            prop.apply(imaginary_time_coefficients(a, tau), psi)
        beta_done = betas[it]
        out["Z"][it] = np.vdot(psi, psi).real
        apply_h(psi, work, n, k, g, w0)
        out["E"][it] = np.vdot(psi, work).real
        apply_hkin(psi, work, n, k)
        out["Ekin"][it] = np.vdot(psi, work).real
        apply_j(psi, right, n, k)
        j2 = np.vdot(right, right).real
        out["J2"][it] = j2
        out["C0"][it] = j2
        left[:] = psi
        corr[it, 0] = j2
        j = 0
        while j < n_t:
            rows = min(substeps, n_t - j)
            coefs = steps[rows]
            lefts = prop.expand(coefs, left)
            rights = prop_right.expand(coefs, right)
            for s in range(rows):
                apply_j(rights[s], work, n, k)
                corr[it, j + 1 + s] = np.vdot(lefts[s], work)
            left[:] = lefts[rows - 1]
            right[:] = rights[rows - 1]
            j += rows
        extra += 3 + n_t
    out["corr_re"] = corr.real.copy()
    out["corr_im"] = corr.imag.copy()
    if counter is not None:
        counter["sweeps"] = counter.get("sweeps", 0) + prop.sweeps + prop_right.sweeps + extra
    return out
