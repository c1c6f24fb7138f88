"""Compacted store layout: few files, bitwise-equal estimators, crash safety of compaction, the lease."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from ensemble.engine import lease as lease_mod
from ensemble.engine.estimators import jackknife_arrays, point_results, point_totals
from ensemble.engine.lease import LeaseError, acquire, lease_path, release, store_lease
from ensemble.engine.spec import spec_from_dict
from ensemble.engine.store import STAGING, create_or_resume, open_store
from ensemble.engine.store import chunks as chunks_mod
from ensemble.engine.store.compaction import background_compaction, compact
from ensemble.engine.tasks import shard_sums

REPO = Path(__file__).resolve().parents[1]
RAW = {"model": "normal_mean", "params": {"sigma": [1.0, 2.0], "draws": 3},
       "ensemble": {"members": 1200, "shard_size": 1, "seed": 4}}


def n_files(path: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(path))


def stage_all(path, spec, shards=None):
    """Write shards through the workers' write path (staging), without compacting."""
    store, _ = create_or_resume(path, spec)
    table = store.shard_range()
    model, writer = spec.model, store.shard_writer()
    for p, point in enumerate(spec.points()):
        for s in range(len(table)) if shards is None else shards:
            sums = shard_sums(model, point, spec.seed, p, tuple(table[s]))[0]
            writer.write(p, s, sums)
    return store


def staged_count(path) -> int:
    return sum(len(ids) for ids in open_store(path).staged_ids().values())


def stray_files(path: Path) -> list[Path]:
    """Files that are neither metadata nor a chunk: temporary or partial files left behind."""
    return [f for f in path.rglob("*") if f.is_file() and f.name != "zarr.json" and not f.name.startswith("c")
            and not f.parent.name.isdigit() and f.parent.name != "c"]


def show(path):
    return [(pt.members_done, {k: (r.mean.tolist(), r.stderr.tolist()) for k, r in pt.estimates.items()})
            for pt in point_results(open_store(path))]


def test_compaction_few_files_and_bitwise_estimators(tmp_path):
    spec = spec_from_dict({**RAW, "params": {"sigma": 2.0, "draws": 3},
                           "ensemble": {**RAW["ensemble"], "members": 1100}})
    path = tmp_path / "st"
    store = stage_all(path, spec)
    staged_files = n_files(path)
    before = show(path)  # read from the staged chunks, one file per shard and array
    assert compact(open_store(path), all_points=True) == 1100
    after = n_files(path)
    entries = sum(1 for _ in path.rglob("*"))
    # staged: one record file per shard; compacted: 2 chunks of 1000 shards per array (3 accumulators +
    # done), plus ~40 metadata and coordinate files whatever the shard count; no emptied directories stay
    assert staged_files > 1100 and after <= 4 * 2 + 40, (staged_files, after)
    assert entries <= 100 and not [d for d in path.rglob("*") if d.is_dir() and not any(d.iterdir())], entries
    assert not staged_count(path)
    store = open_store(path)
    assert store.done().all()
    assert show(path) == before  # pre-summed blocks: the same bits as summing every shard
    blocks = zarr.open_group(str(path / "blocks"))
    assert list(blocks["n_shards"][:]) == [1100] and list(blocks["count"][:]) == [64]
    # the in-memory jackknife over the same shard values (no store) gives the same bits too
    model, table = spec.model, store.shard_range()
    for p, point in enumerate(spec.points()):
        names = [a.name for a in model.accumulators(point)]
        per_shard = {n: np.asarray(store.group()[n][p]) for n in names}
        totals, results = jackknife_arrays(model, point, per_shard, table[:, 1] - table[:, 0])
        for name, r in results.items():
            assert np.array_equal(r.mean, np.asarray(before[p][1][name][0]))
            assert np.array_equal(r.stderr, np.asarray(before[p][1][name][1]), equal_nan=True)
        for name in names:
            assert np.array_equal(totals[name], point_totals(store, p)[name])


