"""chain_ftlm as realizations x vectors: flat numbers unchanged, S = 1 against flat, the variance split, bitwise
extension, and the PBC sectors as strata (stratified estimate against the exact trace, Neyman allocation)."""
import json
import os
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np
import pytest

import ensemble
from ensemble.engine.inprocess import run_in_process
from ensemble.engine.report import results_json
from ensemble.engine.seeding import member_seeds, realization_seed, vector_seeds
from ensemble.engine.variance import components
from ensemble.models.normal_two_level import MODEL as NORMAL
from ensemble.models.tls_chain.ftlm import MODEL
from ensemble.engine.strata import Stratum, stratified_estimate
from test_chain_ftlm import lab_operators, params
from test_engine_two_level import SYNC

BASELINE = Path(__file__).parent / "data" / "chain_ftlm_flat_baseline.json"
SMALL = dict(T=[0.5, 1.0], omega_bin=0.01, omega_max=8.0, delta=0.1, delta_dc_min=0.05, delta_dc_max=0.2)
SCALARS = ("rho_at_T_min", "Ekin_at_T_min")


def test_flat_runs_keep_their_numbers_bit_for_bit():
    """show --json of three flat runs made before the two-level form existed (ftlm pbc and twist, dqt with
    members_per_T), reproduced exactly: the flat streams and summation are unchanged."""
    for name, case in json.loads(BASELINE.read_text()).items():
        spec = case["spec"]
        ens = spec["ensemble"]
        [pt] = run_in_process(spec["model"], spec["params"], members=ens["members"], shard_size=ens["shard_size"],
                              seed=ens["seed"])
        reference = case["show"]["points"][0]["estimators"]
        now = results_json("chain_ftlm", [pt])["points"][0]["estimators"]
        assert {key: now[key] for key in reference} == reference, name
        assert set(now) - set(reference) == set(SCALARS)


def test_scalars_are_rho_and_ekin_at_the_lowest_temperature():
    p = MODEL.default_point(N=4, M=16, **{**SMALL, "T": [1.0, 0.5, 2.0]})
    sums = MODEL.run_shard(p, np.arange(3), member_seeds(3, 0, range(3)))
    est = MODEL.finalize({**sums, "members": np.asarray(3.0)}, p)
    assert est["rho_at_T_min"].value == est["rho"].value[1] and est["Ekin_at_T_min"].value == est["Ekin"].value[1]


def test_twist_of_realization_r_is_flat_member_r_and_one_vector_agrees_within_errors():
    """The twist K of realization r is the first draw of the stream of flat member r (bitwise); the start vectors
    come from other streams, so the S = 1 run agrees with the flat run within errors, not digit for digit."""
    p = MODEL.default_point(N=6, M=40, boundary="twist", **SMALL)
    for r in range(5):
        flat_k = np.random.default_rng(member_seeds(9, 0, [r])[0]).uniform(0.0, 2 * np.pi)
        assert MODEL.prepare(p, realization_seed(9, 0, r)).k == flat_k
    [flat] = run_in_process("chain_ftlm", p, members=40, shard_size=4, seed=9)
    [two] = run_in_process("chain_ftlm", p, realizations=40, vectors=1, shard_size=4, seed=9)
    for name in ("E", "Ekin", "J2", *SCALARS):
        a, b = flat.estimates[name], two.estimates[name]
        assert np.all(a.mean != b.mean), name  # other start vectors
        assert np.all(np.abs(a.mean - b.mean) < 4 * np.hypot(a.stderr, b.stderr)), name


def test_pbc_realization_r_is_sector_r_mod_n_and_agrees_with_flat_within_errors():
    p = MODEL.default_point(N=5, M=24, **SMALL)
    assert [MODEL.prepare(p, realization_seed(0, 0, r)).index for r in range(7)] == [0, 1, 2, 3, 4, 0, 1]
    [flat] = run_in_process("chain_ftlm", p, members=40, shard_size=5, seed=3)
    [two] = run_in_process("chain_ftlm", p, realizations=5, vectors=8, shard_size=4, seed=3)
    for name in ("E", "Ekin", *SCALARS):
        a, b = flat.estimates[name], two.estimates[name]
        assert np.all(np.abs(a.mean - b.mean) < 4 * np.hypot(a.stderr, b.stderr)), name


def _block_sums(p, seed, realizations, blocks, size):
    """Shard rows (r, r+1, v0, v0 + size) and their sums for ``blocks`` blocks per realization, from the model."""
    rows, sums = [], []
    for r in realizations:
        sector = MODEL.prepare(p, realization_seed(seed, 0, r))
        for b in range(blocks):
            ids = np.arange(b * size, (b + 1) * size)
            rows.append((r, r + 1, ids[0], ids[-1] + 1))
            sums.append(MODEL.run_vectors(p, sector, ids, vector_seeds(seed, 0, r, ids)))
    return np.array(rows), {k: np.stack([s[k] for s in sums]) for k in sums[0]}


