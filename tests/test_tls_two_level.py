"""tls_dynamics as a two-level ensemble: realization = disorder (positions, energies, tunnelling amplitudes,
couplings, rates), vector = random product initial state.  Flat numbers unchanged; S = 1 against the flat
run with the same disorder; the variance split against an independent flat sample; resume and extension
in R and S bitwise."""
import json
from pathlib import Path

import numpy as np
import pytest

from ensemble.engine.seeding import member_seeds, realization_seed, vector_seeds
from ensemble.engine.spec import spec_from_dict
from ensemble.engine.store import table_for
from ensemble.engine.tasks import shard_sums
from ensemble.engine.variance import components
from ensemble.engine.inprocess import run_in_process
from ensemble.models.tls_dynamics import MODEL, state_curves, window_middle_index
from ensemble.models.tls_dynamics import _disorder

BASELINE = Path(__file__).parent / "data" / "tls_dynamics_flat_baseline.json"
# small and fast: N = 6 with the entropy, a coarse grid whose middle of the fit window is t = 1e-2
SMALL = {"N": 6, "entropy": True, "n_t": 13, "t_min": 1e-6, "t_max": 1e6, "fit_tmin": 1e-3, "fit_tmax": 1e-1}


def point(**overrides):
    return MODEL.default_point(**{**SMALL, **overrides})


def test_flat_spec_numbers_are_those_recorded_before_the_two_level_form():
    """Estimators of a tiny flat run (unitary and GKSL with the entropy, and Haar states), recorded from the
    model before it had prepare/run_vectors, are reproduced bit for bit."""
    for name, case in json.loads(BASELINE.read_text()).items():
        points = run_in_process("tls_dynamics", case["params"], **case["ensemble"])
        assert len(points) == len(case["points"]), name
        for pt, recorded in zip(points, case["points"]):
            for est, ref in recorded.items():
                got = pt.estimates[est]
                for field in ("mean", "stderr"):
                    assert np.array_equal(np.asarray(getattr(got, field), float),
                                          np.asarray(ref[field], float), equal_nan=True), (name, est, field)


