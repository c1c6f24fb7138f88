"""Two-level runs of the dipolar-gap models (realization = the disorder, vector = one run on it):
fermi_glass_dipolar (vector: a relaxation and its Metropolis streams) and stau_dipolar_gap (vector: a
frozen S configuration).  Flat numbers unchanged, S = 1 against flat, the variance split, extension."""
import json
from pathlib import Path

import numpy as np
import pytest

import ensemble
from ensemble.engine.inprocess import run_in_process
from ensemble.engine.seeding import realization_seed, vector_seeds
from ensemble.engine.store import open_store
from ensemble.engine.variance import components
from ensemble.models.fermi_glass.dipolar import MODEL as DIPOLAR
from ensemble.models.stau_dipolar_gap import MODEL as STAU
from ensemble.models.stau_dipolar_gap.lattice import LENGTH_SCALE, min_image
from ensemble.models.stau_dipolar_gap.sample import draw, s_configuration

DATA = Path(__file__).parent / "data"
SYNC = ensemble.ClusterOptions(kind="sync")
QUIET = dict(cluster=SYNC, progress=False, log=lambda *_: None)

STAU_SMALL = {"L": 5, "x": 0.2, "a_tilde": 1.5, "h_tau": 0.3, "bins": 200}
DIPOLAR_SMALL = {"L": 5, "U0": 0.5, "search": "random", "T": [0.05, 0.1], "sweeps_eq": 5, "sweeps": 20,
                 "bins": 12, "eps_min": 1e-3, "fit_lo": 1e-2, "fit_hi": 0.5}
DIPOLAR_GROUND = {**DIPOLAR_SMALL, "search": "first", "sweeps": 0, "sweeps_eq": 0}


def two_level_raw(model, params, realizations, vectors, shard_size=1, seed=5):
    return {"model": model, "params": params,
            "ensemble": {"realizations": realizations, "vectors": vectors, "shard_size": shard_size, "seed": seed}}


def member_sums(store) -> dict[tuple[int, int], dict[str, np.ndarray]]:
    """Every (realization, vector)'s sums of point 0 of a store whose shards hold one vector each."""
    st = open_store(store)
    table = st.shard_range()
    assert ((table[:, 1] - table[:, 0]) * (table[:, 3] - table[:, 2]) == 1).all()
    names = [a.name for a in st.spec.model.accumulators(st.spec.points()[0])]
    sums = st.read_shards(0, names, np.arange(len(table)))
    return {(int(r[0]), int(r[2])): {n: sums[n][k] for n in names} for k, r in enumerate(table)}


def single_estimates(model, params, sums: dict, names) -> dict[str, float]:
    est = model.finalize({**sums, "members": np.asarray(1.0)}, params)
    return {n: float(est[n].value) for n in names}


# ----- flat numbers -----

@pytest.mark.parametrize("name", ["stau_flat_baseline", "fermi_glass_dipolar_flat_baseline"])
def test_flat_runs_keep_their_numbers_bit_for_bit(name, tmp_path, cli):
    """show --json of the flat task, stored from the code before the two-level form existed."""
    ensemble.run(DATA / f"{name}.toml", tmp_path / "s", **QUIET)
    now = json.loads(cli("show", tmp_path / "s", "--json")[1])
    before = json.loads((DATA / f"{name}.show.json").read_text())
    assert len(now["points"]) == len(before["points"])
    for old, new in zip(before["points"], now["points"]):
        assert new["members_done"] == old["members_done"]
        for key, value in old["estimators"].items():   # estimators added since may appear; none may change
            assert new["estimators"][key] == value, key


# ----- one vector per realization against the flat run -----

def test_dipolar_deterministic_relaxation_s1_equals_flat_and_has_no_run_to_run_spread():
    """search = "first" without Metropolis: a run draws nothing, so R x 1 two-level members equal the R flat
    members (the realization stream is the flat member's), and vectors of one realization are identical."""
    [flat] = run_in_process("fermi_glass_dipolar", DIPOLAR_GROUND, members=6, shard_size=2, seed=9)
    [two] = run_in_process("fermi_glass_dipolar", DIPOLAR_GROUND, realizations=6, vectors=1, shard_size=2, seed=9)
    assert set(flat.estimates) == set(two.estimates)
    for name, res in flat.estimates.items():
        np.testing.assert_array_equal(two.estimates[name].mean, res.mean, err_msg=name)
        np.testing.assert_array_equal(two.estimates[name].stderr, res.stderr, err_msg=name)
    real = DIPOLAR.prepare(DIPOLAR.default_point(**DIPOLAR_GROUND), realization_seed(9, 0, 0))
    runs = [DIPOLAR.run_vectors(DIPOLAR.default_point(**DIPOLAR_GROUND), real, np.array([v]), [s])
            for v, s in enumerate(vector_seeds(9, 0, 0, range(2)))]
    for key in runs[0]:
        np.testing.assert_array_equal(runs[0][key], runs[1][key])


