"""Two-level ensembles (realizations x vectors): seeding, shard tables, setup reuse, graphs, variance
components, the Python API and stopping at a target error."""
import json

import numpy as np
import pytest

import ensemble
from ensemble.engine.graph import build_plan
from ensemble.engine.inprocess import run_in_process
from ensemble.engine.model import SpecError
from ensemble.engine.seeding import realization_seed, two_level_table, vector_seeds
from ensemble.engine.spec import spec_from_dict
from ensemble.engine.store import open_store, table_for
from ensemble.engine.variance import components
from ensemble.models.normal_two_level import MODEL as TWO_LEVEL

SYNC = ensemble.ClusterOptions(kind="sync")


def spec_text(realizations=5, vectors=4, shard_size=2, seed=7, extra=""):
    return f"""
model = "normal_two_level"
[params]
sigma_between = 2.0
sigma_within = 0.5
{extra}
[ensemble]
realizations = {realizations}
vectors = {vectors}
shard_size = {shard_size}
seed = {seed}
"""


def exact_members(realizations, vectors, seed, sb=2.0, sw=0.5, point=0):
    """Every member's x drawn straight from its documented stream, without the engine."""
    xs = np.empty((realizations, vectors))
    for r in range(realizations):
        a = np.random.default_rng(realization_seed(seed, point, r)).normal(0.0, sb)
        for v, s in enumerate(vector_seeds(seed, point, r, range(vectors))):
            xs[r, v] = a + np.random.default_rng(s).normal(0.0, sw)
    return xs


def test_tables_cover_every_member_once_and_extend_without_recutting():
    for r, v, k in [(5, 4, 1), (5, 4, 3), (5, 4, 4), (5, 4, 9), (7, 3, 2)]:
        table = two_level_table(r, v, k)
        cover = np.zeros((r, v), int)
        for r0, r1, v0, v1 in table:
            cover[r0:r1, v0:v1] += 1
            assert (r1 - r0 == 1) or (v0, v1) == (0, v), "a realization's vectors split across multi-realization shards"
        assert (cover == 1).all()
    old = two_level_table(3, 2, 2)
    new = two_level_table(6, 5, 2, existing=old)
    assert (new[:len(old)] == old).all()
    cover = np.zeros((6, 5), int)
    for r0, r1, v0, v1 in new:
        cover[r0:r1, v0:v1] += 1
    assert (cover == 1).all()


def test_in_process_mean_equals_direct_draws_for_any_shard_size():
    xs = exact_members(5, 4, seed=7)
    for k in (1, 3, 4, 8, 20):
        [pt] = run_in_process("normal_two_level", {"sigma_between": 2.0, "sigma_within": 0.5},
                              realizations=5, vectors=4, shard_size=k, seed=7)
        assert pt.members_done == 20
        assert pt.estimates["mean"].mean == pytest.approx(xs.mean(), abs=1e-13)


def test_store_bitwise_across_workers_and_extension_in_r_and_s(write_spec, tmp_path, cli):
    spec = write_spec(spec_text(5, 4, 2))
    ensemble.run(spec, tmp_path / "sync", cluster=SYNC, progress=False, log=lambda *_: None)
    ensemble.run(spec, tmp_path / "two", cluster=ensemble.ClusterOptions(workers=2), progress=False,
                 log=lambda *_: None)
    outs = [cli("show", tmp_path / name, "--json")[1] for name in ("sync", "two")]
    strip = [json.loads(o) for o in outs]
    for doc in strip:  # measured times differ between runs; everything else is bitwise
        for pt in doc["points"]:
            for comp in pt["variance_components"].values():
                comp.pop("optimal_vectors", None)
    assert strip[0] == strip[1]

    small = write_spec(spec_text(3, 2, 2), name="small.toml")
    store = tmp_path / "grow"
    ensemble.run(small, store, cluster=SYNC, progress=False, log=lambda *_: None)
    before = np.asarray(open_store(store).group()["sum_x"][0, :])
    ensemble.run(small, store, cluster=SYNC, progress=False, log=lambda *_: None, realizations=5, vectors=4)
    st = open_store(store)
    assert (np.asarray(st.group()["sum_x"][0, :len(before)]) == before).all()  # old shards untouched
    assert st.done().all() and (st.spec.realizations, st.spec.vectors) == (5, 4)
    [pt] = ensemble.results(store)
    assert pt.members_done == 20
    assert pt.estimates["mean"].mean == pytest.approx(exact_members(5, 4, seed=7).mean(), abs=1e-13)


