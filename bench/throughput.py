"""The engine's client at scale, measured end to end through `ensemble run` (the path users take).

    python bench/throughput.py [--sleep-shards 4000] [--sizes 1000,10000,100000] [--workers 2]

1. Task rate: N shards that each sleep 0.1 s (normal_two_level, vector_s = 0.1, one vector per shard) on
   one LocalCluster of 2 workers x 32 threads (64 slots), run by `ensemble run --scheduler ADDR` (a separate
   client process joining that cluster), against plain `client.map` of the same sleep on the same cluster
   in this process.  Prints both times, the ideal N x 0.1 s / 64, and the ratio (target >= 0.85).
2. Scale: `ensemble run SPEC --store S --workers W` (its own LocalCluster, scheduler in the client process)
   of 10^3, 10^4, 10^5 trivial shards (normal_mean, draws = 1, shard_size = 1).  For each: wall time, the
   client process's own CPU per shard (its pid, not the workers'), its peak RSS (VmHWM), the files and
   directories the finished store holds; then the ratios largest/smallest (targets: CPU <= 1 ms per
   shard, RSS <= 300 MB and RSS(10^5)/RSS(10^3) <= 1.3).  With --joined the runs join one LocalCluster
   started by this script, so the client process's CPU and RSS are its own, without the scheduler's.
3. Start and stop (--first-shard N): `ensemble run` of N trivial shards; seconds from the command's start
   to its first stored shard, then SIGTERM and the seconds until the process has exited (target: seconds,
   whatever N).
Every number comes from this one run, so the ratios hold on a loaded machine even where the times do not.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]

SLEEP_SPEC = """
model = "normal_two_level"
[params]
vector_s = {sleep}
[ensemble]
realizations = {n}
vectors = 1
shard_size = 1
seed = 1
"""
TRIVIAL_SPEC = """
model = "normal_mean"
[params]
draws = 1
[ensemble]
members = {n}
shard_size = 1
seed = 1
"""


def env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def peak_rss(pid: int) -> int:
    """VmHWM: the process's peak resident set so far, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def measured_run(args: list[str], store: Path | None = None, report_every: float = 0.0) -> dict:
    """Run `ensemble ARGS` as a child process; its wall time, own CPU seconds and peak RSS (sampled until exit).
    With ``report_every``, print a progress line (shards done in ``store``, CPU, RSS) that often."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "ensemble.cli", *args], env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    me = psutil.Process(proc.pid)
    cpu, rss, last = 0.0, 0, t0
    while proc.poll() is None:
        try:
            times = me.cpu_times()
            cpu, rss = times.user + times.system, max(rss, peak_rss(proc.pid))
        except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
            break
        if report_every and time.perf_counter() - last >= report_every and store is not None:
            last = time.perf_counter()
            print(f"  after {last - t0:7.0f} s: {_done(store)} shards done, client CPU {cpu:.0f} s, "
                  f"peak RSS {rss / 2**20:.0f} MiB", flush=True)
        time.sleep(0.05)
    out, _ = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"ensemble {' '.join(args)} failed:\n{out}")
    return {"wall": wall, "cpu": cpu, "rss": rss, "out": out}


def _done(store: Path) -> int:
    from ensemble.engine.store import open_store

    try:
        return int(open_store(store).done().sum())
    except Exception:  # noqa: BLE001 - not created yet
        return 0


def entries(path: Path) -> tuple[int, int]:
    files = dirs = 0
    for _, dnames, fnames in os.walk(path):
        files += len(fnames)
        dirs += len(dnames)
    return files, dirs


def _sleep(seconds: float, i: int) -> int:
    time.sleep(seconds)
    return i


def task_rate(root: Path, n: int, sleep: float) -> None:
    from distributed import Client, LocalCluster

    spec = root / "sleep.toml"
    spec.write_text(SLEEP_SPEC.format(n=n, sleep=sleep))
    with LocalCluster(n_workers=2, threads_per_worker=32, dashboard_address=None) as cluster, Client(cluster) as client:
        client.submit(_sleep, 0.0, -1).result()
        engine = measured_run(["run", str(spec), "--store", str(root / "sleep"), "--scheduler", cluster.scheduler_address,
                               "--no-progress"])
        t0 = time.perf_counter()
        futures = client.map(_sleep, [sleep] * n, range(n), pure=False)
        client.gather(futures)
        plain = time.perf_counter() - t0
        del futures
    ideal = n * sleep / 64
    print(f"task rate: {n} shards of {sleep} s on 64 slots (ideal {ideal:.2f} s)")
    print(f"  ensemble run  {engine['wall']:7.2f} s wall (client process included: start-up, store, compaction); "
          f"client CPU {1e3 * engine['cpu'] / n:.2f} ms/shard, client peak RSS {engine['rss'] / 2**20:.0f} MiB")
    print(f"  client.map    {plain:7.2f} s")
    print(f"  ratio client.map / ensemble run = {plain / engine['wall']:.2f} (target >= 0.85)")


def scale(root: Path, sizes: list[int], workers: int, report_every: float, joined: bool = False) -> None:
    """``joined``: the client joins a LocalCluster started here, so its RSS and CPU are its own, without the
    scheduler's."""
    from contextlib import ExitStack

    rows = []
    with ExitStack() as stack:
        where = ["--workers", str(workers)]
        if joined:
            from distributed import LocalCluster

            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None))
            where = ["--scheduler", cluster.scheduler_address]
            print(f"clients join one LocalCluster of {workers} workers (scheduler in the bench's process)")
        for n in sizes:
            rows.append(_scale_row(root, n, where, report_every))
    if len(rows) < 2:
        return
    (n0, a, *_), (n1, b, *_) = rows[0], rows[-1]
    print(f"ratios {n1}/{n0} shards: peak RSS {b['rss'] / a['rss']:.2f} (target <= 1.3), client CPU per shard "
          f"{(b['cpu'] / n1) / (a['cpu'] / n0):.2f}, wall per shard {(b['wall'] / n1) / (a['wall'] / n0):.2f}")