def test_realization_r_has_the_disorder_of_flat_member_r():
    """prepare() reads the realization's stream as the flat member reads its own, up to the initial state."""
    p = point(eps_diss=0.5, T=2000.0)
    for r in (0, 3):
        flat = _disorder.draw(np.random.default_rng(member_seeds(9, 0, [r])[0]), p["N"], p["Delta_bar"],
                              p["n_Delta"], p["R"], p["L0_nm"])
        prep = MODEL.prepare(p, realization_seed(9, 0, r))
        for field in ("pos", "eps", "delta", "nu", "J", "Y", "box"):
            assert np.array_equal(getattr(prep.disorder, field), getattr(flat, field)), field
        gup, gdn = _disorder.rates(flat, 0.5, 2000.0)
        assert np.array_equal(prep.gup, gup) and np.array_equal(prep.gdn, gdn)
        assert len(prep.partitions) >= 1 and all(len(A) == p["N"] // 2 for A in prep.partitions)


def test_haar_mode_has_no_disorder_and_its_vectors_are_flat_members():
    p = MODEL.default_point(mode="haar", N=4)
    assert MODEL.prepare(p, realization_seed(1, 0, 0)) is None
    seeds = vector_seeds(1, 0, 0, range(3))
    flat, two = MODEL.run_shard(p, np.arange(3), seeds), MODEL.run_vectors(p, None, np.arange(3), seeds)
    assert all(np.array_equal(flat[k], two[k]) for k in flat)


@pytest.mark.parametrize("eps_diss", [0.0, 1.0])
def test_one_state_per_realization_agrees_with_flat_within_errors(eps_diss):
    """Same disorder, different initial states: the paired differences of C(t) and S_E(t) between flat
    member r and realization r (S = 1) average to zero within 4 standard errors at every resolved time,
    and the test resolves a bias of 25 % of C at the middle of the fit window."""
    p, R, seed = point(eps_diss=eps_diss), 200, 21
    diffs = {"C_sum": [], "S_sum": []}
    two_level_C = []
    for r in range(R):
        flat = MODEL.run_shard(p, np.array([r]), member_seeds(seed, 0, [r]))
        two = MODEL.run_vectors(p, MODEL.prepare(p, realization_seed(seed, 0, r)), np.array([0]),
                                vector_seeds(seed, 0, r, [0]))
        for k in diffs:
            diffs[k].append(flat[k] - two[k])
        two_level_C.append(two["C_sum"])
    for k, d in diffs.items():
        d = np.asarray(d)
        sem = d.std(axis=0, ddof=1) / np.sqrt(R)
        resolved = sem > 1e-12
        assert resolved.sum() >= 8, k
        assert np.all(np.abs(d.mean(axis=0)[resolved]) < 4 * sem[resolved]), k
    mid = window_middle_index(p)
    [pt] = run_in_process("tls_dynamics", {**SMALL, "eps_diss": eps_diss}, realizations=R, vectors=1, seed=seed)
    C_mid = pt.estimates["C_window_mid"].mean
    assert C_mid == pytest.approx(np.mean(two_level_C, axis=0)[mid], rel=1e-12)   # the engine's sum
    assert np.asarray(diffs["C_sum"])[:, mid].std(ddof=1) / np.sqrt(R) < 0.25 * C_mid / 4


def _shard_values(spec_dict, names):
    """Per-shard sums of every shard of a run, through the engine's shard table and shard_sums."""
    spec = spec_from_dict(spec_dict)
    p = spec.points()[0]
    table = table_for(spec)
    rows = [shard_sums(MODEL, p, spec.seed, 0, tuple(int(x) for x in row))[0] for row in table]
    return p, table, {k: np.stack([r[k] for r in rows]) for k in names}


def _sample_variance_error(x):
    """Standard error of the unbiased sample variance from the fourth central moment."""
    n, m = len(x), x - x.mean()
    s2, m4 = m.var(ddof=1), np.mean(m ** 4)
    return np.sqrt(max(m4 - (n - 3) / (n - 1) * s2 ** 2, 0.0) / n)


@pytest.mark.parametrize("eps_diss", [0.0, 1.0])
def test_variance_split_matches_closed_form_and_an_independent_flat_sample(eps_diss):
    """ensemble show's components for C and S_E/N at the middle of the fit window: (1) they equal the
    closed-form one-way ANOVA of the per-state values, and between + within/S equals the variance of the
    realization means, which agrees with that of an independent two-level run within 4 combined standard
    errors (fourth moments of the realization means); (2) between + within, the variance of one member,
    agrees with the member variance of an independent flat run within 4 combined standard errors
    (delete-one-realization jackknife; fourth moment of the flat sample).  A run whose states did not vary
    would miss it: within is > 20 % of the total here."""
    R, S = 60, 3
    params = {**SMALL, "eps_diss": eps_diss}
    p, table, sums = _shard_values({"model": "tls_dynamics", "params": params, "ensemble": {
        "realizations": R, "vectors": S, "shard_size": 1, "seed": 31}}, ("C_sum", "C_sq", "S_sum", "S_sq"))
    comps, reason = components(MODEL, p, table, lambda idx: {k: v[idx] for k, v in sums.items()})
    assert not reason
    mid = window_middle_index(p)
    order = np.lexsort((table[:, 2], table[:, 0]))
    _, _, flat = _shard_values({"model": "tls_dynamics", "params": params, "ensemble": {
        "members": R * S, "shard_size": 1, "seed": 32}}, ("C_sum", "S_sum"))
    _, table2, other = _shard_values({"model": "tls_dynamics", "params": params, "ensemble": {
        "realizations": R, "vectors": S, "shard_size": 1, "seed": 33}}, ("C_sum", "S_sum"))
    order2 = np.lexsort((table2[:, 2], table2[:, 0]))
    for name, key, scale in (("C_window_mid", "C_sum", 1.0), ("S_E_window_mid", "S_sum", 1.0 / p["N"])):
        x = sums[key][order, mid].reshape(R, S) * scale
        means = x.mean(axis=1)
        within = ((x - means[:, None]) ** 2).sum() / (R * (S - 1))
        between = means.var(ddof=1) - within / S
        c = comps[name]
        assert (c.realizations, c.vectors_mean) == (R, S)
        assert c.within == pytest.approx(within, rel=1e-9) and c.between == pytest.approx(between, rel=1e-9)
        assert c.between + c.within / S == pytest.approx(means.var(ddof=1), rel=1e-9)
        other_means = (other[key][order2, mid].reshape(R, S) * scale).mean(axis=1)   # an independent run
        err = np.hypot(_sample_variance_error(means), _sample_variance_error(other_means))
        assert abs(c.between + c.within / S - other_means.var(ddof=1)) < 4 * err, (name, err)
        total = c.between + c.within

        def total_without(r):
            keep = np.delete(x, r, axis=0)
            m = keep.mean(axis=1)
            w = ((keep - m[:, None]) ** 2).sum() / ((R - 1) * (S - 1))
            return m.var(ddof=1) - w / S + w

        jack = np.array([total_without(r) for r in range(R)])
        total_err = np.sqrt((R - 1) / R * ((jack - jack.mean()) ** 2).sum())
        y = flat[key][:, mid] * scale
        err = np.hypot(total_err, _sample_variance_error(y))
        assert abs(total - y.var(ddof=1)) < 4 * err, (name, total, y.var(ddof=1), err)
        assert err < 0.25 * total and c.within > 0.2 * total, (name, err, c.within, total)


def _spec_text(realizations, vectors):
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in {**SMALL, "N": 4, "n_t": 9}.items())
    return (f'model = "tls_dynamics"\n[params]\n{body}\neps_diss = [0.0, 1.0]\n[ensemble]\n'
            f"realizations = {realizations}\nvectors = {vectors}\nshard_size = 1\nseed = 17\n")


