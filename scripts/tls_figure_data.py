"""Multi-core driver for tls_dynamics figure data without the dask engine (for a many-core box).

Usage: python scripts/tls_figure_data.py OUTDIR [name ...]   (runs the named run sets; default: all)
Writes OUTDIR/<name>.npz with per-member curves (C, S) for every point, same seeding as the engine
(SeedSequence(seed, spawn_key=(point, member))), so results equal an engine run of the same spec.
"""
from __future__ import annotations

import os
import sys
import time
from multiprocessing import Pool

import numpy as np

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

from ensemble.models.tls_dynamics import MODEL, member_curves  # noqa: E402
from ensemble.models.tls_dynamics._haar import haar_mean_concurrence  # noqa: E402

BASE = {x.name: x.default for x in MODEL.params}
RUNS = {
    "fig3_unitary": ([dict(N=n) for n in (4, 6, 8, 10, 12, 14, 16, 20, 24, 32, 48, 60)], 400, 3003),
    "fig7_open": ([dict(N=n, eps_diss=e) for e in (1e-6, 1.0) for n in (4, 6, 8, 9)]
                  + [dict(N=60, eps_diss=1.0)], 400, 3007),
    "fig11_haar": ([dict(mode="haar", N=n) for n in range(2, 15)], 1000, 3011),
    "fig6_entropy": ([dict(N=n, entropy=True, n_t=41) for n in (8, 12, 16)], 48, 3006),
}


def _one(job):
    p, point, member, seed = job
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(point, member)))
    if p["mode"] == "haar":
        return np.array([haar_mean_concurrence(rng, p["N"])]), None
    return member_curves(p, rng)


def run(name, outdir, pool):
    pts, members, seed = RUNS[name]
    params = [dict(BASE, **q) for q in pts]
    for p in params:
        MODEL.check(p)
    jobs = [(p, i, m, seed) for i, p in enumerate(params) for m in range(members)]
    t0 = time.time()
    res = pool.map(_one, jobs[::-1], chunksize=1)[::-1]   # big points first for load balance
    out = {}
    for i, p in enumerate(params):
        rs = res[i * members:(i + 1) * members]
        out[f"C_{i}"] = np.array([r[0] for r in rs])
        if rs[0][1] is not None:
            out[f"S_{i}"] = np.array([r[1] for r in rs])
    np.savez(os.path.join(outdir, name + ".npz"), params=np.array([repr(p) for p in params]), **out)
    print(f"{name}: {len(jobs)} members in {time.time() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    outdir = sys.argv[1]
    names = sys.argv[2:] or list(RUNS)
    os.makedirs(outdir, exist_ok=True)
    with Pool(os.cpu_count()) as pool:
        for n in names:
            run(n, outdir, pool)
