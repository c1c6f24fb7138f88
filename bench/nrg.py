"""Benchmark: one spin_boson_nrg member (NRG run + T = 0 full-density-matrix weights) against the
number of kept states.

python bench/nrg.py [KEEP ...]   (default 100 200 300).  α = 0.3, h_target = 1e-6, 84 shells, e_cut large
so that ``keep`` binds.  Prints wall time (best of 2) and the peak of numpy's traced allocations; the
stored shells (two dense (2K)² matrices per shell) dominate the memory, the dense eigh of each charge
block dominates the time.  Times on a shared machine are indicative only.
"""
from __future__ import annotations

import os
import sys
import time
import tracemalloc

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402

from ensemble.models.spin_boson_nrg import MODEL, chain, fdm, irlm, nrg, solver  # noqa: E402


def one_member(keep: int):
    p = MODEL.default_point(alpha=0.3, h_target=1e-6, shells=84, keep=keep, e_cut=1e3)
    hop = chain.hoppings(p["lam"], 1.0, p["shells"])
    t0 = time.perf_counter()
    shells = nrg.run(hop, solver.tunnelling(p), irlm.u_of_alpha(p["alpha"]), 0.0, keep, p["e_cut"])
    t_nrg = time.perf_counter() - t0
    w = fdm.spectral_weights(shells, 0.0, solver.log_edges(p))
    return t_nrg, time.perf_counter() - t0 - t_nrg, max(s.n_kept for s in shells), 4.0 / (np.pi * w.chi0)


def main(keeps):
    chain.hoppings(2.0, 1.0, 84)  # mpmath Lanczos once, outside the timing
    print(f"{'keep':>6} {'kept':>6} {'NRG s':>8} {'FDM s':>8} {'peak MiB':>9} {'h_R/D':>12}")
    for keep in keeps:
        best = None
        for _ in range(2):
            tracemalloc.start()
            t_nrg, t_fdm, kept, h = one_member(keep)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            if best is None or t_nrg + t_fdm < best[0] + best[1]:
                best = (t_nrg, t_fdm, kept, h, peak)
        t_nrg, t_fdm, kept, h, peak = best
        print(f"{keep:>6} {kept:>6} {t_nrg:>8.2f} {t_fdm:>8.2f} {peak:>9.0f} {h:>12.5e}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 200, 300])
