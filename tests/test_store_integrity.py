"""What the store guarantees: checksums on every chunk, verify and repair, clean stops on a full disk,
provenance, and stores written before checksums."""
import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr

from ensemble.engine.store import open_store
from ensemble.engine.store import chunks as chunks_mod
from ensemble.engine.store.compaction import set_point_counts

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SPEC = """
model = "normal_mean"
[params]
sigma = [1.0, 2.0]
draws = 3
[ensemble]
members = 2500
shard_size = 1
seed = 5
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A finished store (2 points x 2500 shards: 3 compacted chunks per point and array) and its output."""
    from click.testing import CliRunner

    from ensemble.cli import main

    root = tmp_path_factory.mktemp("ref")
    spec = root / "spec.toml"
    spec.write_text(SPEC)
    res = CliRunner().invoke(main, ["run", str(spec), "--store", str(root / "st"), "--cluster", "sync",
                                    "--no-progress"], catch_exceptions=False)
    assert res.exit_code == 0
    show = CliRunner().invoke(main, ["show", str(root / "st"), "--json"]).stdout
    return root / "st", spec, show


def arrays(path: Path) -> dict:
    group = zarr.open_group(str(path), mode="r", use_consolidated=False)
    return {name: np.asarray(group[name][...]) for name in ("sum_x", "sum_x2", "done")}


def flip(path: Path, offset: int = 3, bit: int = 0x40) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= bit
    path.write_bytes(bytes(data))


DAMAGE = {
    "flipped bit": lambda f: flip(f),
    "truncated": lambda f: f.write_bytes(f.read_bytes()[:-100]),
    "deleted": lambda f: f.unlink(),
}


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_damaged_chunk_found_refused_and_repaired_bitwise(reference, tmp_path, cli, how):
    ref, spec, show = reference
    store = tmp_path / "st"
    shutil.copytree(ref, store)
    chunk = store / "sum_x" / "c" / "1" / "2"      # point 1, shards 2000-2499 ...
    DAMAGE[how](chunk)
    DAMAGE[how](store / "blocks" / "sum_x" / "c" / "1" / "0")   # ... and the block sums that hold them
    problem = {"flipped bit": "corrupted", "truncated": "truncated", "deleted": "missing"}[how]
    code, out, _ = cli("verify", store)
    assert code == 1 and f"sum_x point 1, shards 2000–2499: {problem}" in out, out
    assert f"blocks/sum_x point 1: {problem}" in out
    code, out, err = cli("show", store, "--json")
    assert code == 2 and not out and err.count("\n") == 1
    assert f"the block sums blocks/sum_x of point 1 is {problem}" in err and "verify" in err
    set_point_counts(open_store(store), 1, n_shards=0)         # no block sums: show reads the shards
    code, out, err = cli("show", store)
    assert code == 2 and not out and err.count("\n") == 1
    assert f"the chunk sum_x of point 1, shards 2000–2499 is {problem}" in err
    code, out, _ = cli("verify", store, "--repair")
    assert code == 0 and "500 shard(s) marked pending" in out, out
    assert int(open_store(store).done().sum()) == 4500
    code, out, _ = cli("run", "--store", store, "--cluster", "sync", "--no-progress")
    assert code == 0 and "computed 500 shard(s)" in out
    assert cli("verify", store)[0] == 0
    assert cli("show", store, "--json")[1] == show
    for name, value in arrays(store).items():
        assert np.array_equal(value, arrays(ref)[name]), name