def _show_without_times(cli, store):
    """show --json less what depends on the measured times."""
    doc = json.loads(cli("show", store, "--json")[1])
    for pt in doc["points"]:
        for comp in pt["variance_components"].values():
            for key in ("optimal_vectors", "best_integer_vectors", "flat_cost_ratio"):
                comp.pop(key, None)
    return doc


def test_resume_and_extension_in_r_and_s_are_bitwise(write_spec, tmp_path, cli):
    small, big = write_spec(_spec_text(2, 2), "small.toml"), write_spec(_spec_text(3, 3), "big.toml")
    run = ("--cluster", "sync", "--no-progress")
    grown = tmp_path / "grown"
    code, out, _ = cli("run", small, "--store", grown, *run, "--max-shards", 3)
    assert code == 0 and "computed 3 shard(s)" in out
    assert cli("run", "--store", grown, *run)[0] == 0                      # resume the 2 x 2 run
    assert cli("run", "--store", grown, *run, "--realizations", 3, "--vectors", 3)[0] == 0
    assert cli("run", big, "--store", tmp_path / "fresh", *run)[0] == 0
    a, b = _show_without_times(cli, grown), _show_without_times(cli, tmp_path / "fresh")
    assert a["points"][0]["members_done"] == 9 and a == b


def _binary_entropy(p):
    p = np.clip(p, 1e-300, 1.0)
    q = np.clip(1.0 - p, 1e-300, 1.0)
    return -(p * np.log(p) + q * np.log(q))


def test_claim_unitary_plateaus_are_state_to_state_fluctuations():
    """eps = 0: H is diagonal in the S^0 basis, so the S^0 populations (1 +- z_k)/2 of the initial state are
    conserved and the bubble entropy never exceeds that of the dephased state, sum_{k in A} H2((1 + z_k)/2),
    a function of the initial state alone.  Accordingly the late C and S_E/N scatter between the states of one
    realization, not between realizations: sigma_b² < sigma_w² / 4 (N = 6, 60 x 3; the estimate of
    sigma_b² scatters by about sqrt(2/R)(sigma_b² + sigma_w²/S) ~ 0.06 sigma_w², so 0.25 is 4 of those)."""
    p = point()
    for r in range(2):
        prep = MODEL.prepare(p, realization_seed(3, 0, r))
        for seed in vector_seeds(3, 0, r, range(3)):
            rho0 = _disorder.random_bloch_states(np.random.default_rng(seed), p["N"])
            _, S = state_curves(p, prep, rho0)
            z = (rho0[:, 0, 0] - rho0[:, 1, 1]).real
            bound = np.mean([_binary_entropy((1 + z[A]) / 2).sum() for A in prep.partitions])
            assert np.all(S <= bound + 1e-12) and S[-1] > 0.2 * bound
    p, table, sums = _shard_values({"model": "tls_dynamics", "params": SMALL, "ensemble": {
        "realizations": 60, "vectors": 3, "shard_size": 1, "seed": 41}}, ("C_sum", "C_sq", "S_sum", "S_sq"))
    comps, _ = components(MODEL, p, table, lambda idx: {k: v[idx] for k, v in sums.items()})
    for name in ("C_late", "S_E_late"):
        assert comps[name].between < comps[name].within / 4, (name, comps[name])
