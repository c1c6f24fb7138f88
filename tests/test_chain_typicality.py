"""chain_ftlm method = "dqt" (dynamical typicality) against lab-frame ED, dense propagators and FTLM."""
import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np
import pytest
from scipy.linalg import block_diag, expm

from ensemble.engine.estimators import jackknife
from ensemble.engine.model import SpecError
from ensemble.models.tls_chain.ftlm import MODEL
from ensemble.models.tls_chain.ftlm import hamiltonian as ham
from ensemble.models.tls_chain.ftlm import correlation, typicality
from ensemble.models.tls_chain.ftlm.chebyshev import (Propagator, imaginary_time_coefficients,
                                                      real_time_coefficients)
from test_chain_ftlm import (TEMPS, current_weight_factor, delete_one_jackknife, exact_observables,
                             exact_sigma_data, lab_operators)

OMEGAS = np.array([0.1, 0.25, 0.5, 1.0, 2.0])


def params(**kw):
    small = dict(T=TEMPS, omega_bin=0.002, omega_max=10.0, delta=0.1, delta_dc_min=0.05, delta_dc_max=0.2,
                 peak_min=0.2, method="dqt")
    return MODEL.default_point(**{**small, **kw})


def current_sum_from_sigma(omega, sigma, temps, delta):
    """(int_0^inf sigma_delta g dw, its filter bias bound): the current sum rule read off sigma_delta.

    sigma_delta = G_delta * sigma, so the integral is int sigma (G_delta * g) / 2 over both signs, and
    G_delta * g - g ~ (delta^2/2) g'' with 0 <= g'' <= beta/(3 pi), g >= 2/(pi beta): a relative bias
    of at most (delta beta)^2 / 12.  sigma must be reported beyond the current bandwidth.
    """
    total = np.trapezoid(sigma * current_weight_factor(omega, temps), omega, axis=1)
    return total, (delta / np.asarray(temps, dtype=float)) ** 2 / 12


def test_chebyshev_propagators_match_matrix_exponentials():
    n, k, g, w0 = 5, 0.7, 0.8, 0.4
    h = ham.dense_operator(ham.apply_h, n, k, g, w0)
    v0 = np.random.default_rng(3).standard_normal(1 << n) + 1j
    prop = Propagator(n, k, g, w0, rows=3)
    times = np.array([0.3, 1.1, 2.5])
    rows = prop.expand(real_time_coefficients(prop.a, times), v0)
    for row, t in zip(rows, times):
        np.testing.assert_allclose(row, expm(-1j * h * t) @ v0, atol=1e-11)
    v = v0.copy()
    prop.apply(imaginary_time_coefficients(prop.a, 1.7), v)
    np.testing.assert_allclose(v, expm(-1.7 * (h + prop.a * np.eye(len(h)))) @ v0, atol=1e-12)


def test_correlation_tolerance_keeps_c_of_t_to_1e_6_over_a_long_run(monkeypatch):
    # the real-time steps drop Bessel terms below CORRELATION_TOL; over 800 steps C(t) must stay
    # within 1e-6 (relative) of the 1e-13 propagation, far below any typicality error
    n, g, w0 = 8, 1.0, 0.5
    r = np.random.default_rng(5).standard_normal(1 << n) + 1j * np.random.default_rng(6).standard_normal(1 << n)
    dt, _ = typicality.time_grid(n, g, w0, 0.04, 8.0)
    runs = []
    for tol in (typicality.CORRELATION_TOL, 1e-13):
        monkeypatch.setattr(typicality, "CORRELATION_TOL", tol)
        count = {}
        out = typicality.tally(n, 0.4, g, w0, r, [0.3], dt, 800, counter=count)
        runs.append((out["corr_re"] + 1j * out["corr_im"], count["sweeps"]))
    (loose, sweeps_loose), (tight, sweeps_tight) = runs
    assert np.abs(loose - tight).max() < 1e-6 * np.abs(tight).max()
    assert sweeps_loose < 0.85 * sweeps_tight


