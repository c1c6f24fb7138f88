"""Store, seeding invariance, resume, extension and failure handling, through the real CLI."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from ensemble.engine.estimators import point_results, point_totals
from ensemble.engine.inprocess import run_in_process
from ensemble.engine.store import open_store

SPEC = """
model = "normal_mean"
[params]
sigma = [1.0, 3.0]
draws = 50
sleep_s = {sleep}
[ensemble]
members = {members}
shard_size = {shard_size}
seed = 11
"""


def spec_text(members=24, shard_size=4, sleep=0.0):
    return SPEC.format(members=members, shard_size=shard_size, sleep=sleep)


def totals(path):
    store = open_store(path)
    return [point_totals(store, p) for p in range(len(store.spec.points()))]


def test_results_independent_of_shard_size_and_workers(cli, write_spec, tmp_path):
    runs = {}
    for label, shard_size, args in [("sync-s4", 4, ["--cluster", "sync"]),
                                    ("1worker-s5", 5, ["--workers", 1]),
                                    ("2workers-s7", 7, ["--workers", 2])]:
        spec = write_spec(spec_text(shard_size=shard_size), f"{label}.toml")
        code, out, err = cli("run", spec, "--store", tmp_path / label, "--no-progress", *args)
        assert code == 0, err
        runs[label] = totals(tmp_path / label)
    ref = runs["sync-s4"]
    for label, tot in runs.items():
        for p in range(2):
            np.testing.assert_array_equal(tot[p]["hist"], ref[p]["hist"])  # integer counts: exact
            np.testing.assert_allclose(tot[p]["sum_x"], ref[p]["sum_x"], rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(tot[p]["sum_x2"], ref[p]["sum_x2"], rtol=1e-12)
            assert tot[p]["members"] == 24


def test_in_process_runner_equals_stored_run(cli, write_spec, tmp_path):
    spec = write_spec(spec_text())
    assert cli("run", spec, "--store", tmp_path / "st", "--cluster", "sync", "--no-progress")[0] == 0
    stored = point_results(open_store(tmp_path / "st"))
    direct = run_in_process("normal_mean", {"sigma": [1.0, 3.0], "draws": 50}, 24, 4, seed=11)
    for a, b in zip(stored, direct):
        assert a.estimates["variance"].mean == b.estimates["variance"].mean
        assert a.estimates["variance"].stderr == b.estimates["variance"].stderr


def test_interrupt_and_resume_is_bitwise_identical(cli, write_spec, tmp_path):
    spec = write_spec(spec_text(members=40, shard_size=2, sleep=0.1))
    # uninterrupted reference
    assert cli("run", spec, "--store", tmp_path / "ref", "--cluster", "sync", "--no-progress")[0] == 0
    # a real run on a LocalCluster, killed (whole process group) after a few shards are done
    proc = subprocess.Popen([sys.executable, "-m", "ensemble.cli", "run", str(spec), "--store", str(tmp_path / "cut"),
                             "--workers", "2", "--no-progress"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    n_done = 0
    while time.time() < deadline:
        time.sleep(0.2)
        try:
            n_done = int(open_store(tmp_path / "cut").done().sum())
        except Exception:  # store not created yet
            continue
        if n_done >= 6:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    n_done = int(open_store(tmp_path / "cut").done().sum())
    assert 0 < n_done < 40, n_done
    code, out, _ = cli("run", spec, "--store", tmp_path / "cut", "--workers", "2", "--no-progress")
    assert code == 0 and "resuming" in out
    assert f"computed {40 - n_done} shard(s)" in out
    ref, cut = point_results(open_store(tmp_path / "ref")), point_results(open_store(tmp_path / "cut"))
    for a, b in zip(ref, cut):
        for name in a.estimates:
            assert np.array_equal(a.estimates[name].mean, b.estimates[name].mean)
            assert np.array_equal(a.estimates[name].stderr, b.estimates[name].stderr)
    for a, b in zip(totals(tmp_path / "ref"), totals(tmp_path / "cut")):
        for name in a:
            assert np.array_equal(a[name], b[name])


def test_point_selection_runs_one_point_and_resumes_to_the_same_bits(cli, write_spec, tmp_path):
    spec = write_spec(spec_text(members=8, shard_size=2))
    assert cli("run", spec, "--store", tmp_path / "ref", "--cluster", "sync", "--no-progress")[0] == 0
    code, out, _ = cli("run", spec, "--store", tmp_path / "cut", "--cluster", "sync", "--no-progress", "--point", 1,
                       "--max-shards", 3)
    assert code == 0 and "computed 3 shard(s)" in out
    done = open_store(tmp_path / "cut").done()
    assert not done[0].any() and done[1].sum() == 3
    code, out, _ = cli("run", spec, "--store", tmp_path / "cut", "--cluster", "sync", "--no-progress", "--point", 1)
    assert code == 0 and "computed 1 shard(s)" in out and not open_store(tmp_path / "cut").done()[0].any()
    code, out, _ = cli("run", spec, "--store", tmp_path / "cut", "--cluster", "sync", "--no-progress", "--point", 1)
    assert code == 0 and "nothing to do, the selected points are done" in out
    assert cli("run", spec, "--store", tmp_path / "cut", "--cluster", "sync", "--no-progress")[0] == 0
    for a, b in zip(totals(tmp_path / "ref"), totals(tmp_path / "cut")):
        for name in a:
            assert np.array_equal(a[name], b[name])


def test_point_selection_out_of_range_is_refused_before_the_store(cli, write_spec, tmp_path):
    spec = write_spec(spec_text(members=4))
    code, _, err = cli("run", spec, "--store", tmp_path / "s", "--cluster", "sync", "--point", 2)
    assert code == 2 and "point 2: the spec has 2 point(s), numbered 0 to 1" in err and err.count("\n") == 1
    assert not (tmp_path / "s").exists()
    code, _, err = cli("run", spec, "--store", tmp_path / "s", "--cluster", "sync", "--point", 0,
                       "--target-error", "mean=0.1")
    assert code == 2 and "cannot be combined" in err and not (tmp_path / "s").exists()


def test_shard_written_without_done_is_recomputed(cli, write_spec, tmp_path):
    spec = write_spec(spec_text())
    st = tmp_path / "st"
    assert cli("run", spec, "--store", st, "--cluster", "sync", "--no-progress")[0] == 0
    good = totals(st)
    # simulate a crash between writing data and setting done: garbage data, done false
    group = zarr.open_group(str(st), mode="r+")
    group["sum_x"][1, 2] = 1e9
    group["hist"][1, 2] = 12345
    group["done"][1, 2] = False
    assert [tuple(map(int, ps)) for ps in zip(*open_store(st).pending())] == [(1, 2)]
    code, out, _ = cli("run", spec, "--store", st, "--cluster", "sync", "--no-progress")
    assert code == 0 and "computed 1 shard(s)" in out
    for a, b in zip(good, totals(st)):
        for name in a:
            assert np.array_equal(a[name], b[name])


def test_different_spec_is_refused_and_store_untouched(cli, write_spec, tmp_path):
    st = tmp_path / "st"
    assert cli("run", write_spec(spec_text()), "--store", st, "--cluster", "sync", "--no-progress")[0] == 0
    before = {p: p.read_bytes() for p in st.rglob("*") if p.is_file()}
    other = write_spec(spec_text().replace("draws = 50", "draws = 60"), "other.toml")
    code, _, err = cli("run", other, "--store", st, "--cluster", "sync")
    assert code == 2
    assert "params.draws: store has 50, spec has 60" in err
    after = {p: p.read_bytes() for p in st.rglob("*") if p.is_file()}
    assert before == after


def test_members_extension_appends_shards(cli, write_spec, tmp_path):
    st = tmp_path / "st"
    spec = write_spec(spec_text(members=10, shard_size=4))
    assert cli("run", spec, "--store", st, "--cluster", "sync", "--no-progress")[0] == 0
    old = open_store(st).shard_range().tolist()
    assert old == [[0, 4], [4, 8], [8, 10]]
    code, out, _ = cli("run", spec, "--store", st, "--members", 18, "--cluster", "sync", "--no-progress")
    assert code == 0 and "extending" in out and "computed 4 shard(s)" in out
    store = open_store(st)
    assert store.shard_range().tolist() == old + [[10, 14], [14, 18]]
    assert store.done().all() and store.spec.members == 18
    # same members as a fresh 18-member run: integer histograms agree exactly
    fresh = write_spec(spec_text(members=18, shard_size=4), "fresh.toml")
    assert cli("run", fresh, "--store", tmp_path / "fresh", "--cluster", "sync", "--no-progress")[0] == 0
    for a, b in zip(totals(st), totals(tmp_path / "fresh")):
        assert np.array_equal(a["hist"], b["hist"])
        assert a["members"] == b["members"] == 18
    code, _, err = cli("run", spec, "--store", st, "--members", 5, "--cluster", "sync")
    assert code == 2 and "below the 18 members" in err


def test_failing_shard_reported_rest_completes(cli, write_spec, tmp_path):
    text = spec_text(members=12, shard_size=3).replace("draws = 50", "draws = 50\nfail_member = 7")
    st = tmp_path / "st"
    code, out, err = cli("run", write_spec(text), "--store", st, "--workers", 1, "--retries", 1, "--no-progress")
    assert code == 1
    assert "member 7 fails on purpose" in err and "Traceback" not in err and "Compute Failed" not in err
    assert "failed-shards.log" in err
    log = (st / "failed-shards.log").read_text()
    assert "Traceback" in log and log.count("=== point") == 2
    done = open_store(st).done()
    # member 7 lives in shard 2 of each point
    assert done.sum() == done.size - 2 and not done[0, 2] and not done[1, 2]


def test_xarray_opens_store_with_labels(cli, write_spec, tmp_path):
    xr = pytest.importorskip("xarray")
    st = tmp_path / "st"
    assert cli("run", write_spec(spec_text()), "--store", st, "--cluster", "sync", "--no-progress")[0] == 0
    ds = xr.open_zarr(st)
    assert ds["hist"].dims == ("point", "shard", "x")
    assert list(ds["sigma"].values) == [1.0, 3.0]
    # the histogram axis scales with the swept sigma, so its labels are stored per point
    assert ds["x_coords"].dims == ("point", "x")
    assert ds["x_coords"].values[:, 0] == pytest.approx([-3.8, -3.8 * 3])
    n_binned = int(ds["hist"].sum())  # draws beyond 4 sigma (p = 6e-5 each) fall outside the bins
    assert 2 * 24 * 50 - 3 <= n_binned <= 2 * 24 * 50
    assert bool(ds["done"].all())


def test_show_json_schema(cli, write_spec, tmp_path):
    import json

    st = tmp_path / "st"
    assert cli("run", write_spec(spec_text()), "--store", st, "--cluster", "sync", "--no-progress")[0] == 0
    code, out, _ = cli("show", st, "--json")
    data = json.loads(out)
    assert data["model"] == "normal_mean" and len(data["points"]) == 2
    pt = data["points"][1]
    assert pt["params"]["sigma"] == 3.0 and pt["members_done"] == 24
    dens = pt["estimators"]["density"]
    assert dens["dims"] == ["x"] and len(dens["coords"]["x"]) == len(dens["mean"]) == len(dens["stderr"]) == 20
    assert pt["estimators"]["variance"]["mean"] == pytest.approx(9.0, rel=0.15)


def test_plot_writes_png(cli, write_spec, tmp_path):
    st = tmp_path / "st"
    assert cli("run", write_spec(spec_text()), "--store", st, "--cluster", "sync", "--no-progress")[0] == 0
    code, out, _ = cli("plot", st, "-o", tmp_path / "fig.png")
    assert code == 0 and (tmp_path / "fig.png").read_bytes()[:4] == b"\x89PNG"


def test_memory_refusal_before_store_is_created(cli, write_spec, tmp_path):
    text = spec_text(members=8, shard_size=4).replace("draws = 50", "draws = 1000000")
    code, _, err = cli("run", write_spec(text), "--store", tmp_path / "st", "--workers", 1,
                       "--memory-limit", "20MiB", "--no-progress")
    assert code == 2 and "a shard needs about" in err and "each task may use 0.02 GiB" in err
    assert not (tmp_path / "st").exists()


def test_jobqueue_clusters_render_job_scripts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the clusters create their log directory here
    pytest.importorskip("dask_jobqueue")
    from pathlib import Path

    from ensemble.engine.execute import build_jobqueue_cluster

    from ensemble.engine.execute import packaged_config

    for flavour, marker in (("slurm", "#SBATCH"), ("pbs", "#PBS")):
        own = tmp_path / f"my-{flavour}.yaml"  # what `ensemble deploy FLAVOUR > my.yaml` writes
        own.write_text(packaged_config(flavour))
        for config in (None, str(own)):  # the packaged default (from any directory) and a user's copy
            cluster, per_task = build_jobqueue_cluster(f"jobqueue:{flavour}", config)
            try:
                script = cluster.job_script()
                assert marker in script and "distributed.cli.dask_worker" in script
                assert "--nworkers 16" in script and "--memory-limit 4.00GiB" in script
                assert "export NUMBA_NUM_THREADS=1" in script and "export OMP_NUM_THREADS=1" in script
                assert per_task == pytest.approx(64 * 2**30 / 16)
            finally:
                cluster.close()


def test_local_workers_cap_kernel_threads_at_their_own():
    # one worker per core, each with numba's default of one thread per core, oversubscribes the cores
    from ensemble.engine.execute import ClusterOptions, THREAD_VARIABLES, make_client

    client, cluster, _ = make_client(ClusterOptions(workers=1, threads_per_worker=2))
    try:
        seen = client.run(lambda: {name: os.environ.get(name) for name in THREAD_VARIABLES})
        assert list(seen.values()) == [{name: "2" for name in THREAD_VARIABLES}]
    finally:
        client.close()
        cluster.close()


def test_raw_chunk_files_match_zarr_with_checksums(tmp_path):
    """The engine's chunk files are exactly what zarr writes and reads, crc32c included, for nested and flat
    chunk keys; zarr itself rejects a chunk whose checksum fails, and so does the engine."""
    from zarr.codecs import Crc32cCodec

    from ensemble.engine.store.chunks import ChunkedArray, ChunkError

    for dtype, shape in (("int64", (3, 5)), ("float64", ()), ("bool", ()), ("complex128", (4,))):
        for sep in ("/", "."):
            root = tmp_path / f"{dtype}{'flat' if sep == '.' else 'nested'}"
            group = zarr.open_group(str(root), mode="w")
            for name in ("fast", "ref"):
                group.create_array(name, shape=(2, 3, *shape), chunks=(1, 1, *shape), dtype=dtype, fill_value=0,
                                   compressors=[Crc32cCodec()],
                                   chunk_key_encoding={"name": "default", "separator": sep})
            rng = np.random.default_rng(0)
            value = (rng.normal(size=shape) * 10).astype(dtype) if shape else np.asarray(rng.normal() > 0, dtype)
            if dtype == "complex128":
                value = value + 1j * rng.normal(size=shape)
            fast = ChunkedArray.from_metadata(root, "fast")
            assert fast.checksummed and fast.separator == sep
            fast.write((1, 2, *(0,) * len(shape)), value.reshape(1, 1, *shape))
            group["ref"][1, 2] = value
            read = zarr.open_array(str(root / "fast"))[:]
            assert np.array_equal(read, zarr.open_array(str(root / "ref"))[:])
            assert np.array_equal(read[1, 2], value) and not read[0].any()
            ref = ChunkedArray.from_metadata(root, "ref")   # zarr's own chunk, read by the engine
            coords = (1, 2, *(0,) * len(shape))
            assert np.array_equal(ref.read(coords)[0, 0], value)
            chunk = Path(ref.path(coords))
            data = bytearray(chunk.read_bytes())
            data[0] ^= 0x10                                   # one flipped bit
            chunk.write_bytes(bytes(data))
            with pytest.raises(ChunkError, match="corrupted"):
                ref.read(coords)
            with pytest.raises(ValueError, match="checksum"):
                zarr.open_array(str(root / "ref"))[1, 2]
            chunk.write_bytes(bytes(data[:-3]))    # torn write
            with pytest.raises(ChunkError, match="truncated"):
                ref.read(coords)


def test_a_new_default_never_resumes_a_store_made_before_its_parameter(cli, write_spec, tmp_path):
    """large_n_tls's scaling_function defaults to 'nrg'; a store written before the parameter existed ran
    with the closed form: it reopens as 'interpolated', extends with it bitwise, and a spec relying on the
    new default is refused."""
    text = """
    model = "large_n_tls"
    [params]
    fields = 200
    n_omega = 16
    n_temp = 8
    n_bins = 20
    {extra}
    [ensemble]
    members = {members}
    shard_size = 2
    seed = 5
    """
    old, fresh = tmp_path / "old", tmp_path / "fresh"
    pinned = write_spec(text.format(extra='scaling_function = "interpolated"', members=4), "pinned.toml")
    assert cli("run", pinned, "--store", old, "--cluster", "sync", "--no-progress")[0] == 0
    group = zarr.open_group(str(old), mode="r+")
    spec = dict(group.attrs["spec"])
    spec["params"] = {k: v for k, v in spec["params"].items() if k != "scaling_function"}
    group.attrs["spec"] = spec                      # as written before the parameter existed
    assert open_store(old).spec.params["scaling_function"] == "interpolated"

    assert cli("run", "--store", old, "--members", 6, "--cluster", "sync", "--no-progress")[0] == 0
    bigger = write_spec(text.format(extra='scaling_function = "interpolated"', members=6), "bigger.toml")
    assert cli("run", bigger, "--store", fresh, "--cluster", "sync", "--no-progress")[0] == 0
    assert cli("show", old, "--json")[1] == cli("show", fresh, "--json")[1]

    code, _, err = cli("run", write_spec(text.format(extra="", members=6), "new.toml"), "--store", old,
                       "--cluster", "sync")
    assert code == 2 and "params.scaling_function: store has 'interpolated', spec has 'nrg'" in err
