"""chain_ftlm against independent exact references at small N (lab-frame ED, static disorder, free limit)."""
import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np
import pytest

from ensemble.engine.model import SpecError
from ensemble.models.tls_chain.ftlm import MODEL
from ensemble.models.tls_chain.ftlm import hamiltonian as ham
from ensemble.models.tls_chain.ftlm.ftlm import tally

TEMPS = [0.3, 1.0, 2.5]


def lab_operators(n, g, w0):
    """Dense H and J in the lab basis |x, s> (index x * 2^n + s), built without the sector code."""
    ns = 1 << n
    dim = n * ns
    s = np.arange(ns)
    bits = (s[:, None] >> np.arange(n)[None, :]) & 1
    h = np.zeros((dim, dim), dtype=complex)
    j = np.zeros((dim, dim), dtype=complex)
    for x in range(n):
        idx = x * ns + s
        h[idx, idx] += 0.5 * w0 * (2 * bits.sum(axis=1) - n)
        h[x * ns + (s ^ (1 << x)), idx] += -g
        fwd = ((x + 1) % n) * ns + s  # c+_{x+1} c_x
        h[fwd, idx] += -1.0
        h[idx, fwd] += -1.0
        j[fwd, idx] += 1j
        j[idx, fwd] += -1j
    return h, j


def exact_sigma_data(h, j):
    e, v = np.linalg.eigh(h)
    jm = v.conj().T @ j @ v
    return e, np.abs(jm) ** 2


def exact_observables(e, j2, temps, omega, delta, hkin=None, vecs=None):
    """Thermal sigma_delta(omega) per particle, <H>, <J^2> from exact eigen data."""
    out = {"sigma": [], "E": [], "J2": []}
    dw = e[None, :] - e[:, None]  # dw[n, m] = E_m - E_n
    for temp in temps:
        b = 1.0 / temp
        p = np.exp(-b * (e - e.min()))
        z = p.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            fac = np.where(np.abs(dw) < 1e-9, b, -np.expm1(-b * dw) / dw)
        wgt = (np.pi * p[:, None] * j2 * fac / z).ravel()
        keep = wgt > 1e-14 * wgt.max()  # J is sparse in the eigenbasis
        g = np.exp(-0.5 * ((omega[:, None] - dw.ravel()[None, keep]) / delta) ** 2) / (np.sqrt(2 * np.pi) * delta)
        out["sigma"].append(g @ wgt[keep])
        out["E"].append(p @ e / z)
        out["J2"].append(p @ j2.sum(axis=1) / z)
    return {k: np.asarray(v) for k, v in out.items()}


def params(**kw):
    small = dict(T=TEMPS, omega_bin=0.002, omega_max=10.0, delta=0.1, delta_dc_min=0.05, delta_dc_max=0.2,
                 peak_min=0.2)
    return MODEL.default_point(**{**small, **kw})


def current_weight_factor(omega, temps):
    """g(w) = (w/pi) coth(beta w/2), so that int C(w) dw = int_0^inf sigma(w) g(w) dw (both signs of C).

    C(w) + C(-w) = (1 + e^{-beta w}) C(w) and sigma = pi (1 - e^{-beta w})/w C(w); g(0) = 2/(pi beta).
    """
    beta = 1.0 / np.asarray(temps, dtype=float)[:, None]
    w = np.asarray(omega, dtype=float)[None, :]
    safe = np.where(w == 0.0, 1.0, w)
    return np.where(w == 0.0, 2.0 / (np.pi * beta), safe / (np.pi * np.tanh(0.5 * beta * safe)))


def current_sum_from_histogram(totals, p):
    """int C(w) dw from the deposited sigma histogram and its overflow, not from the C0 tally.

    The folded histogram holds the sigma weight of +-w_b at node b (sw_total = half its sum); the
    overflow is counted at w = omega_max, a lower bound of its g.  Per vector this is the FTLM
    estimate of [<r|e^{-bH} J^2|r> + <r|J e^{-bH} J|r>]/2, so it equals <J^2> only in the trace.
    """
    h, nb = p["omega_bin"], int(round(p["omega_max"] / p["omega_bin"])) + 1
    z = totals["Z"]
    g = current_weight_factor(np.arange(nb) * h, p["T"])
    g_max = current_weight_factor([p["omega_max"]], p["T"])[:, 0]
    return 0.5 * ((totals["sigma_hist"] * g).sum(axis=1) + totals["sigma_over"] * g_max) / z