def test_current_spectrum_lies_within_the_assumed_bandwidth():
    # the time step relies on C(w) = 0 beyond current_bandwidth; check the weight there by ED
    n = 8
    for g, w0 in ((1.0, 0.5), (1.0, 0.05), (2.0, 1.0)):
        wj = typicality.current_bandwidth(g, w0)
        for temp in (0.1, 3.0):
            out, tot = 0.0, 0.0
            for kk in range(n):
                k = 2 * np.pi * kk / n
                e, jm = exact_sigma_data(ham.dense_operator(ham.apply_h, n, k, g, w0), ham.dense_operator(ham.apply_j, n, k))
                wgt = np.exp(-(e - e.min()) / temp)[:, None] * jm
                tot += wgt.sum()
                out += wgt[np.abs(e[None, :] - e[:, None]) > wj].sum()
            assert out < 1e-8 * tot


def summed(p, vectors):
    """Sum of DQT tallies over (sector K, start vector) pairs, finalized."""
    dt, n_t = typicality.time_grid(p["N"], p["g"], p["omega0"], min(p["delta"], p["delta_dc_min"]), p["omega_max"])
    totals = {a.name: np.zeros(a.shape) for a in MODEL.accumulators(p)}
    for k, r in vectors:
        for key, val in typicality.tally(p["N"], k, p["g"], p["omega0"], r, p["T"], dt, n_t).items():
            totals[key] += val
    return totals


def test_trace_over_a_complete_basis_equals_lab_ed():
    # sum_s <s|e^{-bH/2} J(t) J e^{-bH/2}|s> over every basis state of every sector is the exact trace
    n, g, w0 = 4, 1.0, 0.5
    p = params(N=n, g=g, omega0=w0, omega_out=10.0)
    d = 1 << n
    vecs = [(2 * np.pi * kk / n, np.eye(d, dtype=complex)[s]) for kk in range(n) for s in range(d)]
    est = MODEL.finalize(summed(p, vecs), p)
    h, j = lab_operators(n, g, w0)
    e, j2 = exact_sigma_data(h, j)
    omega = est["sigma"].coords["omega"]
    ref = exact_observables(e, j2, TEMPS, omega, p["delta"])
    np.testing.assert_allclose(est["E"].value, ref["E"], rtol=1e-10)
    np.testing.assert_allclose(est["J2"].value, ref["J2"], rtol=1e-10)
    # current sum rule read off sigma_delta (not C_int, which is C(0) = J2 by construction)
    c_int, bias = current_sum_from_sigma(omega, est["sigma"].value, TEMPS, p["delta"])
    assert np.all(np.abs(c_int / ref["J2"] - 1) < bias + 1e-4), (c_int, ref["J2"], bias)
    # the only approximation is the time window cut at t_max = 4/delta, where it is e^{-8} = 3.4e-4
    np.testing.assert_allclose(est["sigma"].value, ref["sigma"], atol=1e-3 * ref["sigma"].max())
    rho_ref = 1.0 / exact_observables(e, j2, TEMPS, np.zeros(1), np.sqrt(0.05 * 0.2))["sigma"][:, 0]
    np.testing.assert_allclose(est["rho"].value, rho_ref, rtol=1e-3)
    hk, _ = lab_operators(n, 0.0, 0.0)
    ev, vv = np.linalg.eigh(h)
    kin = np.einsum("in,ij,jn->n", vv.conj(), hk, vv).real
    for it, temp in enumerate(TEMPS):
        pb = np.exp(-(ev - ev.min()) / temp)
        assert est["Ekin"].value[it] == pytest.approx(pb @ kin / pb.sum(), rel=1e-10)
    # total weight: sw_total = int_0^inf sigma, against the exact (pi/2) sum over pairs
    wsum = [np.pi / 2 * (np.exp(-(e - e.min()) / temp)[:, None] * j2 *
                         np.where(np.abs(dw := e[None, :] - e[:, None]) < 1e-9, 1 / temp,
                                  -np.expm1(-dw / temp) / np.where(np.abs(dw) < 1e-9, 1, dw))).sum()
            / np.exp(-(e - e.min()) / temp).sum() for temp in TEMPS]
    np.testing.assert_allclose(est["sw_total"].value, wsum, rtol=1e-3)


