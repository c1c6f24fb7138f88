"""Time and peak memory of one chain_ftlm start vector at large N_s, against the model's estimate.

  python scripts/ftlm_memory_probe.py --n 22 --m 300 [--threads 16]

One start vector of one momentum sector in this process (numba and BLAS on ``--threads`` threads):
prints the H.v time, the wall time of the vector, the peak RSS and ``MODEL.memory_bytes``.  The engine
reports neither a task's peak RSS nor kernel timings; this probe checks the memory estimate that the
engine uses to refuse runs (the N_s = 22/24 table of docs/models/tls_chain.md).
"""
from __future__ import annotations

import argparse
import os
import resource
import time


def probe(args):
    os.environ["NUMBA_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    import numpy as np

    from ensemble.models.tls_chain.ftlm import MODEL
    from ensemble.models.tls_chain.ftlm.hamiltonian import apply_h

    p = {x.name: x.default for x in MODEL.params}
    p.update(N=args.n, M=args.m, g=1.0, omega0=0.5, T=[0.5, 1.0], omega_bin=0.001)
    MODEL.check(p)
    d = 1 << args.n
    v = np.ones(d, dtype=complex)
    w = np.empty_like(v)
    apply_h(v, w, args.n, 0.3, 1.0, 0.5)
    t0 = time.perf_counter()
    for _ in range(5):
        apply_h(v, w, args.n, 0.3, 1.0, 0.5)
    tmv = (time.perf_counter() - t0) / 5
    del v, w
    t0 = time.time()
    tot = MODEL.run_shard(p, np.array([3]), [np.random.SeedSequence(1, spawn_key=(0, 3))])
    wall = time.time() - t0
    tot["members"] = 1
    est = MODEL.finalize(tot, p)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"N={args.n} D={d} M={args.m} threads={args.threads}: matvec {1e3 * tmv:.1f} ms, one vector "
          f"{wall:.1f} s, peak RSS {rss:.1f} GB, memory_bytes {MODEL.memory_bytes(p, 1) / 1e9:.1f} GB; "
          f"E(T=0.5,1) = {est['E'].value}, Ekin = {est['Ekin'].value}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=16, help="ring length N_s")
    ap.add_argument("--m", type=int, default=1200, help="Lanczos steps M")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    probe(ap.parse_args())


if __name__ == "__main__":
    main()
