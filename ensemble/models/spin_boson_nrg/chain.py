"""Wilson chain of a flat conduction band, ρ(ε) = 1/2 on [−D, D] with D = 1, for one offset z.

Campo–Oliveira logarithmic discretization: interval edges ε_1 = 1, ε_j = Λ^{−(j−2+z)} (j ≥ 2) on each
side; the interval's level is ∫ρ / ∫ρ/ε over it, (ε_j − ε_{j+1}) / ln(ε_j/ε_{j+1}), and its weight is
∫ρ.  This choice makes the z-averaged star reproduce the flat band without Wilson's A_Λ correction.  The
star is brought to chain form by Lanczos from the local orbital f_0 in mpmath with full
reorthogonalization: the hoppings fall as Λ^{−n/2}, and plain Lanczos loses orthogonality once the
high levels' Ritz values converge (after ~30 sites at 60 digits, ~15 in double precision).  The
scaled hoppings s_n = t_n Λ^{n/2} approach their limit as s_∞ + c Λ^{−n} (checked to 1e−12 against 80
exact sites in the tests), so the first ``EXACT_SITES`` come from Lanczos and the rest from that law.
"""
from __future__ import annotations

from functools import lru_cache

import mpmath
import numpy as np


def star(lam: float, z: float, intervals: int, dps: int):
    """Levels and weights of one side of the star (mpmath numbers), including the last [0, ε_M] piece."""
    with mpmath.workdps(dps):
        L = mpmath.mpf(lam)
        edges = [mpmath.mpf(1)] + [L ** (-(j + mpmath.mpf(z))) for j in range(intervals)]
        levels, weights = [], []
        for hi, lo in zip(edges[:-1], edges[1:]):
            levels.append((hi - lo) / mpmath.log(hi / lo))
            weights.append((hi - lo) / 2)
        levels.append(edges[-1] / 2)  # the rest of the band below the last edge, one level
        weights.append(edges[-1] / 2)
        return levels, weights


EXACT_SITES = 32


def hoppings(lam: float, z: float, sites: int) -> np.ndarray:
    """t_0 … t_{sites−2}: hopping f_n ↔ f_{n+1} of the particle–hole symmetric chain (on-site energies 0)."""
    exact = lanczos_hoppings(lam, z, min(sites, EXACT_SITES))
    if sites <= EXACT_SITES:
        return exact
    n0 = len(exact) - 1
    scaled = exact * lam ** (np.arange(len(exact)) / 2.0)
    s_inf = (lam * scaled[n0] - scaled[n0 - 1]) / (lam - 1.0)
    n = np.arange(n0 + 1, sites - 1)
    tail = lam ** (-n / 2.0) * (s_inf + (scaled[n0] - s_inf) * lam ** (-(n - n0).astype(float)))
    return np.concatenate([exact, tail])


@lru_cache(maxsize=64)
def lanczos_hoppings(lam: float, z: float, sites: int) -> np.ndarray:
    """The first ``sites − 1`` hoppings by Lanczos with full reorthogonalization (slow: O(sites³))."""
    intervals = sites // 2 + 20
    dps = int(intervals * np.log10(lam)) + 40
    with mpmath.workdps(dps):
        lev, wts = star(lam, z, intervals, dps)
        e = [x for x in lev] + [-x for x in lev]
        g = [mpmath.sqrt(w) for w in wts] * 2
        basis = [g]  # f_0 in the star basis; Σ g² = ∫ρ = 1
        out = []
        for _ in range(sites - 1):
            w = [ei * vi for ei, vi in zip(e, basis[-1])]
            for _sweep in range(2):  # Gram–Schmidt twice against every earlier vector
                for b in basis:
                    c = mpmath.fsum(wi * bi for wi, bi in zip(w, b))
                    w = [wi - c * bi for wi, bi in zip(w, b)]
            t = mpmath.sqrt(mpmath.fsum(wi * wi for wi in w))
            out.append(float(t))
            basis.append([wi / t for wi in w])
        return np.array(out)
