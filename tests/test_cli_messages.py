"""What a newcomer sees: defaults announced, one-line errors instead of tracebacks, cost before running."""
import json

import pytest

from ensemble.engine.store import open_store


def test_implicit_members_and_seed_are_announced(cli, write_spec, tmp_path):
    spec = write_spec('model = "normal_mean"\n')
    code, out, _ = cli("run", spec, "--store", tmp_path / "s", "--cluster", "sync", "--no-progress")
    assert code == 0
    assert "ensemble.members not given: 1 member per point" in out and "ensemble.seed not given" in out
    code, out, _ = cli("show", tmp_path / "s")
    assert "± n/a" in out and "at least two jackknife blocks" in out and "nan" not in out


def test_rerun_below_stored_members_names_origin_and_resume(cli, write_spec, tmp_path):
    spec = write_spec('model = "normal_mean"\n[ensemble]\nmembers = 4\nseed = 1\n')
    assert cli("run", spec, "--store", tmp_path / "s", "--cluster", "sync", "--no-progress", "--members", 8)[0] == 0
    code, _, err = cli("run", spec, "--store", tmp_path / "s", "--cluster", "sync")
    assert code == 2 and "from the spec or --members" in err and f"ensemble run --store {tmp_path / 's'}" in err


def test_non_store_directory_is_refused_and_untouched(cli, write_spec, tmp_path):
    spec = write_spec('model = "normal_mean"\n[ensemble]\nmembers = 2\n')
    other = tmp_path / "results"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    code, _, err = cli("run", spec, "--store", other, "--cluster", "sync")
    assert code == 2 and "non-empty directory that is not a run store" in err
    assert [p.name for p in other.iterdir()] == ["notes.txt"]


def test_nothing_pending_starts_no_cluster(cli, write_spec, tmp_path, monkeypatch):
    import ensemble.engine.execute as ex

    spec = write_spec('model = "normal_mean"\n[ensemble]\nmembers = 2\n')
    assert cli("run", spec, "--store", tmp_path / "s", "--cluster", "sync", "--no-progress")[0] == 0

    def no_cluster(*_a, **_k):
        raise AssertionError("a cluster was started for a finished store")

    monkeypatch.setattr(ex, "make_client", no_cluster)
    code, out, _ = cli("run", spec, "--store", tmp_path / "s")
    assert code == 0 and "nothing to do" in out


def test_plot_refuses_unknown_format_and_empty_store(cli, write_spec, tmp_path):
    spec = write_spec('model = "normal_mean"\n[ensemble]\nmembers = 2\n')
    cli("run", spec, "--store", tmp_path / "s", "--cluster", "sync", "--no-progress", "--max-shards", 0)
    code, _, err = cli("plot", tmp_path / "s", "-o", tmp_path / "fig.png")
    assert code == 2 and "no shard is done" in err and not (tmp_path / "fig.png").exists()
    cli("run", spec, "--store", tmp_path / "s", "--cluster", "sync", "--no-progress")
    code, _, err = cli("plot", tmp_path / "s", "-o", tmp_path / "fig.xyz")
    assert code == 2 and "unknown image format 'xyz'" in err and err.count("\n") == 1


def test_plot_leaves_out_points_without_shards(cli, write_spec, tmp_path):
    spec = write_spec('model = "normal_mean"\n[params]\nsigma = [1.0, 2.0, 3.0]\n[ensemble]\nmembers = 2\n')
    cli("run", spec, "--store", tmp_path / "s", "--cluster", "sync", "--no-progress", "--point", 2)
    code, out, _ = cli("plot", tmp_path / "s", "-o", tmp_path / "fig.png")
    assert code == 0 and "(2 of 3 points have no shard done and are left out)" in out
    assert (tmp_path / "fig.png").stat().st_size > 0


def test_unreachable_scheduler_is_one_line(cli, write_spec, tmp_path):
    spec = write_spec('model = "normal_mean"\n')
    code, _, err = cli("run", spec, "--store", tmp_path / "s", "--scheduler", "tcp://127.0.0.1:1",
                       "--connect-timeout", 1)
    assert code == 2 and "cannot reach the dask scheduler at tcp://127.0.0.1:1" in err and err.count("\n") == 1
    assert not (tmp_path / "s").exists()


def test_estimate_projects_cost_and_touches_nothing(cli, write_spec, tmp_path):
    spec = write_spec('model = "normal_mean"\n[params]\nsleep_s = 0.02\n[ensemble]\nmembers = 40\nshard_size = 4\n')
    code, out, _ = cli("run", spec, "--store", tmp_path / "s", "--estimate", "--workers", 2)
    assert code == 0 and not (tmp_path / "s").exists()
    assert "to compute: 10 shard(s), 40 member(s)" in out
    per_member = float(out.split("here: ")[1].split(" s per member")[0])
    core_hours = float(out.split("projected: ")[1].split(" core-hours")[0])
    assert per_member >= 0.02  # the sleep bounds the per-member time from below
    assert core_hours == pytest.approx(per_member * 40 / 3600, rel=1e-2)  # both printed with 3 digits


def test_show_prints_short_arrays_value_by_value(cli, write_spec, tmp_path):
    spec = write_spec('model = "normal_mean"\n[params]\nbins = 3\n[ensemble]\nmembers = 4\n')
    cli("run", spec, "--store", tmp_path / "s", "--cluster", "sync", "--no-progress")
    code, out, _ = cli("show", tmp_path / "s")
    assert code == 0 and "density:" in out and out.count("x=") == 3


def test_swept_grid_of_equal_length_runs_with_per_point_coordinates(cli, write_spec, tmp_path):
    xr = pytest.importorskip("xarray")
    spec = write_spec('model = "chain_static"\n[params]\nN = 40\nT = [[0.5, 1.0], [1.5, 2.0]]\n'
                      '[ensemble]\nmembers = 2\n')
    code, _, err = cli("run", spec, "--store", tmp_path / "s", "--cluster", "sync", "--no-progress")
    assert code == 0, err
    doc = json.loads(cli("show", tmp_path / "s", "--json")[1])
    assert [pt["params"]["T"] for pt in doc["points"]] == [[0.5, 1.0], [1.5, 2.0]]
    assert doc["points"][1]["estimators"]["sw_total"]["coords"]["T"] == [1.5, 2.0]
    ds = xr.open_zarr(tmp_path / "s")
    assert ds["T_coords"].values.tolist() == [[0.5, 1.0], [1.5, 2.0]]
    bad = write_spec('model = "chain_static"\n[params]\nT = [[0.5, 1.0], [1.5]]\n', name="bad.toml")
    code, _, err = cli("run", bad, "--store", tmp_path / "b", "--cluster", "sync")
    assert code == 2 and "keep its length" in err


def test_packaged_jobqueue_config_printed(cli):
    code, out, _ = cli("deploy", "slurm")
    assert code == 0 and "cores:" in out and "walltime" in out