def exact_correlation_totals(p, e, j2):
    """DQT totals holding the exact Z-weighted C(t) = sum_nm p_n |J_nm|^2 e^{i(E_n - E_m)t} of ED data."""
    dt, n_t = typicality.time_grid(p["N"], p["g"], p["omega0"], min(p["delta"], p["delta_dc_min"]), p["omega_max"])
    t = dt * np.arange(n_t + 1)
    dw = e[:, None] - e[None, :]
    keep = j2 > 1e-14 * j2.max()
    totals = {a.name: np.zeros(a.shape) for a in MODEL.accumulators(p)}
    for it, temp in enumerate(p["T"]):
        pn = np.exp(-(e - e.min()) / temp)
        wgt = (pn[:, None] * j2)[keep]
        corr = np.exp(1j * np.outer(t, dw[keep])) @ wgt
        totals["Z"][it] = pn.sum()
        totals["J2"][it] = totals["C0"][it] = wgt.sum()
        totals["E"][it] = pn @ e
        totals["corr_re"][it], totals["corr_im"][it] = corr.real, corr.imag
    return totals


def test_exact_correlation_of_a_small_ring_gives_ed_sigma_with_a_wide_filter():
    # delta = 5 delta_dc_min, the ratio of the default sigma and rho widths (0.04, 0.008): the time
    # grid reaches delta t = 20, where the exact Kubo kernel is e^{-200} but a small ring's C(t) is not
    # damped at all; a kernel that is not resolved there adds O(1) errors (the former Gauss-Hermite one)
    n, g, w0 = 6, 1.0, 0.5
    p = params(N=n, g=g, omega0=w0, delta=0.1, delta_dc_min=0.02, delta_dc_max=0.1)
    h, j = lab_operators(n, g, w0)
    e, j2 = exact_sigma_data(h, j)
    est = MODEL.finalize(exact_correlation_totals(p, e, j2), p)
    omega = est["sigma"].coords["omega"]
    ref = exact_observables(e, j2, TEMPS, omega, p["delta"])
    np.testing.assert_allclose(est["sigma"].value, ref["sigma"], atol=1e-9 * ref["sigma"].max())
    deltas = est["rho_delta"].coords["delta_dc"]
    for i, dl in enumerate(deltas):  # the 0.02 width is cut at t_max = 4/delta: e^{-8} relative
        rho_ref = 1.0 / exact_observables(e, j2, TEMPS, np.zeros(1), dl)["sigma"][:, 0]
        np.testing.assert_allclose(est["rho_delta"].value[:, i], rho_ref, rtol=1e-3 if i == 0 else 1e-8)


def test_kubo_kernel_matches_high_precision_quadrature_far_beyond_the_window():
    import mpmath as mp

    def reference(w, t, beta, delta):
        def f(x):
            wp = w + x
            mult = mp.tanh(beta * wp / 2) / wp if wp != 0 else mp.mpf(beta) / 2
            return mp.exp(-x * x / (2 * delta ** 2)) / (mp.sqrt(2 * mp.pi) * delta) * mult * mp.cos(wp * t)
        return float(mp.quad(f, mp.linspace(-12 * delta, 12 * delta, int(8 * delta * t) + 8)))

    with mp.workdps(20):
        for temp, delta, w in ((0.3, 0.04, 0.25), (0.0102, 0.008, 0.0)):
            t = np.linspace(0.0, 500.0, 1354)  # the N = 8 grid of delta_dc_min = 0.008: delta t up to 20
            ker = correlation.sigma_kernel(np.array([w]), t, 1 / temp, delta)[0] / (2 * (t[1] - t[0]))
            ker[0] *= 2  # undo the trapezoid half weight
            for j in (0, 400, 1353):
                assert abs(ker[j] - reference(w, t[j], 1 / temp, delta)) < 1e-13 * abs(ker[0]), (temp, delta, w, t[j])


