"""Benchmark of the fermi_glass KPM step (fused matrix-free H.v) against memory bandwidth, scipy CSR
and, when importable, kwant.kpm, on the same L^3 Anderson Hamiltonian.

In one process: (a) a STREAM-like triad (24 bytes/element) for the bandwidth B; (b) the numba step
y <- 2 H~ x - y with <y|y>, <y|x> (uniform t: reads eps, x, y and writes y, 32 bytes/site; random
bonds +24); (c) scipy CSR: y = 2 (A @ x) - y, A = H/a; (d) one random vector with --moments moments
(moments/2 steps) through kpm.moments; (e) kwant.kpm.SpectralDensity on the same CSR matrix with the
same number of moments and one vector, if kwant imports.
Usage: NUMBA_NUM_THREADS=1 python bench/kpm.py --L 100 --moments 1024 [--threads 1] [--t-spread 0.3]
"""
from __future__ import annotations

import argparse
import os
import time

from _timing import best_time, triad_bandwidth


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--L", type=int, default=100)
    ap.add_argument("--moments", type=int, default=1024)
    ap.add_argument("--W", type=float, default=100.0)
    ap.add_argument("--t", type=float, default=1.0)
    ap.add_argument("--t-spread", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--triad-mb", type=int, default=256)
    ap.add_argument("--no-kwant", action="store_true")
    args = ap.parse_args()
    os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    import numpy as np
    import scipy.sparse as sp

    from ensemble.models.fermi_glass import kpm, lattice

    bw = triad_bandwidth(args.triad_mb, args.repeat)
    print(f"threads={args.threads}  triad: {bw / 1e9:.1f} GB/s")

    L = args.L
    n = L ** 3
    h = lattice.build(np.random.default_rng(0), L, args.W, args.t, args.t_spread, "uniform")
    x = np.random.default_rng(1).standard_normal(n)
    y = np.zeros(n)
    per_site = 32 + (24 if h.bonds is not None else 0)
    t_numba = best_time(lambda: lattice.cheb_step(h, x, y), args.repeat)
    t_bound = per_site * n / bw
    print(f"L={L} ({n} sites, t_spread={args.t_spread}): numba step {t_numba * 1e3:.2f} ms, "
          f"bandwidth bound {t_bound * 1e3:.2f} ms ({per_site} B/site) -> {t_bound / t_numba:.0%} of bound")

    rows = np.arange(n).reshape(L, L, L)
    r, cidx, vals = [rows.ravel()], [rows.ravel()], [h.eps]
    for d in range(3):
        nb = np.roll(rows, -1, axis=d).ravel()
        tb = np.full(n, h.t) if h.bonds is None else h.bonds[d]
        r += [rows.ravel(), nb]
        cidx += [nb, rows.ravel()]
        vals += [-tb, -tb]
    A = sp.csr_matrix((np.concatenate(vals) / h.scale, (np.concatenate(r), np.concatenate(cidx))), shape=(n, n))

    def csr_step():
        y[:] = 2 * (A @ x) - y

    t_csr = best_time(csr_step, args.repeat)
    print(f"scipy CSR step {t_csr * 1e3:.2f} ms -> numba is {t_csr / t_numba:.1f}x faster")
    check = np.random.default_rng(2).standard_normal(n)
    y1, y2 = check.copy(), check.copy()
    lattice.cheb_step(h, x, y1)
    y2[:] = 2 * (A @ x) - y2
    print(f"max |numba - CSR| = {np.abs(y1 - y2).max():.2e}")

    rv = kpm.random_vector(np.random.default_rng(3), n, "rademacher")[0]
    t0 = time.perf_counter()
    kpm.moments(h, rv, args.moments)
    t_vec = time.perf_counter() - t0
    print(f"one random vector, {args.moments} moments: {t_vec:.2f} s ({args.moments // 2} steps)")

    if args.no_kwant:
        return
    try:
        import kwant
    except ImportError as exc:
        print(f"kwant not importable ({exc.__class__.__name__}): no kwant.kpm comparison")
        return
    vec = np.asarray(rv, dtype=complex)[:, None]
    t0 = time.perf_counter()
    sd = kwant.kpm.SpectralDensity(A * h.scale, num_moments=args.moments, vector_factory=vec, num_vectors=1,
                                   bounds=(-h.scale, h.scale))
    t_kw = time.perf_counter() - t0
    print(f"kwant.kpm SpectralDensity, same vector and moments: {t_kw:.2f} s -> numba is {t_kw / t_vec:.1f}x faster")
    ours = kpm.moments(h, rv, args.moments) / n
    theirs = np.real(sd._moments_list[0]).ravel()[: args.moments] if hasattr(sd, "_moments_list") else None
    if theirs is not None:
        print(f"max |moments difference| = {np.abs(ours[:len(theirs)] - theirs / n).max():.2e}")


if __name__ == "__main__":
    main()