def delete_one_jackknife(fn, blocks):
    """fn(sum of the blocks) and its delete-one-block jackknife error; fn maps a totals dict to an array."""
    total = {key: sum(b[key] for b in blocks) for key in blocks[0]}
    full = np.asarray(fn(total), dtype=float)
    reps = np.stack([np.asarray(fn({key: total[key] - b[key] for key in total}), dtype=float) for b in blocks])
    n = len(blocks)
    return full, np.sqrt((n - 1) / n * ((reps - reps.mean(axis=0)) ** 2).sum(axis=0))


def exact_ftlm(p):
    """Exact FTLM estimates (``exact_ftlm_totals`` finalized)."""
    return MODEL.finalize(exact_ftlm_totals(p), p)


def exact_ftlm_totals(p):
    """Sum of tallies over every basis vector of every PBC sector, full Krylov spaces: exact FTLM."""
    n = p["N"]
    d = 1 << n
    h, nb = p["omega_bin"], int(round(p["omega_max"] / p["omega_bin"])) + 1
    totals = {a.name: np.zeros(a.shape) for a in MODEL.accumulators(p)}
    for kk in range(n):
        for s in range(d):
            r = np.zeros(d, dtype=complex)
            r[s] = 1.0
            out = tally(n, 2 * np.pi * kk / n, p["g"], p["omega0"], r, d, p["T"], h, nb, reorth=True)
            for key, val in out.items():
                totals[key] += val
    totals["members"] = n * d
    return totals


def test_sector_spectra_reproduce_lab_hamiltonian():
    n, g, w0 = 5, 0.7, 0.3
    h, _ = lab_operators(n, g, w0)
    sec = np.concatenate([np.linalg.eigvalsh(ham.dense_operator(ham.apply_h, n, 2 * np.pi * k / n, g, w0))
                          for k in range(n)])
    np.testing.assert_allclose(np.sort(sec), np.linalg.eigvalsh(h), atol=1e-10)
    # J = dH/dK and H_kin are Hermitian and consistent with H in every sector, also at a twist
    k = 0.37
    hk = ham.dense_operator(ham.apply_h, n, k, g, w0)
    dk = 1e-6
    dh = (ham.dense_operator(ham.apply_h, n, k + dk, g, w0) - ham.dense_operator(ham.apply_h, n, k - dk, g, w0)) / (2 * dk)
    np.testing.assert_allclose(ham.dense_operator(ham.apply_j, n, k), dh, atol=1e-8)
    np.testing.assert_allclose(hk, hk.conj().T, atol=1e-14)
    np.testing.assert_allclose(ham.dense_operator(ham.apply_hkin, n, k),
                               ham.dense_operator(ham.apply_h, n, k, 0.0, 0.0), atol=1e-14)
    np.testing.assert_allclose(ham.csr_h(n, k, g, w0).toarray(), hk, atol=1e-14)