class CountingModel(type(TWO_LEVEL)):
    calls: list = []

    def prepare(self, params, seed):
        CountingModel.calls.append(tuple(seed.spawn_key))
        return super().prepare(params, seed)


@pytest.mark.parametrize("setup_cost, shard_size, expected", [
    ("expensive", 2, 5),   # 2 shards per realization share one setup node
    ("cheap", 2, 10),      # each shard builds its realization
    ("cheap", 8, 5),       # shards hold whole realizations
])
def test_setup_built_once_per_realization_per_shard(monkeypatch, tmp_path, setup_cost, shard_size, expected):
    import ensemble.models.normal_two_level as mod

    model = CountingModel()
    model.setup_cost = setup_cost
    monkeypatch.setattr(mod, "MODEL", model)
    CountingModel.calls = []
    raw = {"model": "normal_two_level", "ensemble": {"realizations": 5, "vectors": 4, "shard_size": shard_size}}
    ensemble.run(raw, tmp_path / "s", cluster=SYNC, progress=False, log=lambda *_: None)
    assert len(CountingModel.calls) == expected
    assert sorted(set(CountingModel.calls)) == [(0, r) for r in range(5)]
    [pt] = ensemble.results(tmp_path / "s")
    assert pt.estimates["mean"].mean == pytest.approx(exact_members(5, 4, 0, sb=1.0, sw=1.0).mean(), abs=1e-13)


def test_graph_structure_of_a_small_spec():
    spec = spec_from_dict({"model": "normal_two_level", "params": {"sigma_between": [1.0, 2.0]},
                           "ensemble": {"realizations": 3, "vectors": 4, "shard_size": 2}})
    plan = build_plan(spec, None, table_for(spec), np.repeat([0, 1], 6), np.tile(np.arange(6), 2))
    info = plan.summary()
    assert info["shard_nodes"] == 12 and info["setup_nodes"] == 6 and info["edges"] == 12
    assert info["shards_per_point"] == [6, 6]
    deps = [n.setup for n in plan.nodes()]
    assert all(d is not None and d.shares == 2 for d in deps)
    delayed = ensemble.graph  # the API returns dask.delayed objects whose graph has the setup nodes
    assert callable(delayed)
    from ensemble.engine.graph import to_delayed

    objs = to_delayed(plan)
    keys = set().union(*(o.dask.keys() for o in objs))
    assert sum(str(k).startswith("setup-") for k in keys) == 6 and len(keys) == 18
    # a partially done store: only its pending shards, and setups only where still shared
    part = build_plan(spec, None, table_for(spec), [0, 0, 0], [0, 1, 2])
    assert part.summary()["setup_nodes"] == 1


def test_api_graph_computes_into_the_store_like_run(tmp_path, write_spec, cli):
    import dask

    spec = write_spec(spec_text(4, 4, 2))
    objs = ensemble.graph(spec, tmp_path / "g")
    assert len(objs) == 8
    dask.compute(*objs, scheduler="synchronous")
    ensemble.run(spec, tmp_path / "r", cluster=SYNC, progress=False, log=lambda *_: None)
    a, b = (json.loads(cli("show", tmp_path / n, "--json")[1]) for n in ("g", "r"))
    assert a["points"][0]["estimators"] == b["points"][0]["estimators"]