class Crash(Exception):
    pass


def test_kill_at_any_step_of_compaction_loses_nothing(tmp_path, monkeypatch):
    spec = spec_from_dict({**RAW, "params": {"sigma": 1.0, "draws": 3},
                           "ensemble": {**RAW["ensemble"], "members": 8}})
    ref = tmp_path / "ref"
    stage_all(ref, spec)
    compact(open_store(ref), all_points=True)
    expected = show(ref)
    base = tmp_path / "base"
    stage_all(base, spec, shards=range(0, 8, 2))  # half the shards staged ...
    compact(open_store(base))
    stage_all(base, spec, shards=range(1, 8, 2))  # ... compacted, the other half staged
    real_replace, real_unlink = os.replace, os.unlink
    steps = 0
    while True:  # crash at the 1st, 2nd, ... file operation of a compaction pass, then recompact
        trial = tmp_path / f"trial{steps}"
        shutil.copytree(base, trial)
        budget = [steps]

        def counted(fn):
            def op(*args, **kwargs):
                if budget[0] == 0:
                    raise Crash
                budget[0] -= 1
                return fn(*args, **kwargs)
            return op

        monkeypatch.setattr(chunks_mod.os, "replace", counted(real_replace))
        monkeypatch.setattr(chunks_mod.os, "unlink", counted(real_unlink))
        try:
            compact(open_store(trial), all_points=True)
            finished = True
        except Crash:
            finished = False
        monkeypatch.undo()
        assert open_store(trial).done().all()  # a crash loses no done shard ...
        assert show(trial) == expected  # ... nor changes a bit (read from staged + compacted chunks)
        compact(open_store(trial), all_points=True)
        assert show(trial) == expected, steps
        assert not stray_files(trial) and not staged_count(trial), (steps, stray_files(trial))
        shutil.rmtree(trial)
        if finished:
            break
        steps += 1
    assert steps > 12  # the crash hit every step of a pass: chunk and block renames, record deletions


def test_resume_after_clean_stop_and_extension_keep_bits(cli, write_spec, tmp_path):
    text = """
    model = "normal_mean"
    [params]
    sigma = 1.5
    draws = 4
    [ensemble]
    members = 120
    shard_size = 1
    seed = 9
    """
    spec = write_spec(text)
    assert cli("run", spec, "--store", tmp_path / "ref", "--cluster", "sync", "--no-progress")[0] == 0
    # a run that stopped early (here: after 50 shards) resumes to the same bits
    assert cli("run", spec, "--store", tmp_path / "cut", "--cluster", "sync", "--max-shards", 50,
               "--no-progress")[0] == 0
    assert cli("run", spec, "--store", tmp_path / "cut", "--cluster", "sync", "--no-progress")[0] == 0
    assert cli("show", tmp_path / "cut", "--json")[1] == cli("show", tmp_path / "ref", "--json")[1]
    # extension: the old block sums are re-cut for the new shard count, equal to a fresh run
    assert cli("run", spec, "--store", tmp_path / "ref", "--members", 200, "--cluster", "sync",
               "--no-progress")[0] == 0
    fresh = write_spec(text.replace("members = 120", "members = 200"), "fresh.toml")
    assert cli("run", fresh, "--store", tmp_path / "fresh", "--cluster", "sync", "--no-progress")[0] == 0
    assert cli("show", tmp_path / "ref", "--json")[1] == cli("show", tmp_path / "fresh", "--json")[1]
    assert int(zarr.open_group(str(tmp_path / "ref" / "blocks"))["n_shards"][0]) == 200


KILL_SPEC = """
model = "normal_mean"
[params]
sigma = 1.5
draws = 4
sleep_s = 0.05
[ensemble]
members = 120
shard_size = 1
seed = 9
"""