def member_blocks(p, ids, seed=7):
    seeds = [np.random.SeedSequence(seed, spawn_key=(0, int(m))) for m in ids]
    return [MODEL.run_shard(p, np.asarray([m]), [s]) for m, s in zip(ids, seeds)]


def pick(res, name, omega=None):
    r = res[name]
    if omega is None:
        return r.mean, r.stderr
    idx = [int(np.argmin(np.abs(r.coords["omega"] - w))) for w in omega]
    return r.mean[:, idx], r.stderr[:, idx]


def test_random_vectors_agree_with_ed_within_jackknife_errors():
    n, g, w0 = 7, 1.0, 0.2
    p = params(N=n, g=g, omega0=w0)
    _, res = jackknife(MODEL, p, member_blocks(p, range(3 * n)))
    h, j = lab_operators(n, g, w0)
    e, j2 = exact_sigma_data(h, j)
    omega = res["sigma"].coords["omega"]
    ref = exact_observables(e, j2, TEMPS, omega, p["delta"])
    idx = [int(np.argmin(np.abs(omega - w))) for w in OMEGAS]
    for name, exact in (("E", ref["E"]), ("J2", ref["J2"])):
        mean, err = pick(res, name)
        assert np.all(np.abs(mean - exact) < 4 * err + 1e-12), name
    mean, err = pick(res, "sigma", OMEGAS)
    assert np.all(np.abs(mean - ref["sigma"][:, idx]) < 4 * err + 1e-3 * ref["sigma"].max())
    assert np.all(err > 0)
    rho_ref = 1.0 / exact_observables(e, j2, TEMPS, np.zeros(1), np.sqrt(0.05 * 0.2))["sigma"][:, 0]
    mean, err = pick(res, "rho")
    assert np.all(np.abs(mean - rho_ref) < 4 * err + 1e-3 * rho_ref)


def test_random_vectors_at_ns8_agree_with_ed_with_a_wide_filter():
    # N_s = 8, where a ring's C(t) stays undamped over the whole time grid, with delta = 5 delta_dc_min as
    # in the default widths (0.04 and 0.008): 64 vectors, 8 per sector, against lab-frame ED within 4
    # jackknife errors.  The former kernel missed sigma(0.1) here by 5.5 errors (and, at the default
    # widths with 384 vectors, sigma(2.0) at T = 0.3 by 11).
    n, g, w0 = 8, 1.0, 0.5
    p = params(N=n, g=g, omega0=w0, T=[0.3], delta=0.1, delta_dc_min=0.02, delta_dc_max=0.1, omega_out=10.0)
    blocks = member_blocks(p, range(8 * n), seed=5)
    _, res = jackknife(MODEL, p, blocks)
    # ED per momentum sector (the sector operators equal the lab-frame ones: test_chain_ftlm)
    sectors = [exact_sigma_data(ham.dense_operator(ham.apply_h, n, 2 * np.pi * kk / n, g, w0),
                                ham.dense_operator(ham.apply_j, n, 2 * np.pi * kk / n)) for kk in range(n)]
    e = np.concatenate([sec[0] for sec in sectors])
    j2 = block_diag(*[sec[1] for sec in sectors])
    omega = res["sigma"].coords["omega"]
    idx = [int(np.argmin(np.abs(omega - w))) for w in OMEGAS]
    ref = exact_observables(e, j2, p["T"], omega[idx], p["delta"])
    mean, err = pick(res, "sigma", OMEGAS)
    assert np.all(err > 0) and np.all(err < 0.3 * ref["sigma"])
    assert np.all(np.abs(mean - ref["sigma"]) < 4 * err), (mean, err, ref["sigma"])
    for name, exact in (("E", ref["E"]), ("J2", ref["J2"])):
        mean, err = pick(res, name)
        assert np.all(np.abs(mean - exact) < 4 * err), name
    rho_ref = 1.0 / exact_observables(e, j2, p["T"], np.zeros(1), np.sqrt(0.02 * 0.1))["sigma"][:, 0]
    mean, err = pick(res, "rho")
    assert np.all(np.abs(mean - rho_ref) < 4 * err)
    # current sum rule read off sigma_delta, against the ED <J^2>
    c_int, c_err = delete_one_jackknife(
        lambda t: current_sum_from_sigma(omega, MODEL.finalize(t, p)["sigma"].value, p["T"], p["delta"])[0], blocks)
    bias = (p["delta"] / np.asarray(p["T"])) ** 2 / 12  # the filter bias bound of current_sum_from_sigma
    assert np.all(np.abs(c_int / ref["J2"] - 1) < bias + 4 * c_err / ref["J2"]), (c_int, c_err, ref["J2"])