def test_variance_components_match_the_gaussian_model():
    """Unbiased one-way ANOVA on synthetic shard sums with known sigma_b = 2, sigma_w = 0.5."""
    rng = np.random.default_rng(5)
    R, B, n = 2000, 3, 2
    a = rng.normal(0, 2.0, R)
    rows, sx, sx2 = [], [], []
    for r in range(R):
        for b in range(B):
            x = a[r] + rng.normal(0, 0.5, n)
            rows.append((r, r + 1, b * n, (b + 1) * n))
            sx.append(x.sum())
            sx2.append((x * x).sum())
    sums = {"sum_x": np.array(sx), "sum_x2": np.array(sx2)}
    comps, reason = components(TWO_LEVEL, {}, np.array(rows), lambda idx: {k: v[idx] for k, v in sums.items()})
    assert not reason
    c = comps["mean"]
    assert c.within == pytest.approx(0.25, rel=0.05)   # rel. error of the estimate ~ sqrt(2/(R(B-1)))
    assert c.between == pytest.approx(4.0, rel=0.08)   # ~ sqrt(2/R) * (1 + 0.25/(6*4))


def test_show_reports_variance_components_and_optimal_vectors(write_spec, tmp_path, cli):
    spec = write_spec(spec_text(40, 4, 1, extra="setup_s = 0.004\nvector_s = 0.001"))
    ensemble.run(spec, tmp_path / "v", cluster=SYNC, progress=False, log=lambda *_: None)
    code, out, _ = cli("show", tmp_path / "v")
    assert code == 0 and "variance components" in out and "best vectors/realization" in out
    doc = json.loads(cli("show", tmp_path / "v", "--json")[1])
    comp = doc["points"][0]["variance_components"]["mean"]
    assert comp["realizations"] == 40 and comp["vectors_per_realization"] == 4
    # S* = sqrt(sw² t_s / (sb² t_v)) with the times the run recorded (sleeps bound them from below)
    timing = open_store(tmp_path / "v").attrs["timing"]["0"]
    t_setup, t_vec = timing[0] / timing[1], timing[2] / timing[3]
    assert timing[1] == pytest.approx(40) and timing[3] == 160
    assert t_setup >= 0.004 and t_vec >= 0.001
    expected = np.sqrt(comp["within"] * t_setup / (comp["between"] * t_vec))
    assert comp["optimal_vectors"] == pytest.approx(expected, rel=1e-12)


def test_target_error_stops_and_equals_a_plain_run(write_spec, tmp_path, cli):
    """normal_mean: the rounds stop at the first count whose jackknife error meets the target (the round before
    did not), well below the cap, and the store is bitwise a plain run of that count."""
    import re

    spec = write_spec('model = "normal_mean"\n[params]\ndraws = 4\n[ensemble]\nmembers = 8\nshard_size = 4\nseed = 2\n')
    code, out, err = cli("run", spec, "--store", tmp_path / "t", "--cluster", "sync", "--no-progress",
                         "--target-error", "mean=0.01", "--members", "4000")
    assert code == 0, err
    rounds = [int(n) for n in re.findall(r"extending to members = (\d+)", out)]
    ratios = [float(r) for r in re.findall(r"error/target ([\d.]+) \(", out)]
    final = open_store(tmp_path / "t").spec.members
    assert len(rounds) >= 2 and rounds[-1] == final < 4000, out
    assert all(r > 1 for r in ratios) and "target reached" in out
    [pt] = ensemble.results(tmp_path / "t")
    assert pt.estimates["mean"].stderr <= 0.01
    previous = rounds[-2]   # the round before the last: its error did not meet the target
    assert cli("run", spec, "--store", tmp_path / "before", "--cluster", "sync", "--no-progress",
               "--members", previous)[0] == 0
    [before] = ensemble.results(tmp_path / "before")
    assert before.estimates["mean"].stderr > 0.01
    code, _, _ = cli("run", spec, "--store", tmp_path / "plain", "--cluster", "sync", "--no-progress",
                     "--members", final)
    assert cli("show", tmp_path / "t", "--json")[1] == cli("show", tmp_path / "plain", "--json")[1]
    # a cap below what the target needs: stops there, exit 1, work kept
    code, _, err = cli("run", spec, "--store", tmp_path / "cap", "--cluster", "sync", "--no-progress",
                       "--target-error", "mean=1%", "--members", "16")
    assert code == 1 and "not reached" in err
    assert open_store(tmp_path / "cap").done().all()