def _theta(p, sums, idx, members, name):
    tot = {k: v[idx].sum(axis=0) for k, v in sums.items()}
    return float(MODEL.finalize({**tot, "members": np.asarray(float(members))}, p)[name].value)


def test_variance_split_sums_to_the_spread_of_realization_means_and_predicts_other_realizations():
    """Twist FTLM at N_s = 8, R = 100 realizations x 3 shards of 4 vectors (rho is 1/sigma(0): shards of one
    vector, or N_s = 6, put sigma(0) of some shards near zero, far from the linear regime the split assumes).  between + within/12 equals the variance of the
    per-realization estimates of the same run (the split is complete), and between + within/4 predicts the
    spread of 100 other realizations measured with 4 vectors each.  Sample variances of 100 values scatter by
    sqrt(2/99) = 14 %, the prediction about as much: 50 % is 2.5 combined errors."""
    p = MODEL.default_point(N=8, M=40, boundary="twist", **SMALL)
    R, B, size = 100, 3, 4
    rows, sums = _block_sums(p, 21, range(R), B, size)
    comps, reason = components(MODEL, p, rows, lambda idx: {k: v[idx] for k, v in sums.items()})
    assert not reason
    _, other = _block_sums(p, 21, range(R, 2 * R), 1, size)
    for name in SCALARS:
        c = comps[name]
        assert c.realizations == R and c.vectors_mean == B * size
        theta_r = [_theta(p, sums, np.arange(r * B, (r + 1) * B), B * size, name) for r in range(R)]
        assert c.between + c.within / (B * size) == pytest.approx(np.var(theta_r, ddof=1), rel=1e-10)
        spread = np.var([_theta(p, other, [i], size, name) for i in range(R)], ddof=1)
        assert c.between + c.within / size == pytest.approx(spread, rel=0.5), name
        assert c.between > 0 and c.within > 0


@pytest.mark.parametrize("method", ["ftlm", "dqt"])
def test_extension_in_r_and_s_is_bitwise_a_fresh_run(tmp_path, cli, method):
    extra = {"delta": 0.2, "delta_dc_min": 0.2, "delta_dc_max": 0.4} if method == "dqt" else {}
    raw = {"model": "chain_ftlm", "params": {"N": 4, "M": 12, "boundary": "twist", "method": method, **SMALL, **extra},
           "ensemble": {"realizations": 2, "vectors": 2, "shard_size": 1, "seed": 5}}
    quiet = dict(cluster=SYNC, progress=False, log=lambda *_: None)
    ensemble.run(raw, tmp_path / "grown", **quiet)
    ensemble.run(raw, tmp_path / "grown", realizations=4, vectors=3, **quiet)
    ensemble.run({**raw, "ensemble": {**raw["ensemble"], "realizations": 4, "vectors": 3}}, tmp_path / "fresh", **quiet)
    a, b = (json.loads(cli("show", tmp_path / n, "--json")[1])["points"][0] for n in ("grown", "fresh"))
    assert a["members_done"] == 12 and a["estimators"] == b["estimators"]
    for name in SCALARS:
        for key in ("between", "within"):
            assert a["variance_components"][name][key] == b["variance_components"][name][key]


