"""Finite-temperature Lanczos (Jaklic-Prelovsek) for one start vector, and its additive tallies.

For a normalized start vector r of sector K:
  run 1: Lanczos from r   -> Ritz pairs (e_i, psi_i), basis V (kept, M x D),
  run 2: Lanczos from J r -> Ritz pairs (f_k, phi_k), basis streamed in blocks,
  X_ab = <v_a|J|w_b> from the two bases (one blocked GEMM), and
  A_ik = <r|psi_i> <psi_i|J|phi_k> <phi_k|J r>.
Then, with p_i(T) = exp(-(e_i - E_ref)/T) and E_ref the fixed floor of ``energy_floor``,
  Z     += sum_i |<r|psi_i>|^2 p_i,                      (thermal weight of this vector)
  C0    += sum_ik Re A_ik p_i                             (= int C(w) dw, C the current spectrum)
  sigma += pi Re A_ik (p_i - q_k)/(f_k - e_i) at |f_k - e_i| on a fixed w grid,
where sigma(w) = pi (1 - e^{-w/T})/w C(w) is the optical conductivity per particle (the factor
tends to pi/T * p_i for degenerate pairs: the thermal w = 0 weight).  Static FTLM estimates
(<H>, <H_kin>, <J^2>) use <psi_i|O r> from the stored basis, independently of run 2.

Why a temperature grid and a frequency histogram: the exact tally would be the 2-D set of Ritz
pairs, which is not additive in fixed shape; binning it in (E, w) needs sub-bin energy accuracy
at low T.  Accumulating per T on a fine w grid (linear "cloud-in-cell" deposition, bin h) is
additive, exact in Z and static quantities, and leaves the Gaussian filter width delta (>= 2h)
and all spectral-weight windows free in ``finalize``; only the T grid is fixed by the spec.
Ratios (sum_r numerator / sum_r Z) are the FTLM estimates; the sector dimension D is common to
all vectors (each sector has 2^N states) so it cancels.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .hamiltonian import apply_h, apply_hkin, apply_j, energy_floor
from .lanczos import lanczos, ritz

BLOCK = 32  # run-2 vectors per GEMM block


def _overlaps(basis, x):
    """<v_a|x> for all rows v_a, without copying the (large) basis."""
    return (x.conj() @ basis.T).conj()


def lanczos_data(n, k, g, w0, r, m, reorth=False):
    """Ritz data of one start vector: (e, U0, f, W0, A_re, static) with static = dict of <psi_i|O r>."""
    d = r.shape[0]
    m1 = min(m, d)
    store = np.empty((m1, d), dtype=np.complex128)
    apply = lambda v, out: apply_h(v, out, n, k, g, w0)  # noqa: E731
    a1, b1, _ = lanczos(apply, r, m1, store=store, reorth=reorth)
    basis = store[: len(a1)]
    e, u = ritz(a1, b1)

    tmp = np.empty(d, dtype=np.complex128)
    r = basis[0]
    apply_hkin(r, tmp, n, k)
    hkin_a = _overlaps(basis, tmp)
    jr = np.empty(d, dtype=np.complex128)
    apply_j(r, jr, n, k)
    apply_j(jr, tmp, n, k)
    j2_a = _overlaps(basis, tmp)

    # run 2 from J r, streaming its basis through the cross-product with run 1
    cols = []
    buf = np.empty((BLOCK, d), dtype=np.complex128)
    fill = [0]

    def flush():
        if fill[0]:
            # X[:, block] = <v_a| J w_b> = conj(<J w_b|v_a>); no copy of the big basis
            cols.append((buf[: fill[0]].conj() @ basis.T).conj().T)
            fill[0] = 0

    def on_vector(_, v):
        apply_j(v, buf[fill[0]], n, k)
        fill[0] += 1
        if fill[0] == BLOCK:
            flush()

    if np.linalg.norm(jr) < 1e-14:  # J r = 0 (e.g. a TLS-uniform basis state at K = 0)
        return e, u[0], np.zeros(1), np.zeros((len(e), 1)), {
            "hkin": (u.T @ hkin_a).real * u[0], "j2": np.zeros(len(e))}
    if reorth:
        store2 = np.empty((m1, d), dtype=np.complex128)
        a2, b2, jnorm = lanczos(apply, jr, m1, store=store2, on_vector=on_vector, reorth=True)
    else:
        a2, b2, jnorm = lanczos(apply, jr, m1, on_vector=on_vector)
    flush()
    x = np.concatenate(cols, axis=1)[:, : len(a2)]
    f, w = ritz(a2, b2)

    u0 = u[0]
    w0v = w[0]
    xr = u.T @ x @ w  # <psi_i|J|phi_k>
    amp = (u0[:, None] * xr) * (jnorm * w0v)[None, :]
    static = {"hkin": (u.T @ hkin_a).real * u0, "j2": (u.T @ j2_a).real * u0}
    return e, u0, f, amp.real.copy(), static


@njit(cache=True)
def _deposit(e, f, amp, betas, eref, h, hist, over):
    """hist[t, b] += CIC share of pi * amp_ik * (p_i - q_k)/(f_k - e_i) at |f_k - e_i|."""
    nb = hist.shape[1]
    for t in range(betas.shape[0]):
        beta = betas[t]
        for i in range(e.shape[0]):
            p = np.exp(-beta * (e[i] - eref))
            for k in range(f.shape[0]):
                a = amp[i, k]
                if a == 0.0:
                    continue
                dw = f[k] - e[i]
                x = beta * dw
                if abs(x) < 1e-8:
                    fac = beta * p
                else:
                    fac = -p * np.expm1(-x) / dw
                wgt = np.pi * a * fac
                pos = abs(dw) / h
                b = int(pos)
                if b + 1 >= nb:
                    over[t] += wgt
                    continue
                frac = pos - b
                hist[t, b] += wgt * (1.0 - frac)
                hist[t, b + 1] += wgt * frac


def tally(n, k, g, w0, r, m, temps, h, nbins, reorth=False):
    """Additive contributions of one start vector r (normalized or not) for temperatures ``temps``."""
    e, u0, f, amp, static = lanczos_data(n, k, g, w0, r, m, reorth=reorth)
    eref = energy_floor(n, g, w0)
    betas = 1.0 / np.asarray(temps, dtype=float)
    p = np.exp(-np.outer(betas, e - eref))  # (T, i)
    wts = u0 ** 2
    out = {
        "Z": p @ wts,
        "E": p @ (wts * e),
        "Ekin": p @ static["hkin"],
        "J2": p @ static["j2"],
        "C0": p @ amp.sum(axis=1),
    }
    hist = np.zeros((len(betas), nbins))
    over = np.zeros(len(betas))
    _deposit(e, f, amp, betas, eref, h, hist, over)
    out["sigma_hist"] = hist
    out["sigma_over"] = over
    return out
