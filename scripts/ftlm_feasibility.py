"""chain_ftlm runs without the engine on one many-core node: a reduced Fig. 1 and the N = 22/24 check.

  python scripts/ftlm_feasibility.py fig1 --n 16 --members 48 --procs 16 --out DIR
      members in a process pool (one BLAS thread each), the engine's jackknife over 8 blocks,
      prints omega_L, L and rho(T) per omega0 and writes fig1.png and fig1.npz to DIR.
  python scripts/ftlm_feasibility.py size --n 22 --m 200 [--threads 16]
      one start vector of one sector: wall time, peak RSS and the model's memory estimate.
"""
from __future__ import annotations

import argparse
import os
import resource
import time


def fig1(args):
    os.environ["NUMBA_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = "1"
    from multiprocessing import Pool

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from ensemble.engine.estimators import jackknife_arrays
    from ensemble.engine.results import PointResult
    from ensemble.models.tls_chain.ftlm import MODEL

    temps = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0]
    points = []
    for w0, (lo, hi) in zip((0.02, 0.05, 0.2, 0.5), ((0.003, 0.015),) * 2 + ((0.008, 0.04),) * 2):
        p = {x.name: x.default for x in MODEL.params}
        p.update(N=args.n, M=args.m, g=1.0, omega0=w0, T=temps, omega_bin=0.0005,
                 delta_dc_min=lo, delta_dc_max=hi)
        MODEL.check(p)
        points.append(p)
    jobs = [(ip, m) for ip in range(len(points)) for m in range(args.members)]
    t0 = time.time()
    with Pool(args.procs) as pool:
        outs = pool.starmap(_member, [(points[ip], ip, m, args.seed) for ip, m in jobs])
    print(f"{len(jobs)} members in {time.time() - t0:.0f} s on {args.procs} processes")
    results = []
    blocks = 8
    for ip, p in enumerate(points):
        mine = [o for (jp, _), o in zip(jobs, outs) if jp == ip]
        per = np.array_split(np.arange(len(mine)), blocks)
        stacked = {k: np.stack([sum(mine[i][k] for i in idx) for idx in per]) for k in mine[0]}
        sizes = np.array([len(idx) for idx in per], dtype=float)
        _, res = jackknife_arrays(MODEL, p, stacked, sizes)
        results.append(PointResult(p, len(mine), res))
        print(f"omega0={p['omega0']}: T = {temps}")
        for key in ("omega_L", "L", "rho", "Ekin", "sw_total", "fsum", "sw_partial"):
            r = res[key]
            print(f"  {key:10s}" + " ".join(f"{m:.3g}({e:.1g})" for m, e in zip(r.mean, r.stderr)))
        band = res["rho_delta"].mean
        print("  rho band  " + " ".join(f"[{a:.3g},{b:.3g}]" for a, b in zip(band.min(1), band.max(1))))
    os.makedirs(args.out, exist_ok=True)
    fig = plt.figure(figsize=(9, 11))
    MODEL.plot(results, fig)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "fig1.png"), dpi=110)
    np.savez(os.path.join(args.out, "fig1.npz"),
             **{f"w{r.params['omega0']}_{k}": v.mean for r in results for k, v in r.estimates.items()})


def _member(p, ip, m, seed):
    import numpy as np

    from ensemble.models.tls_chain.ftlm import MODEL

    return MODEL.run_shard(p, np.array([m]), [np.random.SeedSequence(seed, spawn_key=(ip, m))])


def size(args):
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
    ap.add_argument("mode", choices=("fig1", "size"))
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--m", type=int, default=1200)
    ap.add_argument("--members", type=int, default=48)
    ap.add_argument("--procs", type=int, default=os.cpu_count())
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--out", default="runs/ftlm_fig1")
    args = ap.parse_args()
    fig1(args) if args.mode == "fig1" else size(args)


if __name__ == "__main__":
    main()
