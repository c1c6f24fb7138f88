"""Benchmark: exact factorized GKSL solver vs 4^N sparse Liouvillian integration (App. F), same problem.

python bench/gksl.py [N ...]   (default 6 7).  Prints the max deviation of all pair matrices rho_ij(t)
and the wall-time ratio.  QuTiP mesolve is timed too when qutip is importable.
"""
from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
import numpy as np  # noqa: E402

from ensemble.models.tls_dynamics import _dense as ref  # noqa: E402
from ensemble.models.tls_dynamics import _disorder as dis  # noqa: E402
from ensemble.models.tls_dynamics._factorized import pair_rhos  # noqa: E402


def bench(N, eps_diss=1.0, T=0.0, seed=1):
    r = dis.draw(np.random.default_rng(seed), N, 0.1, 2.0, 1e3, 10.0)
    times = np.logspace(-4, -1, 7)
    gup, gdn = dis.rates(r, eps_diss, T)
    pair_rhos(times[:1], r.J, r.nu, gup, gdn, r.rho0)   # JIT warm-up
    t0 = time.perf_counter()
    fac = pair_rhos(times, r.J, r.nu, gup, gdn, r.rho0)
    t_fac = time.perf_counter() - t0
    U = ref.to_liom_basis(r.eps, r.delta)
    rphys = np.array([U[k] @ r.rho0[k] @ U[k].conj().T for k in range(N)])
    t0 = time.perf_counter()
    L = ref.lindblad_generator(r.eps, r.delta, r.J, r.Y, dis.bose(r.nu, T), eps_diss)
    rho = ref.evolve_dense(L, ref.product_state(rphys), times, dense_max_dim=0)
    t_full = time.perf_counter() - t0
    err, p = 0.0, 0
    for i in range(N):
        for j in range(i + 1, N):
            ex = ref.rotate_to_liom(ref.partial_trace(rho, [i, j], N), U, [i, j])
            err = max(err, np.abs(ex - fac[p]).max())
            p += 1
    line = f"N={N}: factorized {t_fac * 1e3:.2f} ms, 4^N sparse expm_multiply {t_full:.2f} s, " \
           f"ratio {t_full / t_fac:.0f}x, max |d rho_ij| = {err:.1e}"
    try:
        import qutip

        H = qutip.Qobj(ref.hamiltonian(r.eps, r.delta, r.J))
        cops = []
        f = dis.bose(r.nu, T)
        for k in range(N):
            s0, spl, smi = (qutip.Qobj(ref._embed(o, k, N)) for o in ref.site_ops(r.eps[k], r.delta[k]))
            cops.append(np.sqrt(eps_diss * r.Y[k] * (1 + f[k])) * spl)   # Eq. (10) = Y(1+f) D[S+] + Y f D[S-]
            if f[k] > 0:
                cops.append(np.sqrt(eps_diss * r.Y[k] * f[k]) * smi)
        t0 = time.perf_counter()
        res = qutip.mesolve(H, qutip.Qobj(ref.product_state(rphys)), np.concatenate([[0.0], times]), cops,
                            options={"atol": 1e-12, "rtol": 1e-10, "nsteps": 10**7})
        t_q = time.perf_counter() - t0
        dq = max(np.abs(np.asarray(s.full()) - rho[k]).max() for k, s in enumerate(res.states[1:]))
        line += f"; qutip mesolve {t_q:.2f} s (ratio {t_q / t_fac:.0f}x, max |d rho| vs 4^N {dq:.1e})"
    except ImportError:
        line += "; qutip not installed"
    print(line, flush=True)


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [6, 7]:
        bench(n)