@pytest.mark.parametrize("ensemble_table, args, fragment", [
    ({"realizations": 3, "vectors": 0}, (), "ensemble.vectors = 0"),
    ({"realizations": 3, "vectors": 2, "members": 6}, (), "either members or realizations"),
    ({"members": 4}, ("--target-error", "nope=1e-3"), "unknown estimator"),
    ({"members": 4}, ("--target-error", "mean=-1"), "NAME=VALUE"),
])
def test_bad_two_level_input_exit_2_store_untouched(write_spec, tmp_path, cli, ensemble_table, args, fragment):
    model = "normal_two_level" if "realizations" in ensemble_table else "normal_mean"
    body = "\n".join(f"{k} = {v}" for k, v in ensemble_table.items())
    spec = write_spec(f'model = "{model}"\n[ensemble]\n{body}\n')
    code, _, err = cli("run", spec, "--store", tmp_path / "st", "--cluster", "sync", *args)
    assert code == 2 and fragment in err and err.strip().count("\n") == 0
    assert not (tmp_path / "st").exists()


def test_two_level_spec_refused_by_flat_model_and_shrinking_refused(write_spec, tmp_path, cli):
    spec = write_spec('model = "normal_mean"\n[ensemble]\nrealizations = 3\n')
    code, _, err = cli("run", spec, "--store", tmp_path / "st", "--cluster", "sync")
    assert code == 2 and "no realization/vector split" in err
    spec = write_spec(spec_text(3, 4, 2), name="ok.toml")
    assert cli("run", spec, "--store", tmp_path / "ok", "--cluster", "sync", "--no-progress")[0] == 0
    code, _, err = cli("run", spec, "--store", tmp_path / "ok", "--cluster", "sync", "--vectors", "2")
    assert code == 2 and "vectors = 2 (from the spec or --vectors) is below the 4" in err


def test_load_gives_labelled_dataset_equal_to_show_json(tmp_path, cli):
    raw = {"model": "normal_mean", "params": {"sigma": [1.0, 3.0], "draws": 20},
           "ensemble": {"members": 12, "shard_size": 3, "seed": 4}}
    ensemble.run(raw, tmp_path / "l", cluster=SYNC, progress=False, log=lambda *_: None)
    ds = ensemble.load(tmp_path / "l")
    doc = json.loads(cli("show", tmp_path / "l", "--json")[1])
    assert list(ds["sigma"].values) == [1.0, 3.0]
    assert list(ds["members_done"].values) == [12, 12]
    for p, pt in enumerate(doc["points"]):
        assert ds["mean_mean"].values[p] == pt["estimators"]["mean"]["mean"]
        assert ds["mean_stderr"].values[p] == pt["estimators"]["mean"]["stderr"]
        assert list(ds["density_mean"].values[p]) == pt["estimators"]["density"]["mean"]
    assert ds["density_mean"].dims == ("point", "x")


def test_spec_replace_validates():
    spec = ensemble.Spec.from_dict({"model": "normal_mean", "ensemble": {"members": 4}})
    assert spec.replace(members=40, sigma=2.0).members == 40
    with pytest.raises(SpecError, match="params.sigma"):
        spec.replace(sigma=-1.0)
    two = ensemble.Spec.from_dict({"model": "normal_two_level", "ensemble": {"realizations": 2, "vectors": 3}})
    assert two.members == 6 and two.replace(vectors=5).members == 10
    with pytest.raises(SpecError, match="two-level"):
        two.replace(members=10)