@pytest.mark.slow
def test_default_widths_at_ns8_agree_with_ed_as_a_user_runs_them():
    # tasks/ftlm_dqt_ns8_check_dqt.toml, the spec as a user writes it (default delta_dc_min = 0.008, so
    # t_max = 500 and delta t = 20 for sigma): 384 vectors, shards of 16, through the engine's in-process
    # run.  The former kernel gave sigma(0.25), sigma(0.5), sigma(2.0) at T = 0.3 at +4.3, -6.1, -11.4
    # errors from ED.
    import tomllib
    from pathlib import Path

    from ensemble.engine.inprocess import run_in_process

    spec = tomllib.loads((Path(__file__).resolve().parent.parent / "tasks" / "ftlm_dqt_ns8_check_dqt.toml").read_text())
    par, ens = spec["params"], spec["ensemble"]
    n, g, w0, temps = par["N"], par["g"], par["omega0"], par["T"]
    (res,) = run_in_process("chain_ftlm", par, members=ens["members"], shard_size=ens["shard_size"], seed=ens["seed"])
    res = res.estimates
    h, j = lab_operators(n, g, w0)
    e, j2 = exact_sigma_data(h, j)
    probes = np.array([0.25, 0.5, 1.0, 2.0])
    omega = res["sigma"].coords["omega"]
    ref = exact_observables(e, j2, temps, omega[[int(np.argmin(np.abs(omega - w))) for w in probes]], 0.04)
    mean, err = pick(res, "sigma", probes)
    assert np.all(np.abs(mean - ref["sigma"]) < 4 * err), ((mean - ref["sigma"]) / err)
    for name in ("E", "J2"):
        mean, err = pick(res, name)
        assert np.all(np.abs(mean - ref[name]) < 4 * err), name
    rho_ref = 1.0 / exact_observables(e, j2, temps, np.zeros(1), np.sqrt(0.008 * 0.04))["sigma"][:, 0]
    mean, err = pick(res, "rho")
    assert np.all(np.abs(mean - rho_ref) < 4 * err)


def test_agrees_with_ftlm_on_the_same_vectors():
    # same members and seeds (hence the same random vectors), delta of Fig. 1.  The two estimates share
    # the vectors' noise, so their difference is jackknifed member by member: its error is what a
    # method difference must exceed, far below either method's own error.
    base = dict(N=8, g=1.0, omega0=0.5, delta=0.04, delta_dc_min=0.02, delta_dc_max=0.08, omega_bin=0.002,
                omega_max=8.0, M=200)
    ids = range(16)
    pd, pf = params(**base), params(**base, method="ftlm")
    blocks = [{**{("dqt", k): v for k, v in bd.items()}, **{("ftlm", k): v for k, v in bf.items()}}
              for bd, bf in zip(member_blocks(pd, ids), member_blocks(pf, ids))]
    names = (("sigma", OMEGAS), ("rho", None), ("Ekin", None), ("J2", None))

    def observables(totals, method, par):
        est = MODEL.finalize({k: v for (m, k), v in totals.items() if m == method}, par)
        out = []
        for name, omega in names:
            val = np.atleast_2d(est[name].value.T).T
            if omega is not None:
                val = val[:, [int(np.argmin(np.abs(est[name].coords["omega"] - w))) for w in omega]]
            out.append(val.ravel())
        return np.concatenate(out)

    diff, diff_err = delete_one_jackknife(lambda t: observables(t, "dqt", pd) - observables(t, "ftlm", pf), blocks)
    _, err_dqt = delete_one_jackknife(lambda t: observables(t, "dqt", pd), blocks)
    _, err_ftlm = delete_one_jackknife(lambda t: observables(t, "ftlm", pf), blocks)
    assert np.all(np.abs(diff) < 4 * diff_err + 1e-9), (diff, diff_err)
    assert np.median(diff_err / np.hypot(err_dqt, err_ftlm)) < 0.6  # measured 0.43