def _scale_row(root: Path, n: int, where: list[str], report_every: float):
    spec = root / f"trivial{n}.toml"
    spec.write_text(TRIVIAL_SPEC.format(n=n))
    store = root / f"trivial{n}"
    got = measured_run(["run", str(spec), "--store", str(store), *where, "--no-progress"],
                       store, report_every)
    files, dirs = entries(store)
    print(f"{n:>8} shards: wall {got['wall']:8.1f} s ({1e3 * got['wall'] / n:.2f} ms/shard), client CPU "
          f"{1e3 * got['cpu'] / n:.3f} ms/shard, peak RSS {got['rss'] / 2**20:.0f} MiB, store {files} files + "
          f"{dirs} directories", flush=True)
    return n, got, files, dirs


def start_and_stop(root: Path, n: int, workers: int) -> None:
    import signal

    spec = root / f"first{n}.toml"
    spec.write_text(TRIVIAL_SPEC.format(n=n))
    store = root / f"first{n}"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "ensemble.cli", "run", str(spec), "--store", str(store),
                             "--workers", str(workers), "--no-progress"], env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while _staged_or_done(store) == 0:
        if proc.poll() is not None:
            raise SystemExit(proc.communicate()[0])
        time.sleep(0.05)
    first = time.perf_counter() - t0
    time.sleep(2.0)
    t1 = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=600)
    stop = time.perf_counter() - t1
    last = [line for line in out.splitlines() if "stopped by SIGTERM" in line]
    print(f"{n} shards: first shard stored {first:.1f} s after the command started; SIGTERM 2 s later: exited "
          f"{stop:.1f} s after the signal (exit {proc.returncode}): {last[0] if last else out[-300:]}")


def _staged_or_done(store: Path) -> int:
    """Shards stored so far, counted from the files alone (cheap enough to poll)."""
    staged = store / "staging" / "shards"
    try:
        return sum(1 for name in os.listdir(staged) if name.startswith("c.")) + (store / "done" / "c").exists()
    except FileNotFoundError:
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sleep-shards", type=int, default=4000)
    ap.add_argument("--sleep", type=float, default=0.1)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dir", default=None, help="where the stores go (default: a temporary directory)")
    ap.add_argument("--report-every", type=float, default=0.0, help="seconds between progress lines of a scale run")
    ap.add_argument("--first-shard", type=int, default=0, help="shards of the start-and-stop run (0: skip it)")
    ap.add_argument("--joined", action="store_true", help="scale runs join one cluster started here (client alone)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        if args.sleep_shards:
            task_rate(root, args.sleep_shards, args.sleep)
        if args.first_shard:
            start_and_stop(root, args.first_shard, args.workers)
        if args.sizes:
            scale(root, [int(x) for x in args.sizes.split(",")], args.workers, args.report_every, args.joined)


if __name__ == "__main__":
    main()