def test_exact_ftlm_matches_lab_ed():
    p = params(N=5, g=1.0, omega0=0.5)
    totals = exact_ftlm_totals(p)
    est = MODEL.finalize(totals, p)
    h, j = lab_operators(5, 1.0, 0.5)
    e, j2 = exact_sigma_data(h, j)
    omega = est["sigma"].coords["omega"]
    ref = exact_observables(e, j2, TEMPS, omega, p["delta"])
    np.testing.assert_allclose(est["E"].value, ref["E"], rtol=1e-9)
    np.testing.assert_allclose(est["J2"].value, ref["J2"], rtol=1e-9)
    np.testing.assert_allclose(est["C_int"].value, ref["J2"], rtol=1e-9)  # C0 = the J2 tally by construction
    # current sum rule from the deposited histogram (a different sum over Ritz pairs than C0);
    # linear (CIC) deposition moves each weight's g by O(h^2 g'') ~ 1e-6 relative
    np.testing.assert_allclose(current_sum_from_histogram(totals, p), ref["J2"], rtol=1e-5)
    # CIC deposition on h = delta/50 costs O((h/delta)^2) relative
    np.testing.assert_allclose(est["sigma"].value, ref["sigma"], rtol=2e-3, atol=2e-4 * ref["sigma"].max())
    rho_ref = 1.0 / exact_observables(e, j2, TEMPS, np.zeros(1), np.sqrt(0.05 * 0.2))["sigma"][:, 0]
    np.testing.assert_allclose(est["rho"].value, rho_ref, rtol=2e-3)
    # kinetic energy against the lab-frame hopping operator
    hk, _ = lab_operators(5, 0.0, 0.0)
    ev, vv = np.linalg.eigh(h)
    kin = np.einsum("in,ij,jn->n", vv.conj(), hk, vv).real
    for it, temp in enumerate(TEMPS):
        pb = np.exp(-(ev - ev.min()) / temp)
        assert est["Ekin"].value[it] == pytest.approx(pb @ kin / pb.sum(), rel=1e-9)


def test_fsum_numbers_of_the_issue_at_n4_n5():
    # the issue's ED: SW(inf) with the thermal w = 0 weight vs (pi/2)<-E_kin>, g = t = 1, w0 = 0.5, T = 1
    for n, sw, fs in ((4, 1.30, 2.22), (5, 1.81, 2.08)):
        est = exact_ftlm(params(N=n, g=1.0, omega0=0.5, T=[1.0]))
        assert est["sw_total"].value[0] == pytest.approx(sw, abs=0.01)
        assert est["fsum"].value[0] == pytest.approx(fs, abs=0.01)


def test_free_electron_drude_weight():
    n = 5
    est = exact_ftlm(params(N=n, g=0.0, omega0=0.4))
    k = 2 * np.pi * np.arange(n) / n
    for it, temp in enumerate(TEMPS):
        p = np.exp(2 * np.cos(k) / temp)
        j2 = p @ (2 * np.sin(k)) ** 2 / p.sum()
        assert est["drude_thermal"].value[it] == pytest.approx(np.pi * j2 / temp, rel=1e-9)
        assert est["sw_total"].value[it] == pytest.approx(0.5 * np.pi * j2 / temp, rel=1e-9)
        assert est["Ekin"].value[it] == pytest.approx(p @ (-2 * np.cos(k)) / p.sum(), rel=1e-9)


def test_omega0_zero_is_binary_static_disorder():
    n, g = 5, 0.8
    p = params(N=n, g=g, omega0=0.0)
    est = exact_ftlm(p)
    # independent: single-particle H for each of the 2^n sigma^x configurations, canonically weighted
    hop = -(np.eye(n, k=1) + np.eye(n, k=-1))
    hop[0, -1] = hop[-1, 0] = -1.0
    cur = 1j * (np.eye(n, k=-1) - np.eye(n, k=1))  # i (c+_{x+1} c_x - h.c.)
    cur[0, -1], cur[-1, 0] = 1j, -1j
    es, j2s = [], []
    for conf in range(1 << n):
        eps = -g * (1 - 2 * ((conf >> np.arange(n)) & 1))
        e, j2 = exact_sigma_data(hop + np.diag(eps), cur)
        es.append(e)
        j2s.append(j2)
    e_all = np.concatenate(es)
    from scipy.linalg import block_diag

    j2_all = block_diag(*j2s)
    omega = est["sigma"].coords["omega"]
    ref = exact_observables(e_all, j2_all, TEMPS, omega, p["delta"])
    np.testing.assert_allclose(est["E"].value, ref["E"], rtol=1e-9)
    np.testing.assert_allclose(est["sigma"].value, ref["sigma"], rtol=2e-3, atol=2e-4 * ref["sigma"].max())