def test_method_parameter_and_o_d_memory():
    with pytest.raises(SpecError, match="method"):
        MODEL.param_map()["method"].validate("lanczos")
    with pytest.raises(SpecError, match="too cold"):
        params(T=[0.04], delta=0.04, delta_dc_min=0.04)
    gib = 1 << 30
    assert MODEL.memory_bytes(params(N=24, T=[0.1] * 9, delta=0.04, delta_dc_min=0.008), 1) < 8 * gib
    assert MODEL.memory_bytes(params(N=26, T=[0.1] * 9, delta=0.04, delta_dc_min=0.008), 1) < 20 * gib
    m20, m22, m24 = (MODEL.memory_bytes(params(N=nn), 1) for nn in (20, 22, 24))
    assert (m24 - m22) == 4 * (m22 - m20)  # linear in D = 2^N, no M
    ftlm = MODEL.memory_bytes(params(N=22, method="ftlm", M=300), 1)
    assert ftlm > 10 * m22


def test_fig1_omega0_sweep_shares_one_time_grid(cli, write_spec, tmp_path):
    """The Fig. 1 omega0 values run as one swept store (same accumulator shapes at every point)."""
    grids = {typicality.time_grid(12, 1.0, w0, 0.04, 8.0) for w0 in (0.02, 0.05, 0.2, 0.5)}
    assert len(grids) == 1
    spec = write_spec('model = "chain_ftlm"\n[params]\nmethod = "dqt"\nN = 4\nomega0 = [0.02, 0.5]\n'
                      'T = [0.5, 1.0]\n[ensemble]\nmembers = 2\n')
    code, out, err = cli("graph", spec)
    assert code == 0, err


def test_members_per_t_skips_temperatures_and_keeps_the_ratio_estimates():
    # member m < n_i contributes to the i-th T: totals there equal those of the first n_i members alone
    p = params(N=5, T=[0.3, 1.0], members_per_T=[2, 0], delta=0.1, delta_dc_min=0.1, delta_dc_max=0.1)
    full = params(N=5, T=[0.3, 1.0], delta=0.1, delta_dc_min=0.1, delta_dc_max=0.1)
    seeds = np.random.SeedSequence(11).spawn(4)
    ids = np.arange(4)
    per_t = MODEL.run_shard(p, ids, seeds)
    everything = MODEL.run_shard(full, ids, seeds)
    first_two = MODEL.run_shard(full, ids[:2], seeds[:2])
    for key in ("Z", "J2", "corr_re", "corr_im"):
        np.testing.assert_allclose(per_t[key][0], first_two[key][0], rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(per_t[key][1], everything[key][1], rtol=1e-12, atol=1e-300)
    assert MODEL.run_shard(p, ids[2:], seeds[2:])["Z"][0] == 0.0  # skipped T: nothing added
    rho_cold = MODEL.finalize({**per_t, "members": np.asarray(4.0)}, p)["rho"].value[0]
    assert rho_cold == pytest.approx(MODEL.finalize({**first_two, "members": np.asarray(2.0)}, full)["rho"].value[0],
                                     rel=1e-12)


def test_members_per_t_is_validated():
    with pytest.raises(SpecError, match="2 values for 3 temperatures"):
        params(T=[0.3, 1.0, 2.0], members_per_T=[4, 2])
    with pytest.raises(SpecError, match="only method dqt"):
        params(T=[0.3, 1.0], members_per_T=[4, 2], method="ftlm")
    with pytest.raises(SpecError, match="members_per_T"):
        MODEL.param_map()["members_per_T"].validate([4, -1])
