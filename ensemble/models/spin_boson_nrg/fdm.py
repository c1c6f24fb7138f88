"""Full-density-matrix spectral weights (Anders–Schiller basis; Weichselbaum–von Delft 2007).

The discarded states of all shells, each times its environment, form a complete basis.  The density
matrix is ρ = Σ_n Σ_{d ∈ D_n} 2^{N−n} e^{−βE_d}/Z |d⟩⟨d| ⊗ 1_env / 2^{N−n} with N the last shell; its
reduced form on shell n is diagonal on D_n and a dense block ρ^{KK}_n on the kept states (traced back from
shell n+1).  The correlation C(ω) = ∫dt e^{iωt}⟨σ(t)σ⟩ = 2π Σ_j W_j δ(ω − ω_j) gets from shell n

    s ∈ any, s' ∈ D:  W = |σ_{ss'}|² ρ_{s'},                 ω = E_s − E_{s'}
    s ∈ D,   s' ∈ K:  W = (σ_{DK} ρ^{KK})_{ss'} σ_{ss'},      ω = E_s − E_{s'}

(pairs with both states kept are counted on later shells).  The weights are returned binned in log|ω|
(positive and negative ω apart), the weight at ω = 0 apart, and the exact moments Σ W and
χ0 = 2 Σ W/ω kept unbinned.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .nrg import Shell

LN2 = np.log(2.0)


@dataclass
class Weights:
    edges: np.ndarray  # log10 |ω| bin edges
    positive: np.ndarray  # Σ W of peaks with ω > 0, per bin
    negative: np.ndarray  # Σ W of peaks with ω < 0, per bin of |ω|
    zero: float  # Σ W of peaks at ω = 0 (degenerate pairs: the quasi-elastic weight at T > 0)
    total: float  # Σ W = ⟨σ²⟩
    chi0: float  # 2 Σ W/ω over peaks with ω ≠ 0 (the Kubo static susceptibility)
    balance_defect: float  # Σ_bins |W₋ − Σ W₊ e^{−βω}| (detailed balance of the raw peaks; 0 at T = 0)


def discarded_weights(shells: list[Shell], temperature: float) -> list[np.ndarray]:
    """ρ_{s'} on the discarded states of every shell (normalised over all shells)."""
    last = len(shells) - 1
    shifts = np.array([s.shift for s in shells])
    # ground energy of shell n minus that of the last shell, summed from the small late shifts
    offset = -np.concatenate([np.cumsum(shifts[::-1])[::-1][1:], [0.0]])
    logs = []
    for n, sh in enumerate(shells):
        e = sh.energies[sh.n_kept:] + offset[n]
        if temperature > 0:
            logs.append((last - n) * LN2 - e / temperature)
        else:  # T = 0: the ground multiplet of the last shell
            logs.append(np.where((n == last) & (e < 1e-9 * sh.scale), 0.0, -np.inf))
    top = max(l.max() for l in logs if len(l))
    w = [np.exp(l - top) for l in logs]
    z = sum(x.sum() for x in w)
    return [x / z for x in w]


def spectral_weights(shells: list[Shell], temperature: float, edges: np.ndarray) -> Weights:
    rho_d = discarded_weights(shells, temperature)
    nb = len(edges) - 1
    pos, neg = np.zeros(nb), np.zeros(nb)
    balance_pos = np.zeros(nb)  # Σ W₊ e^{−βω}, binned at |ω|
    total = chi0 = zero = 0.0
    rho_kk = None  # reduced density matrix on the kept states of the shell being processed
    for n in range(len(shells) - 1, -1, -1):
        sh = shells[n]
        k = sh.n_kept
        rho_full_d = rho_d[n]
        om_parts, w_parts = [], []
        sig = sh.sigma
        e = sh.energies
        if len(rho_full_d):
            w = sig[:, k:] ** 2 * rho_full_d[None, :]
            om_parts.append((e[:, None] - e[None, k:]).ravel())
            w_parts.append(w.ravel())
        if k and len(e) > k and rho_kk is not None:
            w = (sig[k:, :k] @ rho_kk) * sig[k:, :k]
            om_parts.append((e[k:, None] - e[None, :k]).ravel())
            w_parts.append(w.ravel())
        if om_parts:
            om = np.concatenate(om_parts)
            w = np.concatenate(w_parts)
            total += w.sum()
            nz = np.abs(om) > 1e-12 * sh.scale
            zero += w[~nz].sum()
            om, w = om[nz], w[nz]
            chi0 += 2.0 * np.sum(w / om)
            lg = np.log10(np.abs(om))
            up = om > 0
            pos += np.histogram(lg[up], edges, weights=w[up])[0]
            neg += np.histogram(lg[~up], edges, weights=w[~up])[0]
            if temperature > 0:
                balance_pos += np.histogram(lg[up], edges, weights=w[up] * np.exp(-om[up] / temperature))[0]
        if n == 0:
            break
        # trace shell n back onto the kept states of shell n−1
        rho_here = np.zeros((len(e), len(e)))
        rho_here[np.arange(k, len(e)), np.arange(k, len(e))] = rho_full_d
        if rho_kk is not None and k:
            rho_here[:k, :k] = rho_kk
        kp = shells[n - 1].n_kept
        u = sh.rotation
        rho_kk = u[:kp] @ rho_here @ u[:kp].T + u[kp:] @ rho_here @ u[kp:].T
    defect = float(np.abs(neg - balance_pos).sum()) if temperature > 0 else 0.0
    return Weights(edges, pos, neg, float(zero), float(total), float(chi0), defect)
