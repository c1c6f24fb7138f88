"""Cross-method checks of the electron-TLS chain (seed 001): exact FTLM vs DMFT vs the static chain.

Each model is tested against exact references in its own test file; here we assert the physical
statements of the seed that link them, at sizes small enough for a fast test (g = t = 1):

* the total optical weight (pi/2)<-E_kin> is a one-particle quantity that DMFT captures (Sec. III.C);
* at low omega0 the vertex corrections DMFT lacks (localization) move weight out of the
  Drude region and raise rho (Fig. 3), while at omega0 ~ omega_L the low-omega weights get close;
* at omega0 = 0 the FTLM ring is the static binary-disorder chain (Sec. II) of chain_static.

Tolerances come from measured size effects (see the comments), not from the values asserted.
"""
import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np
import pytest

from ensemble.engine.estimators import jackknife_arrays
from ensemble.models.tls_chain.dmft import MODEL as DMFT
from ensemble.models.tls_chain.ftlm import MODEL as FTLM
from ensemble.models.tls_chain.static import MODEL as STATIC

TEMPS = [1.0, 2.0]
N_RING = 10          # FTLM ring: 2^10 TLS states per momentum sector
VECTORS = 40         # 4 random vectors per sector
SHARD = 4


def _defaults(model):
    return {p.name: p.default for p in model.params}


def _run(model, params, members, seed):
    """Shards of SHARD members through run_shard, finalized with the engine's jackknife."""
    model.check(params)
    ids = np.arange(members)
    per_shard = {}
    for a in range(0, members, SHARD):
        sel = ids[a:a + SHARD]
        seeds = [np.random.SeedSequence(seed, spawn_key=(0, int(m))) for m in sel]
        for k, v in model.run_shard(params, sel, seeds).items():
            per_shard.setdefault(k, []).append(np.asarray(v, float))
    stacked = {k: np.stack(v) for k, v in per_shard.items()}
    sizes = np.array([min(SHARD, members - a) for a in range(0, members, SHARD)], float)
    return jackknife_arrays(model, params, stacked, sizes)[1]


@pytest.fixture(scope="module")
def ftlm():
    out = {}
    for w0 in (0.0, 0.05, 0.5):
        p = _defaults(FTLM)
        p.update(N=N_RING, M=150, omega0=w0, T=TEMPS, omega_bin=0.002, sw_cutoff=0.25)
        out[w0] = _run(FTLM, p, VECTORS, seed=11)
    return out


@pytest.fixture(scope="module")
def dmft():
    out = {}
    for w0 in (0.05, 0.5):
        p = _defaults(DMFT)
        p.update(omega0=w0, T=TEMPS, omega_max=3.0)
        out[w0] = _run(DMFT, p, 1, seed=12)
    return out


def _dmft_partial_sw(res, cutoff=0.25):
    w = res["sigma_opt"].coords["omega_opt"]
    keep = w <= cutoff + 1e-12
    return np.trapezoid(res["sigma_opt"].mean[:, keep], w[keep], axis=1)


@pytest.mark.parametrize("w0", [0.05, 0.5])
def test_total_weight_dmft_equals_ftlm(ftlm, dmft, w0):
    """(pi/2)<-E_kin>: DMFT vs exact FTLM at T >= t.

    Size effect of the FTLM value: the ring's kinetic energy converges from N = 7 to 16 to within
    0.002 at T = 1 (docs/models/tls_chain.md), and N = 8 vs 10 differ by 0.02 here; DMFT's
    locality error is what is tested.  Allowed: 1.5 % plus 3 jackknife errors.
    """
    f = ftlm[w0]["fsum"]
    d = -0.5 * np.pi * dmft[w0]["kinetic_energy"].mean
    tol = 0.015 * d + 3 * f.stderr
    assert np.all(np.abs(f.mean - d) < tol), (f.mean, f.stderr, d)
    # the total weight is also insensitive to omega0 (paper: E_kin independent of omega0 for omega0 < T)
    assert np.all(np.abs(ftlm[0.05]["fsum"].mean - ftlm[0.5]["fsum"].mean) < 0.02 * d)


def test_slow_tls_localization_beyond_dmft(ftlm, dmft):
    """omega0 = 0.05, T = 1: FTLM has a displaced Drude peak near omega_L ~ 0.5-0.6 t, much less
    weight below 0.25 t and a higher rho than DMFT (Fig. 3a-c).  Margins: the measured ratios are
    ~0.45 (SW) and >= 2 (rho) at N = 8-12, far from the asserted 0.7 and 1.5."""
    f, d = ftlm[0.05], dmft[0.05]
    i = TEMPS.index(1.0)
    assert 0.4 < f["omega_L"].mean[i] < 0.8
    assert f["sw_partial"].mean[i] < 0.7 * _dmft_partial_sw(d)[i]
    assert f["rho"].mean[i] > 1.5 * d["resistivity"].mean[i]