def test_graph_command_summarizes_without_touching_a_store(write_spec, tmp_path, cli):
    import shutil

    spec = write_spec(spec_text(3, 4, 2))
    code, out, err = cli("graph", spec, "--realizations", 4)
    assert code == 0, err
    assert "nodes 12: 8 shard tasks, 4 realization setups; edges 8" in out and "8 each" in out
    try:
        import graphviz  # noqa: F401
        have_graphviz = shutil.which("dot") is not None
    except ImportError:
        have_graphviz = False
    code, out, err = cli("graph", spec, "--svg", tmp_path / "g.svg")
    if have_graphviz:
        assert code == 0 and (tmp_path / "g.svg").read_text().lstrip().startswith("<")
    else:
        assert code == 2 and "graphviz" in err and err.count("\n") == 1
    assert not any(p.name != "spec.toml" and p.name != "g.svg" for p in tmp_path.iterdir())


def test_target_error_rounds_share_one_cluster(write_spec, tmp_path, monkeypatch):
    import ensemble.engine.execute as ex

    started = []
    real = ex.make_client

    def counting(opts):
        started.append(opts.kind)
        return real(opts)

    monkeypatch.setattr(ex, "make_client", counting)
    spec = write_spec(spec_text(4, 2, 2))
    report = ensemble.run(spec, tmp_path / "t", cluster=ensemble.ClusterOptions(workers=1), progress=False,
                          target_error="mean=0.4", log=lambda *_: None)
    assert report.target_met and open_store(tmp_path / "t").spec.realizations > 16  # more than one round
    assert started == ["local"]


def test_flat_cost_ratio_is_the_brute_force_minimum_over_whole_vector_counts():
    """The best whole S and the flat scheme's cost factor equal a scan of (sb² + sw²/S)(ts + S tv) over S."""
    from ensemble.engine.variance import Components, VarianceReport

    for between, within, ts, tv in [(1.0, 9.0, 2.0, 0.5), (0.3, 0.01, 0.1, 1.0), (2.0, 50.0, 7.0, 0.01)]:
        rep = VarianceReport(0, {"x": Components(between, within, 10, 1.0)}, setup_seconds=ts, vector_seconds=tv)
        scan = {s: (between + within / s) * (ts + s * tv) for s in range(1, 10_000)}
        s_best = min(scan, key=scan.get)
        assert rep.best_integer_vectors("x") == s_best
        assert rep.flat_cost_ratio("x") == pytest.approx(scan[1] / scan[s_best], rel=1e-12)
    no_between = VarianceReport(0, {"x": Components(-0.1, 4.0, 10, 1.0)}, setup_seconds=3.0, vector_seconds=1.0)
    assert no_between.best_integer_vectors("x") is None and no_between.flat_cost_ratio("x") == pytest.approx(4.0)
    assert VarianceReport(0, {"x": Components(1.0, 1.0, 10, 1.0)}).flat_cost_ratio("x") is None


def test_an_estimator_undefined_on_one_shard_is_named_not_split():
    """A fit that is NaN on a single shard gets no 'best vectors' advice: it is listed as not split."""
    from ensemble.engine.report import format_variance, variance_json
    from ensemble.engine.variance import Components, VarianceReport

    rep = VarianceReport(0, {"beta": Components(float("nan"), float("nan"), 10, 2.0),
                             "mean": Components(1.0, 4.0, 10, 2.0)}, setup_seconds=1.0, vector_seconds=1.0)
    text = format_variance([rep])
    assert "not split: beta" in text and "beta " not in text.split("not split: beta")[1]
    assert "mean" in text and "best vectors/realization ≈ 2" in text
    assert variance_json(rep)["beta"] == {"undefined": "not finite on a single shard or realization"}
    assert rep.optimal_vectors("beta") is None and rep.flat_cost_ratio("beta") is None
