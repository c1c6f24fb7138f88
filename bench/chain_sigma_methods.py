"""chain_ftlm: cost, statistical error and memory of FTLM (M = 1200) against dynamical typicality (dqt).

In one process, on the same start vectors (member m: sector K = 2 pi (m mod N)/N, the same seeds as
the model), alternating the two methods so both see the same machine load:
  (a) core time per vector (process CPU time, one thread) and its parts: FTLM H.v count x H.v time
      (the rest is the run-2 x run-1 cross matrix, its M^2 D GEMM, and the Ritz/deposit work),
      DQT kernel sweeps;
  (b) jackknife errors over the vectors of rho(T), <-E_kin>(T), sigma(w, T) at w = 0.1 ... 2, and the
      vectors each method needs for a common error: the Fig. 1 grid at equal error costs
      t_vec x (err / target)^2 per method, target = the FTLM error, worst case over T and observables;
      and with DQT vectors spent per T (each T is a separate propagation), the mean over T of that;
  (c) peak traced memory of one vector (tracemalloc: numpy buffers) and the model's memory_bytes;
  (d) H.v against the triad bandwidth at larger N (as bench/ftlm_matvec.py).
Usage: python bench/chain_sigma_methods.py --n 16 --vectors 8 --omega0 0.5 --matvec-n 18 20 22
"""
from __future__ import annotations

import argparse
import os
import time
import tracemalloc

from _timing import best_time, triad_bandwidth

for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402

from ensemble.engine.estimators import jackknife  # noqa: E402
from ensemble.models.tls_chain.ftlm import MODEL  # noqa: E402
from ensemble.models.tls_chain.ftlm import hamiltonian as ham  # noqa: E402

FIG1_T = [0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0]
OMEGAS = [0.1, 0.25, 0.5, 1.0, 2.0]
MIN_VECTORS_PER_T = 4


def params(n, omega0, method, m):
    p = {x.name: x.default for x in MODEL.params}
    p.update(N=n, g=1.0, omega0=omega0, T=FIG1_T, M=m, delta=0.04, delta_dc_min=0.04, delta_dc_max=0.04,
             omega_bin=0.0005, omega_max=8.0, method=method)
    MODEL.check(p)
    return p


def one_vector(p, member, seed):
    ss = np.random.SeedSequence(seed, spawn_key=(0, member))
    t0 = time.process_time()
    out = MODEL.run_shard(p, np.asarray([member]), [ss])
    return out, time.process_time() - t0


def errors(p, blocks):
    _, res = jackknife(MODEL, p, blocks)
    om = res["sigma"].coords["omega"]
    idx = [int(np.argmin(np.abs(om - w))) for w in OMEGAS]
    mean = {"rho": res["rho"].mean, "-Ekin": -res["Ekin"].mean, "sigma": res["sigma"].mean[:, idx]}
    err = {"rho": res["rho"].stderr, "-Ekin": res["Ekin"].stderr, "sigma": res["sigma"].stderr[:, idx]}
    return mean, err


