"""Store scaling: files, bytes, run time, `ensemble status` and `ensemble show --json` times against shards.

    python bench/store_scale.py [--sizes 1000,10000,100000] [--run-max 10000] [--workers 2] [--dir DIR]

normal_mean with draws = 1 and shard_size = 1, one point, so shards = members.  Sizes up to --run-max are
computed by `ensemble run` on a LocalCluster (the run time is printed); larger sizes are written in this
process through the workers' write path (tasks.shard_sums + the store's ShardWriter), compacted every 5000 shards
as the run's client does, which produces the same store without the cluster's per-task overhead.  status and show are
timed as fresh CLI processes (Python start-up included), best of three.  Prints the ratios largest/smallest.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SPEC = """
model = "normal_mean"
[params]
sigma = 1.0
draws = 1
[ensemble]
members = {members}
shard_size = 1
seed = 1
"""


def env():
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def cli(*args) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ensemble.cli", *map(str, args)], env=env(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def write_in_process(spec_path: Path, store: Path) -> float:
    from ensemble.engine.spec import load_spec
    from ensemble.engine.store import create_or_resume
    from ensemble.engine.store.compaction import compact
    from ensemble.engine.tasks import shard_sums

    spec = load_spec(spec_path)
    t0 = time.perf_counter()
    st, _ = create_or_resume(store, spec)
    table = st.shard_range()
    model, point = spec.model, spec.points()[0]
    writer = st.shard_writer()
    for s, row in enumerate(table):
        writer.write(0, s, shard_sums(model, point, spec.seed, 0, tuple(row))[0])
        if s % 5000 == 4999:  # what the run's client does every few seconds (here: no thread, no GIL ping-pong)
            compact(st)
    compact(st, all_points=True)
    return time.perf_counter() - t0


def footprint(path: Path) -> tuple[int, float]:
    files, size = 0, 0
    for root, _, names in os.walk(path):
        for name in names:
            files += 1
            size += os.stat(os.path.join(root, name)).st_blocks * 512
    return files, size / 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--run-max", type=int, default=10000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    root = Path(args.dir or tempfile.mkdtemp(prefix="store-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"{'shards':>8} {'how':>10} {'make s':>8} {'files':>7} {'MB':>8} {'status s':>9} {'show s':>8}")
    for n in (int(x) for x in args.sizes.split(",")):
        spec, store = root / f"spec{n}.toml", root / f"st{n}"
        spec.write_text(SPEC.format(members=n))
        shutil.rmtree(store, ignore_errors=True)
        if n <= args.run_max:
            how, made = "run", cli("run", spec, "--store", store, "--workers", args.workers, "--no-progress")
        else:
            how, made = "in-process", write_in_process(spec, store)
        files, mb = footprint(store)
        status = min(cli("status", store) for _ in range(3))
        show = min(cli("show", store, "--json") for _ in range(3))
        rows.append((n, status, show))
        print(f"{n:>8} {how:>10} {made:>8.1f} {files:>7} {mb:>8.2f} {status:>9.2f} {show:>8.2f}", flush=True)
    (n0, st0, sh0), (n1, st1, sh1) = rows[0], rows[-1]
    print(f"ratio {n1}/{n0} shards: status {st1 / st0:.2f}, show --json {sh1 / sh0:.2f}")
    if not args.dir:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
