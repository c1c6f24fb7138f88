"""Iterative diagonalization of the IRLM on a Wilson chain, charge-conserving, dense per charge block.

Jordan–Wigner order d, f_0, f_1, …; a new site's operator is f_{n+1} = P ⊗ c with P = (−1)^{N_block}.
Each shell n (the block after adding f_n) keeps every eigenstate (energies, charges, the rotation from
the product basis, and σ^x = 2n_d − 1 in its eigenbasis): the full-density-matrix spectra (fdm.py) need
the discarded states of every shell and the rotations to trace the kept space back.  The states
below about e_cut times the shell's scale (at most ``keep``; kept_count) are carried to the next shell.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Shell:
    energies: np.ndarray  # all eigenvalues, ascending, relative to this shell's ground state
    charges: np.ndarray  # particle number of each eigenstate
    n_kept: int  # the first n_kept states are carried on (all of them are discarded in the last shell)
    sigma: np.ndarray  # σ^x = 2 n_d − 1 between all eigenstates
    rotation: np.ndarray  # columns: eigenstates in the product basis (site state σ major: σ·K + k)
    shift: float  # this shell's ground energy relative to the previous shell's ground energy
    scale: float  # the coupling that added the shell's site (its energy scale)


@dataclass
class Block:
    """The kept space carried from one shell to the next."""

    energies: np.ndarray
    charges: np.ndarray
    last: np.ndarray  # annihilator of the most recently added site (or of d)
    sigma: np.ndarray


def dot_block(eps: float) -> Block:
    sigma = np.diag([-1.0, 1.0])
    return Block(eps / 2.0 * np.array([-1.0, 1.0]), np.array([0, 1]), np.array([[0.0, 1.0], [0.0, 0.0]]), sigma)


def add_site(block: Block, hop: float, keep: int, e_cut: float, last_shell: bool, u: float = 0.0,
             scale: float | None = None) -> tuple[Shell, Block]:
    """Couple a new site by ``hop`` (and, for f_0, by U (n_d − ½)(n_0 − ½)); diagonalize per charge.
    ``scale`` is the shell's Wilson energy scale (default |hop|), the unit of the truncation energy."""
    scale = abs(hop) if scale is None else scale
    k = len(block.energies)
    parity = 1.0 - 2.0 * (block.charges % 2)
    h = np.zeros((2 * k, 2 * k))
    h[np.arange(k), np.arange(k)] = block.energies
    h[np.arange(k, 2 * k), np.arange(k, 2 * k)] = block.energies
    h[k:, :k] = hop * parity[:, None] * block.last  # ⟨k',1| f_{n+1}† f_n |k,0⟩ = P_k' (f_n)_{k'k}
    h[:k, k:] = h[k:, :k].T
    if u:
        h[:k, :k] -= 0.25 * u * block.sigma  # U (σ^x/2)(n_0 − ½), n_0 = 0
        h[k:, k:] += 0.25 * u * block.sigma
    charges = np.concatenate([block.charges, block.charges + 1])
    rotation = np.zeros((2 * k, 2 * k))
    energies = np.empty(2 * k)
    new_charges = np.empty(2 * k, dtype=np.int64)
    col = 0
    for q in np.unique(charges):
        idx = np.flatnonzero(charges == q)
        e, v = np.linalg.eigh(h[np.ix_(idx, idx)])
        cols = slice(col, col + len(idx))
        energies[cols] = e
        rotation[idx, cols] = v
        new_charges[cols] = q
        col += len(idx)
    order = np.argsort(energies, kind="stable")
    energies, rotation, new_charges = energies[order], rotation[:, order], new_charges[order]
    shift = energies[0]
    energies = energies - shift
    sig_prod = np.zeros((2 * k, 2 * k))
    sig_prod[:k, :k] = block.sigma
    sig_prod[k:, k:] = block.sigma
    sigma = rotation.T @ sig_prod @ rotation
    n_kept = 0 if last_shell else kept_count(energies, keep, scale, e_cut)
    shell = Shell(energies, new_charges, n_kept, sigma, rotation, float(shift), scale)
    if last_shell:
        return shell, None
    site_annihilator = np.zeros((2 * k, 2 * k))
    site_annihilator[np.arange(k), np.arange(k, 2 * k)] = parity  # ⟨k,0| P ⊗ c |k,1⟩ = P_k
    kept = slice(0, n_kept)
    last = (rotation[:, kept].T @ site_annihilator @ rotation[:, kept])
    nxt = Block(energies[kept], new_charges[kept], last, sigma[kept, kept])
    return shell, nxt


def kept_count(energies: np.ndarray, keep: int, scale: float, e_cut: float) -> int:
    """States up to about e_cut·scale, at most ``keep``, cut at the widest gap in a window above the
    target: a count-based cut lands at different energies from shell to shell, and a cut through a
    (near-)degenerate cluster of the commensurate Wilson-chain levels distorts the spectra by several %
    at that shell's frequency."""
    if len(energies) <= keep and energies[-1] < e_cut * scale:
        return len(energies)
    lo = int(np.searchsorted(energies, e_cut * scale))
    hi = int(np.searchsorted(energies, 1.25 * e_cut * scale))
    lo, hi = max(1, min(lo, keep)), max(1, min(hi, keep, len(energies) - 1))
    if hi <= lo:
        return lo
    gaps = energies[lo:hi + 1] - energies[lo - 1:hi]
    return lo + int(np.argmax(gaps))


def run(hop: np.ndarray, v: float, u: float, eps: float, keep: int, e_cut: float = 10.0) -> list[Shell]:
    """All shells of the IRLM: f_0 joins the dot through V (and U), f_{n+1} joins through hop[n].
    The first shell's scale is hop[0], not V: V ≪ D must not truncate the band-scale states of dot + f_0."""
    couplings = np.concatenate([[v], hop])
    block = dot_block(eps)
    shells = []
    for n, t in enumerate(couplings):
        last = n == len(couplings) - 1
        shell, block = add_site(block, t, keep, e_cut, last, u if n == 0 else 0.0, hop[0] if n == 0 else abs(t))
        shells.append(shell)
    return shells