def run_model(p, ids, seed=7):
    seeds = [np.random.SeedSequence(seed, spawn_key=(0, int(m))) for m in ids]
    return MODEL.run_shard(p, np.asarray(ids), seeds)


def test_random_vectors_converge_to_ed_without_reorth():
    # production path: random complex vectors, no reorthogonalization, M < D
    n = 7
    p = params(N=n, g=1.0, omega0=0.2, M=100)
    blocks = [run_model(p, range(a, a + 8)) for a in range(0, 16 * n, 8)]  # 14 blocks of 8 vectors
    tot = {key: sum(b[key] for b in blocks) for key in blocks[0]}
    tot["members"] = 16 * n
    est = MODEL.finalize(tot, p)
    h, j = lab_operators(n, 1.0, 0.2)
    e, j2 = exact_sigma_data(h, j)
    ref = exact_observables(e, j2, TEMPS, est["sigma"].coords["omega"], p["delta"])
    np.testing.assert_allclose(est["E"].value, ref["E"], rtol=0.02)
    np.testing.assert_allclose(est["J2"].value, ref["J2"], rtol=0.06)  # 112 vectors: few % noise
    # current sum rule: the deposited histogram (not the C0 tally, which equals J2 by construction)
    # against the exact <J^2>, within its jackknife error over the blocks
    c_int, c_err = delete_one_jackknife(lambda t: current_sum_from_histogram(t, p), blocks)
    assert np.all(np.abs(c_int - ref["J2"]) < 4 * c_err), (c_int, c_err, ref["J2"])
    assert np.all(c_err < 0.05 * ref["J2"])
    # stochastic error ~ 1/sqrt(vectors * thermally relevant states): largest at low T
    for it, tol in enumerate((0.2, 0.1, 0.06)):
        err = np.abs(est["sigma"].value[it] - ref["sigma"][it]).max()
        assert err < tol * ref["sigma"][it].max()


def test_shard_grouping_does_not_matter_and_twist():
    p = params(N=5, g=1.0, omega0=0.5, M=20, boundary="twist")
    whole = run_model(p, range(6))
    parts = [run_model(p, range(0, 2)), run_model(p, range(2, 6))]
    for key, val in whole.items():
        np.testing.assert_allclose(val, parts[0][key] + parts[1][key], rtol=1e-12, atol=1e-300)


def test_twisted_sector_matches_dense_diagonalization():
    n, k, g, w0 = 5, 1.234, 0.9, 0.6
    hk = ham.dense_operator(ham.apply_h, n, k, g, w0)
    jk = ham.dense_operator(ham.apply_j, n, k)
    e, j2 = exact_sigma_data(hk, jk)
    p = params(N=n, g=g, omega0=w0)
    d = 1 << n
    h, nb = p["omega_bin"], int(round(p["omega_max"] / p["omega_bin"])) + 1
    totals = {a.name: np.zeros(a.shape) for a in MODEL.accumulators(p)}
    for s in range(d):
        r = np.zeros(d, dtype=complex)
        r[s] = 1.0
        for key, val in tally(n, k, g, w0, r, d, TEMPS, h, nb, reorth=True).items():
            totals[key] += val
    totals["members"] = d
    est = MODEL.finalize(totals, p)
    ref = exact_observables(e, j2, TEMPS, est["sigma"].coords["omega"], p["delta"])
    np.testing.assert_allclose(est["J2"].value, ref["J2"], rtol=1e-9)
    np.testing.assert_allclose(est["sigma"].value, ref["sigma"], rtol=2e-3, atol=2e-4 * ref["sigma"].max())


def test_parameter_validation_and_memory():
    with pytest.raises(SpecError, match="delta"):
        params(delta=0.001)
    with pytest.raises(SpecError, match="params.T"):
        params(T=[1e-4])
    with pytest.raises(SpecError, match="boundary"):
        MODEL.param_map()["boundary"].validate("open")
    small = MODEL.memory_bytes(params(N=10, M=1200), 4)
    big = MODEL.memory_bytes(params(N=20, M=1200), 4)
    assert big > 1200 * 16 * (1 << 20) > small