def test_resume_after_sigkill_with_shards_staged_keeps_bits(cli, write_spec, tmp_path):
    """kill -9 of the client while workers stage shards (no final compaction): the resumed store is bitwise a
    fresh run's, and nothing staged is lost or left behind."""
    spec = write_spec(KILL_SPEC)
    assert cli("run", spec, "--store", tmp_path / "ref", "--cluster", "sync", "--no-progress")[0] == 0
    store = tmp_path / "cut"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    # a LocalCluster worker and a window of 3 tasks; the whole process group dies, as a batch job's would
    proc = subprocess.Popen([sys.executable, "-m", "ensemble.cli", "run", str(spec), "--store", str(store),
                             "--workers", "1", "--window", "3", "--no-progress"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not (store / "zarr.json").exists() or open_store(store).done().sum() < 30 or not staged_count(store):
            assert time.time() < deadline and proc.poll() is None
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    st = open_store(store)
    assert 0 < st.done().sum() < 120 and staged_count(store)
    assert st.provenance()[-1]["ended"] is None   # the killed session's record says so
    code, out, _ = cli("run", "--store", store, "--cluster", "sync", "--no-progress")
    assert code == 0 and "resuming" in out
    assert cli("show", store, "--json")[1] == cli("show", tmp_path / "ref", "--json")[1]
    assert not staged_count(store) and not stray_files(store)


def test_store_without_compaction_layout_is_still_read(tmp_path):
    """Stores written before compaction (no staging group) read through zarr as before."""
    spec = spec_from_dict({**RAW, "ensemble": {**RAW["ensemble"], "members": 40}})
    path = tmp_path / "st"
    stage_all(path, spec)
    compact(open_store(path), all_points=True)
    expected = show(path)
    shutil.rmtree(path / STAGING)
    shutil.rmtree(path / "blocks")
    group = zarr.open_group(str(path), mode="r+", use_consolidated=False)
    del group.attrs["layout"]
    zarr.consolidate_metadata(str(path))
    assert show(path) == expected


SLOW_SPEC = """
model = "normal_mean"
[params]
sigma = 1.0
draws = 2
sleep_s = 0.2
[ensemble]
members = 30
shard_size = 1
seed = 2
"""


def test_second_client_refuses_while_first_runs(cli, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(SLOW_SPEC)
    store = tmp_path / "st"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    first = subprocess.Popen([sys.executable, "-m", "ensemble.cli", "run", str(spec), "--store", str(store),
                              "--cluster", "sync", "--no-progress"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 60
        while not lease_path(store).exists() or not (store / "zarr.json").exists():
            assert time.time() < deadline and first.poll() is None
            time.sleep(0.1)
        code, _, err = cli("run", spec, "--store", store, "--cluster", "sync", "--no-progress")
        assert code == 2
        assert err.count("\n") == 1 and f"is being run by pid {first.pid}" in err and "wait for it to finish" in err
        out, _ = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0 and "computed 30 shard(s)" in out
    assert not lease_path(store).exists()
    code, out, _ = cli("run", "--store", store, "--cluster", "sync", "--no-progress")
    assert code == 0 and "computed 0 shard(s)" in out


def test_lease_of_dead_client_is_taken_over(tmp_path):
    store = tmp_path / "st"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lease_path(store).write_text(json.dumps({"host": os.uname().nodename, "pid": dead.pid, "token": "x"}))
    path, token = acquire(store)  # the holder is gone: taken over
    with pytest.raises(LeaseError, match=f"is being run by pid {os.getpid()}"):
        acquire(store)
    release(path, token)
    assert not path.exists()


def test_lease_of_another_node_is_taken_over_only_when_stale(tmp_path, monkeypatch):
    """A lease held on another host cannot be checked by pid: it is live while renewed, stale after STALE_S,
    and an unreadable lease (a crash while writing it) is stale after STALE_S too."""
    store = tmp_path / "st"
    lease = lease_path(store)
    lease.write_text(json.dumps({"host": "other-node", "pid": 1, "token": "x"}))
    with pytest.raises(LeaseError, match="pid 1 on other-node"):
        acquire(store)
    old = time.time() - lease_mod.STALE_S - 5
    os.utime(lease, (old, old))
    path, token = acquire(store)              # not renewed for STALE_S: taken over
    assert json.loads(path.read_text())["token"] == token
    release(path, token)
    lease.write_text("{not json")
    with pytest.raises(LeaseError, match="another client"):
        acquire(store)
    os.utime(lease, (old, old))
    path, token = acquire(store)
    release(path, token)


def test_lease_is_renewed_while_held(tmp_path, monkeypatch):
    monkeypatch.setattr(lease_mod, "RENEW_S", 0.05)
    store = tmp_path / "st"
    with store_lease(store) as path:
        old = time.time() - 100
        os.utime(path, (old, old))
        deadline = time.time() + 10
        while path.stat().st_mtime < time.time() - 50:
            assert time.time() < deadline, "the lease was not renewed"
            time.sleep(0.02)
    assert not path.exists()


def test_crash_of_background_compaction_while_workers_stage_loses_nothing(tmp_path, monkeypatch):
    """A compaction pass that dies half-way (here: at its 3rd chunk rename) while shards are still being staged
    stops the run with that error; every staged or compacted shard survives and the next pass finishes."""
    spec = spec_from_dict({**RAW, "params": {"sigma": 1.0, "draws": 3},
                           "ensemble": {**RAW["ensemble"], "members": 40}})
    ref = tmp_path / "ref"
    stage_all(ref, spec)
    compact(open_store(ref), all_points=True)
    path = tmp_path / "st"
    store = stage_all(path, spec, shards=range(0, 20))
    real_replace, calls = os.replace, [0]

    def failing(*args):
        calls[0] += 1
        if calls[0] == 3:
            raise Crash
        return real_replace(*args)

    with pytest.raises(Crash):
        with background_compaction(store, interval=0.01):
            monkeypatch.setattr(chunks_mod.os, "replace", failing)
            deadline = time.time() + 20
            while calls[0] < 3:
                assert time.time() < deadline
                time.sleep(0.01)
            monkeypatch.undo()
            stage_all(path, spec, shards=range(20, 40))   # workers go on staging meanwhile
    assert open_store(path).done().all()
    compact(open_store(path), all_points=True)
    assert show(path) == show(ref) and not staged_count(path) and not stray_files(path)


def test_two_level_block_sums_equal_summing_every_shard(cli, write_spec, tmp_path):
    """Two-level blocks hold whole realizations; the pre-summed ones must be those same blocks, bit for bit."""
    spec = write_spec("""
    model = "normal_two_level"
    [params]
    sigma_between = 2.0
    sigma_within = 0.5
    [ensemble]
    realizations = 70
    vectors = 4
    shard_size = 2
    seed = 3
    """)
    st = tmp_path / "st"
    assert cli("run", spec, "--store", st, "--cluster", "sync", "--no-progress")[0] == 0
    blocks = zarr.open_group(str(st / "blocks"), mode="r+")
    assert int(blocks["n_shards"][0]) == 140 and int(blocks["count"][0]) == 64
    cached = cli("show", st, "--json")[1]
    blocks["n_shards"][0] = 0  # forget the block sums: every shard is read and summed
    assert cli("show", st, "--json")[1] == cached


def test_compact_command_and_its_lease(cli, tmp_path):
    spec = spec_from_dict({**RAW, "ensemble": {**RAW["ensemble"], "members": 12}})
    path = tmp_path / "st"
    stage_all(path, spec)
    held, token = acquire(path)
    code, _, err = cli("compact", path)
    assert code == 2 and "is being run by" in err
    release(held, token)
    code, out, _ = cli("compact", path)
    assert code == 0 and "24 staged shard(s) compacted" in out
    assert not staged_count(path) and open_store(path).done().all()
