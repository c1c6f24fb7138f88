"""Clean stops (SIGTERM/SIGINT) on a LocalCluster, and the jobqueue walltime options."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ensemble.engine.lease import lease_path
from ensemble.engine.model import SpecError
from ensemble.engine.store import open_store

REPO = Path(__file__).resolve().parents[1]
SPEC = """
model = "normal_mean"
[params]
sigma = 2.0
draws = 10
sleep_s = 0.1
[ensemble]
members = 40
shard_size = 2
seed = 3
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_and_resume_gives_same_bits(tmp_path, cli, signum):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    assert cli("run", spec, "--store", tmp_path / "ref", "--cluster", "sync", "--no-progress")[0] == 0
    store = tmp_path / "cut"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-m", "ensemble.cli", "run", str(spec), "--store", str(store),
                             "--workers", "2", "--no-progress"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        time.sleep(0.2)
        try:
            if open_store(store).done().sum() >= 3:
                break
        except Exception:  # noqa: BLE001 - store not created yet
            continue
    proc.send_signal(signum)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, out
    name = signal.Signals(signum).name
    reported = re.search(rf"stopped by {name}: (\d+) of 20 shards done", out)
    assert reported, out
    done = int(open_store(store).done().sum())
    assert 3 <= int(reported[1]) <= done < 20
    assert f"to resume: ensemble run --store {store} --workers 2" in out
    assert not lease_path(store).exists()   # the stopped client released its lease
    code, text, _ = cli("run", "--store", store, "--cluster", "sync", "--no-progress")
    assert code == 0 and f"computed {20 - done} shard(s)" in text
    assert cli("show", store, "--json")[1] == cli("show", tmp_path / "ref", "--json")[1]


def test_duration_parsing():
    from ensemble.engine.execute import parse_duration

    assert parse_duration("3h50m") == 13800
    assert parse_duration("55m") == 3300
    assert parse_duration("01:00:30") == 3630
    assert parse_duration("10:00") == 600  # SLURM's MM:SS
    assert parse_duration("1-00:00:00") == 86400
    for bad in ("", "5x", "h", "3h50"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_lifetime_reaches_worker_command(tmp_path, monkeypatch):
    pytest.importorskip("dask_jobqueue")
    from ensemble.engine.execute import build_jobqueue_cluster

    monkeypatch.chdir(tmp_path)
    cluster, _ = build_jobqueue_cluster("jobqueue:slurm", None, lifetime="3h50m")
    try:
        script = cluster.job_script()
        assert "--lifetime 13800s --lifetime-stagger 690s" in script
    finally:
        cluster.close()
    with pytest.raises(SpecError, match="--lifetime 'soon'"):
        build_jobqueue_cluster("jobqueue:slurm", None, lifetime="soon")


def test_bad_adapt_is_one_line_error(cli, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    code, _, err = cli("run", spec, "--store", tmp_path / "st", "--cluster", "jobqueue:slurm", "--adapt", "3:1")
    assert code == 2 and "--adapt '3:1': expected MIN:MAX" in err
    assert not (tmp_path / "st").exists()