def test_damaged_block_sums_and_staged_chunk_are_found_and_rebuilt(reference, tmp_path, cli):
    ref, spec, show = reference
    store = tmp_path / "st"
    shutil.copytree(ref, store)
    flip(store / "blocks" / "sum_x2" / "c" / "0" / "0", offset=40)
    st = open_store(store)   # a shard staged by a worker and then damaged on disk
    st.shard_writer().write(0, 7, _sums_of(st, 0, 7))
    flip(store / "staging" / "shards" / "c.0.7.0", offset=10)
    code, out, _ = cli("verify", store)
    assert code == 1
    assert "blocks/sum_x2 point 0: corrupted (repair rebuilds the block sums)" in out
    assert "staging/shards point 0, shard 7: corrupted (repair marks its shards pending)" in out
    code, out, _ = cli("verify", store, "--repair")
    assert code == 0 and "1 shard(s) marked pending" in out
    assert cli("show", store, "--json")[1] == show   # shard 7 is still compacted: nothing was lost
    assert cli("verify", store)[0] == 0


def _sums_of(store, p, s):
    from ensemble.engine.tasks import shard_sums

    spec = store.spec
    return shard_sums(spec.model, spec.points()[p], spec.seed, p, tuple(store.shard_range()[s]))[0]


def test_damaged_spec_or_shard_table_is_reported_not_guessed(reference, tmp_path, cli):
    ref, _, _ = reference
    store = tmp_path / "st"
    shutil.copytree(ref, store)
    meta = json.loads((store / "zarr.json").read_text())
    meta["attributes"]["spec"]["params"]["draws"] = 4        # the spec no longer matches its hash
    (store / "zarr.json").write_text(json.dumps(meta))
    code, _, err = cli("show", store)
    assert code == 2 and "does not match its spec_hash" in err and err.count("\n") == 1
    code, _, err = cli("verify", store, "--repair")
    assert code == 1 and "cannot be repaired" in err
    shutil.rmtree(store)
    shutil.copytree(ref, store)
    flip(store / "shard_range" / "c" / "0" / "0", offset=8)
    code, out, _ = cli("verify", store, "--repair")
    assert code == 1 and "shard_range: corrupted (cannot be recomputed" in out


def test_chunks_carry_zarr_checksums_readable_by_xarray(reference):
    import xarray as xr

    ref, _, _ = reference
    meta = json.loads((ref / "sum_x" / "zarr.json").read_text())
    assert [c["name"] for c in meta["codecs"]] == ["bytes", "crc32c"]
    ds = xr.open_zarr(str(ref))
    assert ds["sum_x"].shape == (2, 2500) and bool(ds["done"].all())


# ----- environment faults -----

def test_full_disk_stops_with_one_line_and_resumes_bitwise(reference, tmp_path, cli, monkeypatch):
    """The store's writes fail with ENOSPC after some shards (in this process: --cluster sync): one line, exit
    75, nothing lost; after space is freed the resumed store equals an undisturbed run."""
    ref, spec, show = reference
    real, budget = chunks_mod._write_file, [600]

    def full(path, data):
        budget[0] -= 1
        if budget[0] < 0:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, data)

    monkeypatch.setattr(chunks_mod, "_write_file", full)
    code, out, err = cli("run", spec, "--store", tmp_path / "st", "--cluster", "sync", "--no-progress")
    assert code == 75 and err.count("\n") == 1, err
    assert "stopped: no space left on the device [ENOSPC]" in err and "shards saved" in err
    assert f"to resume after freeing space (or fixing the permission): ensemble run --store {tmp_path / 'st'}" in err
    assert "per shard" in err
    monkeypatch.undo()
    saved = int(open_store(tmp_path / "st").done().sum())
    assert 0 < saved < 5000
    assert cli("verify", tmp_path / "st")[0] == 0
    code, out, _ = cli("run", "--store", tmp_path / "st", "--cluster", "sync", "--no-progress")
    assert code == 0 and f"computed {5000 - saved} shard(s)" in out
    assert cli("show", tmp_path / "st", "--json")[1] == show


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="mounting a tmpfs needs root")
def test_full_tmpfs_on_a_local_cluster_stops_cleanly(reference, tmp_path):
    """A real full file system under a LocalCluster: workers' ENOSPC stops the run with one line (no per-task
    logs), exit 75; remounted larger, the run resumes to the undisturbed bits."""
    ref, spec, show = reference
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1500k", "tmpfs", str(mnt)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        cmd = [sys.executable, "-m", "ensemble.cli", "run", str(spec), "--store", str(mnt / "st"), "--workers", "2",
               "--no-progress"]
        run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 75, run.stderr[-3000:]
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and "no space left on the device [ENOSPC]" in lines[0], run.stderr[-3000:]
        assert "Compute Failed" not in run.stdout + run.stderr
        saved = int(open_store(mnt / "st").done().sum())
        assert 0 < saved < 5000
        subprocess.run(["mount", "-o", "remount,size=64m", str(mnt)], check=True)
        run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        show_now = subprocess.run([sys.executable, "-m", "ensemble.cli", "show", str(mnt / "st"), "--json"],
                                  env=env, capture_output=True, text=True).stdout
        assert show_now == show
    finally:
        subprocess.run(["umount", "-l", str(mnt)])