def _complete_basis_stratum(p, k, copies=1):
    """Sector k with every basis state as a start vector (``copies`` times), in two blocks per copy."""
    n, d = p["N"], 1 << p["N"]
    starts = [(s, 2 * np.pi * k / n, np.eye(1, d, s, dtype=complex)[0]) for s in range(d)]
    blocks = [MODEL.start_vector_sums(p, starts[:d // 2]), MODEL.start_vector_sums(p, starts[d // 2:])] * copies
    return Stratum(k, {key: np.stack([b[key] for b in blocks]) for key in blocks[0]}, np.full(2 * copies, d / 2))


def _lab_thermal_averages(p):
    h, j = lab_operators(p["N"], p["g"], p["omega0"])
    hk, _ = lab_operators(p["N"], 0.0, 0.0)
    e, v = np.linalg.eigh(h)
    diag = {"E": e, "Ekin": np.einsum("in,ij,jn->n", v.conj(), hk, v).real,
            "J2": np.einsum("in,ij,jn->n", v.conj(), j @ j, v).real}
    out = {}
    for key, x in diag.items():
        w = np.exp(-(e - e.min())[None, :] / np.asarray(p["T"])[:, None])
        out[key] = (w @ x) / w.sum(axis=1)
    return out


def _check_stratified_exact(p):
    """Complete bases in every sector, sector 0 counted twice: the stratified estimate is the exact trace,
    while pooling the sums (the plain ratio) over-weights sector 0 and misses it."""
    strata = [_complete_basis_stratum(p, k, copies=2 if k == 0 else 1) for k in range(p["N"])]
    res = stratified_estimate(MODEL, p, strata)
    exact = _lab_thermal_averages(p)
    for key in ("E", "Ekin", "J2"):
        np.testing.assert_allclose(res.estimates[key][0], exact[key], rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.estimates["C_int"][0], exact["J2"], rtol=0, atol=1e-10)
    pooled = {k: sum(st.blocks[k].sum(axis=0) for st in strata) for k in strata[0].blocks}
    est = MODEL.finalize({**pooled, "members": np.asarray(1.0)}, p)
    assert np.abs(est["E"].value - exact["E"]).max() > 1e-4


def test_pbc_stratified_estimate_is_the_exact_trace_with_complete_bases():
    _check_stratified_exact(params(N=6, M=64, reorth=True))
    _check_stratified_exact(params(N=4, method="dqt", delta=0.2, delta_dc_min=0.2, delta_dc_max=0.4))


@pytest.mark.slow
def test_pbc_stratified_estimate_is_the_exact_trace_at_ns8():
    _check_stratified_exact(params(N=8, M=256, reorth=True))  # ~4 min on one shared core


def test_stratified_error_and_neyman_allocation_on_gaussian_strata():
    """Strata of Gaussian draws with known sigma_K: the estimate is the mean of the stratum means, its error
    sqrt(sum sigma_K^2/n_K)/N_strata, and Neyman shares are sigma_K / sum sigma."""
    rng = np.random.default_rng(4)
    sigma = np.array([0.5, 1.0, 2.0, 4.0])
    n_vec = np.array([200, 300, 400, 500])
    strata, means = [], []
    for k, (s, n) in enumerate(zip(sigma, n_vec)):
        x = rng.normal(10.0 * k, s, n)
        means.append(x.mean())
        blocks = x.reshape(-1, 1)  # one vector per block
        strata.append(Stratum(k, {"sum_x": blocks.sum(axis=1), "sum_x2": (blocks ** 2).sum(axis=1)}, np.ones(n)))
    res = stratified_estimate(NORMAL, {}, strata)
    value, err = res.estimates["mean"]
    assert value == pytest.approx(np.mean(means), rel=1e-12)
    # the error of a variance estimate from n draws is sqrt(2/n): <= 10 % here, 25 % is > 2.5 of it
    assert err == pytest.approx(np.sqrt((sigma ** 2 / n_vec).sum()) / 4, rel=0.25)
    np.testing.assert_allclose(res.neyman_fractions("mean"), sigma / sigma.sum(), rtol=0.25)
    present = (sigma ** 2 / n_vec).sum()
    assert res.neyman_variance_ratio("mean") == pytest.approx(sigma.sum() ** 2 / n_vec.sum() / present, rel=0.25)
    # a stratum ten times as expensive gets sqrt(10) times fewer vectors
    costly = res.neyman_fractions("mean", costs=[1, 1, 1, 10]) / res.neyman_fractions("mean")
    assert costly[3] / costly[0] == pytest.approx(10 ** -0.5, rel=1e-12)


def test_show_gives_the_stratified_estimate_of_pbc_sectors(tmp_path, cli):
    raw = {"model": "chain_ftlm", "params": {"N": 4, "M": 12, **SMALL},
           "ensemble": {"realizations": 4, "vectors": 4, "shard_size": 2, "seed": 8}}
    ensemble.run(raw, tmp_path / "pbc", cluster=SYNC, progress=False, log=lambda *_: None)
    point = json.loads(cli("show", tmp_path / "pbc", "--json")[1])["points"][0]
    doc, engine = point["stratified"], point["estimators"]
    assert "variance_components" not in point  # strata are not random draws: no between/within split
    assert doc["strata"] == [0, 1, 2, 3] and doc["vectors_per_stratum"] == [4.0] * 4
    for name in ("E", *SCALARS):  # equal allocation: the same sums, summed in another order
        np.testing.assert_allclose(doc["estimators"][name]["mean"], engine[name]["mean"], rtol=1e-12)
        # the engine's jackknife deletes whole sectors and so counts the spread between them
        assert np.all(np.asarray(doc["estimators"][name]["stderr"]) < np.asarray(engine[name]["stderr"]))
    assert sum(doc["estimators"]["rho_at_T_min"]["neyman_fractions"]) == pytest.approx(1.0)
    code, out, _ = cli("show", tmp_path / "pbc")
    assert code == 0 and "stratified estimate" in out and "Neyman" in out and "best vectors" not in out

    ensemble.run({**raw, "params": {**raw["params"], "boundary": "twist"}}, tmp_path / "tw", cluster=SYNC,
                 progress=False, log=lambda *_: None)
    twist = json.loads(cli("show", tmp_path / "tw", "--json")[1])["points"][0]
    assert "stratified" not in twist and "variance_components" in twist
    ensemble.run({**raw, "ensemble": {**raw["ensemble"], "vectors": 2, "shard_size": 2}}, tmp_path / "whole",
                 cluster=SYNC, progress=False, log=lambda *_: None)
    whole = json.loads(cli("show", tmp_path / "whole", "--json")[1])["points"][0]["stratified"]
    assert whole == {"reason": "stratum 0: one shard done; the stratified error needs two per stratum "
                               "(use shard_size < vectors)"}