def peak_traced(p, member, seed):
    tracemalloc.start()
    one_vector(p, member, seed)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def matvec_table(sizes):
    bw = triad_bandwidth(256, parallel=False)
    print(f"\n(d) H.v, one thread; triad bandwidth {bw / 1e9:.1f} GB/s; bound = 32 D bytes / bandwidth")
    print(f"{'N':>3} {'ms':>8} {'bound ms':>9} {'fraction':>8}   {'fused DQT sweep ms':>18} {'its bound':>9} {'fraction':>8}")
    for n in sizes:
        d = 1 << n
        v = np.random.default_rng(0).standard_normal(d) + 0j
        w = np.empty_like(v)
        acc = np.zeros((2, d), dtype=complex)
        cf = np.array([[0.1, 0.2], [0.3, -0.1]])
        t_h = best_time(lambda: ham.apply_h(v, w, n, 0.3, 1.0, 0.5), 3)
        t_s = best_time(lambda: ham.apply_h_step(v, w, n, 0.3, 1.0, 0.5, 0.1, 0.0, -1.0, acc, cf), 3)
        b_h = 32 * d / bw
        b_s = (16 + 32 + 64) * d / bw  # read x, read+write y, read+write two sums
        print(f"{n:>3} {1e3 * t_h:>8.2f} {1e3 * b_h:>9.2f} {b_h / t_h:>8.2f}   {1e3 * t_s:>18.2f} {1e3 * b_s:>9.2f} {b_s / t_s:>8.2f}")
        del v, w, acc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--vectors", type=int, default=8)
    ap.add_argument("--omega0", type=float, default=0.5)
    ap.add_argument("--M", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=1002)
    ap.add_argument("--matvec-n", type=int, nargs="*", default=[18, 20, 22])
    args = ap.parse_args()
    n = args.n
    pf = params(n, args.omega0, "ftlm", args.M)
    pd = params(n, args.omega0, "dqt", args.M)
    one_vector(params(8, args.omega0, "ftlm", 50), 0, 0)  # compile outside the timings
    one_vector(params(8, args.omega0, "dqt", 50), 0, 0)

    blocks = {"ftlm": [], "dqt": []}
    times = {"ftlm": [], "dqt": []}
    for member in range(args.vectors):
        for name, p in (("ftlm", pf), ("dqt", pd)):
            out, t = one_vector(p, member, args.seed)
            blocks[name].append(out)
            times[name].append(t)
        print(f"vector {member}: ftlm {times['ftlm'][-1]:.1f} s, dqt {times['dqt'][-1]:.1f} s", flush=True)
    tf, tq = np.mean(times["ftlm"]), np.mean(times["dqt"])

    d = 1 << n
    v = np.random.default_rng(0).standard_normal(d) + 0j
    w = np.empty_like(v)
    t_hv = best_time(lambda: ham.apply_h(v, w, n, 0.3, 1.0, pf["omega0"]), 20)
    from ensemble.models.tls_chain.ftlm import typicality

    cnt = {}
    dt, n_t = typicality.time_grid(n, 1.0, args.omega0, 0.04, 8.0)
    typicality.tally(n, 0.3, 1.0, args.omega0, v.copy(), FIG1_T, dt, n_t, counter=cnt)
    print(f"\nN = {n} (D = {d} per sector), omega0 = {args.omega0}, Fig. 1 T grid ({len(FIG1_T)} T), delta = 0.04, "
          f"rho = 1/sigma_delta(0); {args.vectors} vectors; compare ratios (machine load varies)")
    print("(a) core time per vector")
    hv_share = 2 * args.M * t_hv / tf
    print(f"  FTLM M={args.M}: {tf:.1f} s; H.v {2 * args.M} x {1e3 * t_hv:.2f} ms = {100 * hv_share:.0f} %; "
          f"cross matrix 8 M^2 D = {8 * args.M ** 2 * d / 1e9:.0f} GFlop + Ritz/deposit = {100 * (1 - hv_share):.0f} %")
    print(f"  DQT: {tq:.1f} s; {cnt['sweeps']} kernel sweeps (t_max = {n_t * dt:.0f}, dt = {dt:.3f}); no cross matrix")
    print(f"  per-vector ratio FTLM/DQT = {tf / tq:.2f}")

    mf, ef = errors(pf, blocks["ftlm"])
    mq, eq = errors(pd, blocks["dqt"])
    print("(b) jackknife errors over the vectors (err_FTLM / err_DQT per T) and agreement |diff| / combined err")
    print(f"  {'T':>5} " + " ".join(f"{k:>9}" for k in ("rho", "-Ekin")) + "  sigma at w = " + " ".join(f"{w:>5}" for w in OMEGAS))
    for it, temp in enumerate(FIG1_T):
        cols = []
        for key in ("rho", "-Ekin"):
            cols.append(f"{ef[key][it] / eq[key][it]:>9.2f}")
        sig = ef["sigma"][it] / eq["sigma"][it]
        print(f"  {temp:>5} " + " ".join(cols) + "               " + " ".join(f"{x:>5.2f}" for x in sig))
    pointwise = min(np.min(ef[k] / eq[k]) for k in ef)
    # grid level: per observable (and w), the largest error over the T grid is the figure's error bar
    gridwise = min(np.min(np.max(ef[k], axis=0) / np.max(eq[k], axis=0)) for k in ef)
    dev = max(np.max(np.abs(mf[k] - mq[k]) / np.hypot(ef[k], eq[k])) for k in ef)
    print(f"  largest |FTLM - DQT| / combined error over all T, observables: {dev:.2f}")
    for label, r in (("pointwise (every T and observable)", pointwise),
                     ("grid level (largest error over T, per observable)", gridwise)):
        print(f"  equal error, {label}: err ratio FTLM/DQT >= {r:.2f}, DQT needs {1 / r ** 2:.2f} x the FTLM "
              f"vectors; core time of the Fig. 1 grid FTLM / DQT = {tf / tq * r ** 2:.2f}")

    # DQT propagates each T on its own, so it can spend vectors per T (a spec per T band): n_T from
    # the worst observable at that T, at least MIN_VECTORS_PER_T (a jackknife needs a few); FTLM gets
    # every T from the same vectors.
    n_temps = len(FIG1_T)
    floor = MIN_VECTORS_PER_T / args.vectors
    for label, target in (("pointwise", ef), ("grid level", {k: np.max(ef[k], axis=0) for k in ef})):
        need = np.max([np.max(((eq[k] / target[k]) ** 2).reshape(n_temps, -1), axis=1) for k in ef], axis=0)
        need = np.maximum(need, floor)
        print(f"  vectors per T ({label}): DQT needs {' '.join(f'{x:.2f}' for x in need)} x the FTLM vectors (at least "
              f"{MIN_VECTORS_PER_T} per T); core time FTLM / DQT = {tf / (tq * need.mean()):.2f}")

    print("(c) memory of one vector: traced peak (numpy buffers) and the model estimate memory_bytes")
    for name, p in (("ftlm", pf), ("dqt", pd)):
        pk = peak_traced(p, 0, args.seed)
        print(f"  {name}: traced {pk / 2 ** 20:.0f} MiB, estimate {MODEL.memory_bytes(p, 1) / 2 ** 20:.0f} MiB")
    for nn in (20, 22, 24, 26):
        print(f"  N = {nn}: estimate ftlm(M={args.M}) {MODEL.memory_bytes(params(nn, args.omega0, 'ftlm', args.M), 1) / 2 ** 30:.1f} GiB, "
              f"dqt {MODEL.memory_bytes(params(nn, args.omega0, 'dqt', args.M), 1) / 2 ** 30:.2f} GiB")
    if args.matvec_n:
        matvec_table(args.matvec_n)


if __name__ == "__main__":
    main()