def test_read_only_store_is_one_line(reference, tmp_path, cli, monkeypatch):
    ref, spec, _ = reference
    real = chunks_mod._write_file

    def readonly(path, data):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    assert cli("run", spec, "--store", tmp_path / "st", "--cluster", "sync", "--no-progress", "--max-shards", 3)[0] == 0
    monkeypatch.setattr(chunks_mod, "_write_file", readonly)
    code, _, err = cli("run", "--store", tmp_path / "st", "--cluster", "sync", "--no-progress")
    assert code == 75 and err.count("\n") == 1 and "the file system is read-only [EROFS]" in err
    assert "3 of 5000 shards saved" in err
    monkeypatch.setattr(chunks_mod, "_write_file", real)


# ----- provenance -----

def test_provenance_recorded_shown_and_version_change_warned(reference, tmp_path, cli):
    ref, spec, _ = reference
    store = tmp_path / "st"
    assert cli("run", spec, "--store", store, "--cluster", "sync", "--no-progress", "--max-shards", 4)[0] == 0
    [record] = open_store(store).provenance()
    assert record["shards_computed"] == 4 and record["ended"] and record["host"]
    assert set(record["versions"]) >= {"tls-ensemble", "python", "numpy", "scipy", "numba", "dask", "distributed",
                                       "zarr"}
    code, out, _ = cli("status", store)
    assert code == 0 and "run sessions:" in out and "4 shard(s)" in out and f"numpy {np.__version__}" in out
    group = zarr.open_group(str(store), mode="r+", use_consolidated=False)
    records = group.attrs["provenance"]
    records[0]["versions"]["numpy"] = "1.0.0"
    group.attrs["provenance"] = records
    code, out, _ = cli("run", "--store", store, "--cluster", "sync", "--no-progress", "--max-shards", 2)
    assert code == 0
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and f"numpy 1.0.0 -> {np.__version__}" in warnings[0]
    assert len(open_store(store).provenance()) == 2


# ----- stores written before checksums -----

def test_store_written_before_checksums_reads_resumes_and_says_so(tmp_path, cli):
    """tests/data/layout2_store was written by the version before checksums (layout 2, 7 of 12 shards per ...
    point set). It reads with a note, verifies by length, and resumes to the bits of a fresh run."""
    store = tmp_path / "old"
    shutil.copytree(DATA / "layout2_store", store)
    code, out, err = cli("show", store, "--json")
    assert code == 0 and "written before chunk checksums (layout 2)" in err
    assert json.loads(out) == json.loads((DATA / "layout2_store.show.json").read_text())
    assert cli("verify", store)[0] == 0
    code, out, _ = cli("run", "--store", store, "--cluster", "sync", "--no-progress")
    assert code == 0 and "computed 5 shard(s)" in out
    fresh = tmp_path / "fresh"
    assert cli("run", DATA / "layout2_store.toml", "--store", fresh, "--cluster", "sync", "--no-progress")[0] == 0
    assert cli("show", store, "--json")[1] == cli("show", fresh, "--json")[1]
    assert not [d for d in store.rglob("*") if d.is_dir() and not any(d.iterdir())]
