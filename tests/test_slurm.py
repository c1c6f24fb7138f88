"""The HPC path on a real single-node SLURM cluster (127.0.0.1 only): dask-jobqueue worker jobs,
a worker job cancelled mid-run, SIGTERM of the client, and the sbatch allocation script."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ensemble.engine.store import open_store

sys.path.insert(0, str(Path(__file__).parent))
import slurm_cluster  # noqa: E402

pytestmark = pytest.mark.slurm
REPO = Path(__file__).resolve().parents[1]

SPEC = """
model = "normal_mean"
[params]
sigma = [1.0, 3.0]
draws = 20
sleep_s = 0.1
[ensemble]
members = 40
shard_size = 2
seed = 5
"""
N_SHARDS = 40  # 2 points x 20 shards

JOBQUEUE = """
queue: debug
cores: 1
processes: 1
memory: 1GiB
walltime: "00:10:00"
interface: lo
scheduler_options: {{host: 127.0.0.1}}
local_directory: {tmp}
log_directory: {tmp}/logs
death_timeout: 30
"""


@pytest.fixture(scope="module")
def slurm():
    reason = slurm_cluster.missing_reason()
    if reason:
        pytest.skip(reason)
    cluster = slurm_cluster.start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("slurm-work")
    (root / "spec.toml").write_text(SPEC)
    (root / "jobqueue.yaml").write_text(JOBQUEUE.format(tmp=root))
    return root


def _env(slurm):
    return {**slurm.env, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def ensemble(slurm, work, *args, timeout=180, check=True):
    res = subprocess.run([sys.executable, "-m", "ensemble.cli", *map(str, args)], cwd=work, env=_env(slurm),
                         capture_output=True, text=True, timeout=timeout)
    if check:
        assert res.returncode == 0, res.stdout + res.stderr + slurm.log_tail()
    return res


def start_run(slurm, work, store):
    return subprocess.Popen(
        [sys.executable, "-m", "ensemble.cli", "run", "spec.toml", "--store", str(store), "--cluster",
         "jobqueue:slurm", "--jobqueue-config", "jobqueue.yaml", "--jobs", "2", "--no-progress"],
        cwd=work, env=_env(slurm), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def shards_done(store) -> int:
    try:
        return int(open_store(store).done().sum())
    except Exception:  # noqa: BLE001 - not created yet
        return 0


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def reference(slurm, work):
    """show --json of a LocalCluster run of the same spec."""
    ensemble(slurm, work, "run", "spec.toml", "--store", work / "local", "--workers", 2, "--no-progress")
    return ensemble(slurm, work, "show", work / "local", "--json").stdout


def test_jobqueue_run_equals_local_run(slurm, work, reference):
    res = ensemble(slurm, work, "run", "spec.toml", "--store", work / "jq", "--cluster", "jobqueue:slurm",
                   "--jobqueue-config", "jobqueue.yaml", "--jobs", 2, "--no-progress")
    assert f"computed {N_SHARDS} shard(s)" in res.stdout
    assert ensemble(slurm, work, "show", work / "jq", "--json").stdout == reference
    assert slurm.wait_no_jobs(30), "worker jobs left behind"


def test_cancelled_worker_job_run_still_finishes(slurm, work, reference):
    store = work / "scancel"
    proc = start_run(slurm, work, store)
    try:
        wait_for(lambda: len(slurm.running_job_ids()) == 2 and shards_done(store) >= 4, 120, "two running jobs")
        victim = slurm.running_job_ids()[0]
        slurm.command("scancel", victim)
        out, _ = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + slurm.log_tail()
    assert open_store(store).done().all()
    assert ensemble(slurm, work, "show", store, "--json").stdout == reference
    assert slurm.wait_no_jobs(30)


def test_sigterm_cancels_jobs_and_resume_gives_same_bits(slurm, work, reference):
    store = work / "sigterm"
    proc = start_run(slurm, work, store)
    try:
        wait_for(lambda: shards_done(store) >= 4, 120, "first shards")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, out
    assert slurm.wait_no_jobs(20), f"batch jobs not cancelled: {slurm.job_ids()}"
    done = shards_done(store)
    reported = re.search(r"stopped by SIGTERM: (\d+) of (\d+) shards done", out)
    assert reported and int(reported[2]) == N_SHARDS, out
    assert 4 <= int(reported[1]) <= done < N_SHARDS  # a shard finishing during the stop is kept too
    assert f"to resume: ensemble run --store {store} --cluster jobqueue:slurm --jobs 2" in out
    res = ensemble(slurm, work, "run", "--store", store, "--cluster", "sync", "--no-progress")
    assert "resuming" in res.stdout and f"computed {N_SHARDS - done} shard(s)" in res.stdout
    assert ensemble(slurm, work, "show", store, "--json").stdout == reference


def test_sbatch_allocation_script(slurm, work, reference):
    store = work / "alloc"
    out = slurm.command("sbatch", "--parsable", "--nodes=1", "--ntasks=3", "--ntasks-per-node=3",
                        "--mem-per-cpu=1000", "--time=00:05:00", f"--chdir={work}", f"--output={work}/alloc.out",
                        "--export=ALL,ENSEMBLE_DASK_HOST=127.0.0.1", str(REPO / "deploy" / "slurm_allocation.sh"),
                        "spec.toml", str(store))
    job = out.strip().split(";")[0]
    wait_for(lambda: job not in slurm.job_ids(), 180, f"allocation job {job}")
    log = (work / "alloc.out").read_text()
    assert f"computed {N_SHARDS} shard(s)" in log, log + slurm.log_tail()
    assert ensemble(slurm, work, "show", store, "--json").stdout == reference


@pytest.mark.slow  # ~45 s: beyond the landing checks' time budget (run with -m slow)
def test_worker_lifetime_replaces_jobs(slurm, work, reference):
    """--lifetime retires each worker early; new jobs replace them and the run ends with the same bits."""
    first = int(slurm.command("sbatch", "--parsable", "--wrap", "true", f"--output={work}/probe.out").split(";")[0])
    res = ensemble(slurm, work, "run", "spec.toml", "--store", work / "lifetime", "--cluster", "jobqueue:slurm",
                   "--jobqueue-config", "jobqueue.yaml", "--jobs", 1, "--lifetime", "6s", "--no-progress",
                   timeout=300)
    assert f"computed {N_SHARDS} shard(s)" in res.stdout
    assert ensemble(slurm, work, "show", work / "lifetime", "--json").stdout == reference
    last = int(slurm.command("sbatch", "--parsable", "--wrap", "true", f"--output={work}/probe.out").split(";")[0])
    assert last - first - 1 >= 2, "no worker job was replaced"
    assert slurm.wait_no_jobs(30)
