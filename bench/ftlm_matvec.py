"""Benchmark of the chain_ftlm sector matvec against memory bandwidth and scipy CSR.

In one process: (a) a STREAM-like triad a = b + s c (numba, 24 bytes/element) for the bandwidth
B, (b) the numba H_K v per basis state, (c) scipy CSR H_K v for the same sector.  The bound of a
matvec is reading v and writing w, 32 bytes per basis state in complex128: t_bound = 32 D / B.
Usage: NUMBA_NUM_THREADS=1 python bench/ftlm_matvec.py --n 18 20 [--threads 1]
"""
from __future__ import annotations

import argparse
import os
import time

from _timing import best_time, triad_bandwidth


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[18, 20])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--triad-mb", type=int, default=512, help="size of each triad array in MiB")
    args = ap.parse_args()
    os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    import numpy as np

    from ensemble.models.tls_chain.ftlm.hamiltonian import apply_h, csr_h

    bw = triad_bandwidth(args.triad_mb, args.repeat)
    print(f"threads={args.threads}  triad: {bw / 1e9:.1f} GB/s ({args.triad_mb} MiB arrays)")
    print(f"{'N':>3} {'D':>10} {'numba ms':>9} {'GB/s':>6} {'bound ms':>9} {'frac':>5} {'scipy ms':>9} {'scipy/numba':>11}")
    g, w0, k = 1.0, 0.5, 2 * np.pi * 3 / 7
    for n in args.n:
        d = 1 << n
        rng = np.random.default_rng(0)
        v = rng.standard_normal(d) + 1j * rng.standard_normal(d)
        w = np.empty_like(v)
        t_nb = best_time(lambda: apply_h(v, w, n, k, g, w0), args.repeat)
        mat = csr_h(n, k, g, w0)
        t_sp = best_time(lambda: mat @ v, args.repeat)
        assert np.allclose(mat @ v, w), "numba and CSR disagree"
        bound = 32 * d / bw
        print(f"{n:>3} {d:>10} {1e3 * t_nb:>9.2f} {32 * d / t_nb / 1e9:>6.1f} {1e3 * bound:>9.2f} "
              f"{bound / t_nb:>5.2f} {1e3 * t_sp:>9.2f} {t_sp / t_nb:>11.2f}")
        del mat


if __name__ == "__main__":
    main()