@pytest.mark.parametrize("model, params, names", [
    ("fermi_glass_dipolar", DIPOLAR_SMALL, ["gap_mean", "gs_energy", "relax_moves_per_site", "nu_fit_window"]),
    ("stau_dipolar_gap", STAU_SMALL, ["T_U", "E_tau_mean", "E_tau_typical"]),
])
def test_one_vector_per_realization_agrees_with_flat_within_errors(model, params, names):
    """Same realizations, independent run streams (search order and Metropolis; S configuration): the
    estimators agree within 4 combined standard errors (the flat and two-level errors taken as independent,
    which overstates the error of the difference: the disorder is shared)."""
    [flat] = run_in_process(model, params, members=40, shard_size=4, seed=3)
    [two] = run_in_process(model, params, realizations=40, vectors=1, shard_size=4, seed=3)
    for name in names:
        a, b = flat.estimates[name], two.estimates[name]
        assert float(a.mean) != float(b.mean), name   # the runs really draw their own streams
        assert abs(float(a.mean) - float(b.mean)) < 4 * np.hypot(float(a.stderr), float(b.stderr)), name


def test_s_configuration_matches_a_numpy_reference():
    """E_tau and E_S^min of a frozen S configuration s_i = +-1 on one realization: vectorized numpy with
    U'_ij = s_i U_ij (App. B2's c'_ij = c_ij S_i^z), against the numba kernels."""
    p = STAU.default_point(**{**STAU_SMALL, "L": 3, "x": 0.3})
    seed = realization_seed(4, 0, 2)
    real = STAU.prepare(p, seed)
    [vseed] = vector_seeds(4, 0, 2, [1])
    member = s_configuration(real, vseed, p["h_tau"])
    pos, c, z = draw(np.random.default_rng(seed), p["L"], p["x"])
    s_spin = np.random.default_rng(vseed).choice(np.array([-1.0, 1.0]), len(z))
    assert 0 < (s_spin > 0).sum() < len(z)
    scale = LENGTH_SCALE[p["r_unit"]]
    R = np.linalg.norm(min_image(pos[:, None, :] - pos[None, :, :], p["L"]), axis=-1) * scale
    np.fill_diagonal(R, np.inf)
    U = s_spin[:, None] * c * p["J_stau"] / (R**3 + p["a_tilde"] ** 3)
    e0 = U.sum(axis=0)
    e = e0 + p["h_tau"] * np.abs(e0).mean() * z
    U_flipped = U * np.sign(e)[None, :]
    np.fill_diagonal(U_flipped, -np.inf)
    e_min = (2 * U_flipped - np.abs(e)[None, :]).max(axis=1)
    np.testing.assert_allclose(member.e_tau0, np.abs(e0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(member.e_tau, np.abs(e), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(member.e_min, e_min, rtol=1e-12, atol=1e-14)


# ----- variance split -----

@pytest.mark.parametrize("model, params, R, S, names", [
    (STAU, STAU_SMALL, 48, 6, ["T_U", "E_tau_mean"]),
    (DIPOLAR, DIPOLAR_SMALL, 96, 3, ["nu_fit_window", "relax_moves_per_site"]),
], ids=["stau_dipolar_gap", "fermi_glass_dipolar"])
def test_variance_split_matches_direct_members_and_the_flat_variance(model, params, R, S, names, tmp_path):
    """L = 5: the engine's components of an R x S run equal a one-way ANOVA of the per-member estimators
    computed here from the model directly; between + within/S is the variance of the realization means; and
    between + within is the per-member variance of an independent flat run of 400 members.  That last
    comparison is statistical: a variance from n near-Gaussian values has a relative error of about
    sqrt(2/(n-1)), 0.07 for the 400 flat members and between 0.06 (within-dominated, n = R S) and 0.2
    (between-dominated, n = R) for the two-level side; the tolerance 0.35 is at least 1.7 and mostly more
    than 3 combined errors.  (C_mc is left out: its per-run values are heavy-tailed.)"""
    p = model.default_point(**params)
    ensemble.run(two_level_raw(model.name, params, R, S, seed=21), tmp_path / "t", **QUIET)
    per_member = member_sums(tmp_path / "t")
    st = open_store(tmp_path / "t")
    accs = [a.name for a in model.accumulators(p)]
    comps, reason = components(model, p, st.shard_range(), lambda idx: st.read_shards(0, accs, idx))
    assert not reason
    direct = {}
    for r in range(R):   # recomputed from the model, not read from the store
        real = model.prepare(p, realization_seed(21, 0, r))
        for v, s in enumerate(vector_seeds(21, 0, r, range(S))):
            sums = model.run_vectors(p, real, np.array([v]), [s])
            for key in sums:
                np.testing.assert_array_equal(sums[key], per_member[(r, v)][key])
            direct[(r, v)] = sums
    flat = [single_estimates(model, p, model.run_shard(p, np.array([m]), [realization_seed(22, 0, m)]), names)
            for m in range(400)]
    for name in names:
        theta = np.array([[single_estimates(model, p, direct[(r, v)], [name])[name] for v in range(S)]
                          for r in range(R)])
        theta_r = np.array([float(model.finalize({**{k: sum(direct[(r, v)][k] for v in range(S)) for k in accs},
                                                   "members": np.asarray(float(S))}, p)[name].value) for r in range(R)])
        within = ((theta - theta_r[:, None]) ** 2).sum() / (R * (S - 1))
        between = theta_r.var(ddof=1) - within / S
        c = comps[name]
        assert c.within == pytest.approx(within, rel=1e-10)
        assert c.between == pytest.approx(between, rel=1e-9, abs=1e-12 * within)
        assert c.between + c.within / S == pytest.approx(theta_r.var(ddof=1), rel=1e-9)
        flat_var = np.var([f[name] for f in flat], ddof=1)
        assert c.between + c.within == pytest.approx(flat_var, rel=0.35), name


# ----- extension -----

@pytest.mark.parametrize("model, params", [("stau_dipolar_gap", STAU_SMALL), ("fermi_glass_dipolar", DIPOLAR_SMALL)])
def test_extension_in_r_and_s_equals_a_fresh_run_bitwise(model, params, tmp_path):
    """A 2 x 2 run, stopped after 3 shards and resumed, then extended to 3 x 4, holds, member by member, the
    same bits as a fresh 3 x 4 run."""
    ensemble.run(two_level_raw(model, params, 2, 2), tmp_path / "grow", max_shards=3, **QUIET)
    assert int(open_store(tmp_path / "grow").done().sum()) == 3
    ensemble.run(two_level_raw(model, params, 2, 2), tmp_path / "grow", **QUIET)
    ensemble.run(two_level_raw(model, params, 2, 2), tmp_path / "grow", realizations=3, vectors=4, **QUIET)
    ensemble.run(two_level_raw(model, params, 3, 4), tmp_path / "fresh", **QUIET)
    grown, fresh = member_sums(tmp_path / "grow"), member_sums(tmp_path / "fresh")
    assert sorted(grown) == sorted(fresh) == [(r, v) for r in range(3) for v in range(4)]
    for key, sums in fresh.items():
        for name, value in sums.items():
            np.testing.assert_array_equal(grown[key][name], value, err_msg=f"{key} {name}")
    histogram = "emin_hist" if model == "stau_dipolar_gap" else "gs_hist_lin"
    assert not np.array_equal(fresh[(0, 0)][histogram], fresh[(0, 1)][histogram])   # vectors are different runs


def test_relaxations_from_random_starts_reach_stable_states_at_or_above_the_exact_ground_state():
    """L = 2 (8 sites, 4 particles), U0 = 2 W: the exact ground state by enumerating all 70 occupations (numpy
    energy from the coupling matrix); every run from a random start ends stable against all single moves,
    never below the exact energy; some runs reach it, others stop in metastable states."""
    import itertools

    from ensemble.models.fermi_glass import dipolar_kernels as K

    p = DIPOLAR.default_point(**{**DIPOLAR_GROUND, "L": 2, "U0": 2.0, "start": "random", "search": "random"})
    real = DIPOLAR.prepare(p, realization_seed(1, 0, 0))
    n = len(real.eps)
    U = np.array([[K.coupling(i, j, real.geometry) for j in range(n)] for i in range(n)])
    nu = real.n_part / n

    def energy(occ):
        d = occ - nu
        return real.eps @ occ + 0.5 * d @ U @ d

    exact = min(energy(np.isin(np.arange(n), c).astype(float)) for c in itertools.combinations(range(n), real.n_part))
    runs = [DIPOLAR.run_vectors(p, real, np.array([v]), [s]) for v, s in enumerate(vector_seeds(1, 0, 0, range(12)))]
    found = np.array([r["gs_energy"] * n for r in runs])     # gs_energy is per site, in W = 1
    assert all(r["gs_unstable"] == 0 for r in runs)
    assert (found >= exact - 1e-12).all() and np.isclose(found, exact, rtol=0, atol=1e-12).any()
    assert len(set(np.round(found, 9))) > 1      # and some stop in metastable states above it


# ----- the pages' two-level tables (slow: they run the tasks) -----

def rough_between_error(comp) -> float:
    """Gaussian-theory error of between = var(theta_r) - within/S (the rough error quoted on the pages)."""
    R, S = comp.realizations, comp.vectors_mean
    var_r = comp.between + comp.within / S
    return float(np.hypot(np.sqrt(2 / (R - 1)) * var_r, np.sqrt(2 / (R * (S - 1))) * comp.within / S))


def task_variance_reports(name, tmp_path):
    from ensemble.engine.variance import variance_report

    ensemble.run(Path(__file__).parent.parent / "tasks" / f"{name}.toml", tmp_path / name, **QUIET)
    store = open_store(tmp_path / name)
    return [variance_report(store, p) for p in range(len(store.spec.points()))]


@pytest.mark.slow
def test_stau_gap_is_set_by_the_s_configuration_not_by_the_sample(tmp_path):
    """docs/models/stau_dipolar_gap.md: T_U's between part at most 5 % of its within part (2 rough errors),
    3.2 % scatter of T_U per configuration; E_tau_mean's between part at most 12 % of within."""
    [rep] = task_variance_reports("stau_two_level", tmp_path)
    t_u, e_tau = rep.estimators["T_U"], rep.estimators["E_tau_mean"]
    assert t_u.between + 2 * rough_between_error(t_u) <= 0.05 * t_u.within
    assert e_tau.between + 2 * rough_between_error(e_tau) <= 0.13 * e_tau.within
    [pt] = ensemble.results(tmp_path / "stau_two_level")
    assert np.sqrt(t_u.within) / float(pt.estimates["T_U"].mean) == pytest.approx(0.032, abs=0.004)


@pytest.mark.slow
def test_dipolar_gap_dos_is_run_to_run_and_energy_sample_to_sample(tmp_path):
    """docs/models/fermi_glass.md: nu_fit_window's between part at most 15 % (lowest start) and 25 % (random
    start) of its within part (2 rough errors); 95-96 % of the energy's variance is between samples."""
    reports = task_variance_reports("fermi_glass_dipolar_two_level", tmp_path)
    for rep, bound in zip(reports, (0.15, 0.26)):
        nu, energy = rep.estimators["nu_fit_window"], rep.estimators["gs_energy"]
        assert nu.between + 2 * rough_between_error(nu) <= bound * nu.within
        assert energy.between / (energy.between + energy.within) >= 0.94


@pytest.mark.slow
def test_metropolis_specific_heat_varies_more_between_runs_than_between_samples(tmp_path):
    """docs/models/fermi_glass.md: C_mc at T = 0.1 W, within (per run) 3.6e-4 above between 8.7e-5 (k_B/site)^2;
    the deterministic ground state (lowest start, site order) has no within part at all."""
    [rep] = task_variance_reports("fermi_glass_dipolar_two_level_cv", tmp_path)
    c_v, energy = rep.estimators["C_mc_at_T_max"], rep.estimators["gs_energy"]
    assert c_v.within > c_v.between + 2 * rough_between_error(c_v)
    assert c_v.within == pytest.approx(3.59e-4, rel=0.01)
    assert energy.within == 0.0 and energy.between > 0