def test_fast_tls_low_frequency_weight_approaches_dmft(ftlm, dmft):
    """At omega0 = 0.5 ~ omega_L there is no displaced peak and the low-frequency weight of FTLM
    recovers most of DMFT's (ratio 0.85 at N = 10, 0.45 at omega0 = 0.05)."""
    i = TEMPS.index(1.0)
    assert np.isnan(ftlm[0.5]["omega_L"].mean[i])
    r_fast = ftlm[0.5]["sw_partial"].mean[i] / _dmft_partial_sw(dmft[0.5])[i]
    r_slow = ftlm[0.05]["sw_partial"].mean[i] / _dmft_partial_sw(dmft[0.05])[i]
    assert r_fast > 0.7 and r_fast > r_slow + 0.2


def test_static_limit_ftlm_ring_vs_static_chain(ftlm):
    """omega0 = 0: the FTLM ring (TLS frozen along x, thermally weighted binary disorder) against
    chain_static (open chains of 400 sites, w = 1/2).  For one electron the annealed and quenched
    averages differ by O(1/N); with the measured ring size effect (N = 8 vs 10: 1 %) and the open-end
    effect (N = 200 vs 400: 0.1 %) the kinetic energies must agree to 1.5 %.  The weight below
    Lambda = 1 t (twice omega_L: the displaced-Drude region) is a coarse-grained probe that the ring's
    discrete spectrum resolves: measured differences 1.7 % (N = 10) and 2 % (N = 8); allowed 4 %.
    (The peak position itself is not compared: sigma_static is flat between 0.4 and 0.65 t.)"""
    p = _defaults(STATIC)
    p.update(N=400, T=TEMPS, p=[0.05], omega_out=3.0)
    s = _run(STATIC, p, 12, seed=13)
    f = ftlm[0.0]
    assert np.all(np.abs(f["fsum"].mean - s["sum_rule"].mean) < 0.015 * s["sum_rule"].mean)
    lam = 1.0
    ws, wf = s["sigma_static"].coords["omega"], f["sigma"].coords["omega"]
    sw_static = s["sigma_static"].mean[:, ws < lam].sum(axis=1) * p["d_omega"]   # bin-centred grid
    sw_ftlm = np.trapezoid(f["sigma"].mean[:, wf <= lam], wf[wf <= lam], axis=1)
    assert np.all(np.abs(sw_ftlm - sw_static) < 0.04 * sw_static), (sw_ftlm, sw_static)


def test_kinetic_energy_independent_of_omega0_about_minus_130_at_t1(ftlm):
    """docs/models/tls_chain.md, Fig. 1 at N_s = 16: E_kin(T = 1) = -1.30 for all four omega0 (paper: E_kin
    does not depend on omega0).  Here N_s = 10 at omega0 = 0, 0.05, 0.5 (measured -1.291(5), -1.291(5),
    -1.289(7)): 0.01 (the N_s = 10 to 16 size effect) plus 3 jackknife errors is allowed around -1.30,
    and 0.01 plus 3 combined errors between omega0."""
    i = TEMPS.index(1.0)
    ekin = {w0: (res["Ekin"].mean[i], res["Ekin"].stderr[i]) for w0, res in ftlm.items()}
    for w0, (val, err) in ekin.items():
        assert abs(val + 1.30) < 0.01 + 3 * err, (w0, val, err)
    (a, ea), (b, eb) = ekin[0.05], ekin[0.5]
    assert abs(a - b) < 0.01 + 3 * np.hypot(ea, eb), ekin


@pytest.mark.parametrize("w0", [0.05, 0.5])
def test_ftlm_exceeds_dmft_near_omega_1_where_the_paper_has_full_agreement(ftlm, dmft, w0):
    """docs/models/tls_chain.md, Section 4: the paper says FTLM and DMFT agree fully again at w >~ w_L
    (Fig. 3a); at T = 1 the exact ring instead lies 1.2-1.5x above DMFT on 0.75 <= w <= 1.5 (N_s = 12).
    The N_s = 10 ring resolves single frequencies less well (ratio 1.04 at w = 1, omega0 = 0.05), so the
    weight on the whole window is compared: measured ratio 1.22 (omega0 = 0.05) and 1.29 (0.5)."""
    i = TEMPS.index(1.0)
    f, d = ftlm[w0]["sigma"], dmft[w0]["sigma_opt"]
    lo, hi = 0.75, 1.5
    wf, wd = f.coords["omega"], d.coords["omega_opt"]
    kf, kd = (wf >= lo - 1e-12) & (wf <= hi + 1e-12), (wd >= lo - 1e-12) & (wd <= hi + 1e-12)
    w_ftlm = np.trapezoid(f.mean[i, kf], wf[kf])
    w_err = np.trapezoid(f.stderr[i, kf], wf[kf])  # upper bound: errors added linearly
    w_dmft = np.trapezoid(d.mean[i, kd], wd[kd])
    assert w_ftlm - 3 * w_err > 1.1 * w_dmft, (w_ftlm, w_err, w_dmft)
