"""chain_ftlm method = "dqt" at one large N_s: peak resident memory of one start vector against the model's
memory_bytes, and the time per fused Chebyshev sweep (one T, a few real-time samples: the per-vector
memory is all there at the first sample).
Usage: python bench/chain_dqt_memory.py --n 26   (about 14 GiB and 2 minutes on 2 cores)
"""
from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from ensemble.models.tls_chain.ftlm import MODEL
from ensemble.models.tls_chain.ftlm import typicality


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--omega0", type=float, default=0.5)
    ap.add_argument("--samples", type=int, default=4)
    args = ap.parse_args()
    p = MODEL.default_point(N=args.n, g=1.0, omega0=args.omega0, T=[0.3], delta=0.04, delta_dc_min=0.04,
                            delta_dc_max=0.04, omega_max=8.0, method="dqt")
    dt, _ = typicality.time_grid(args.n, p["g"], args.omega0, 0.04, p["omega_max"])
    rng = np.random.default_rng(0)
    r = rng.standard_normal(1 << args.n) + 1j * rng.standard_normal(1 << args.n)
    count = {}
    t0 = time.perf_counter()
    typicality.tally(args.n, 0.3, p["g"], args.omega0, r, p["T"], dt, args.samples, counter=count)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"N_s = {args.n} (D = {1 << args.n} per sector): memory_bytes {MODEL.memory_bytes(p, 1) / 2**30:.2f} GiB, "
          f"peak RSS {peak / 2**30:.2f} GiB; {count['sweeps']} sweeps in {seconds:.0f} s "
          f"({1e3 * seconds / count['sweeps']:.0f} ms per sweep, start-up included)")


if __name__ == "__main__":
    main()
