"""Engine overhead and parallel efficiency, measured in one run.

1. Per-shard overhead: many trivial shards (normal_mean, 1 draw) through a running LocalCluster
   with one single-threaded worker, minus the same shards' compute time in-process; the store
   write alone is timed too, with and without its crc32c checksums (the checksum's cost).  The same for two-level shards (normal_two_level, one vector per shard,
   a shared realization-setup node per two shards).
2. Parallel efficiency 1 -> 2 workers on CPU-bound shards of ~1 s each (cluster start excluded).

Usage: python bench/engine_overhead.py [--shards 400] [--big-shards 8]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from distributed import Client, LocalCluster

import dataclasses

from ensemble.engine.execute import plan_of
from ensemble.engine.spec import spec_from_dict
from ensemble.engine.store import create_or_resume
from ensemble.engine.tasks import compute_shard, shard_sums
from ensemble.engine.window import RunReport, Tally, stream


class _NoBar:
    def update(self, n=1):
        pass


def make_store(root: Path, name: str, members: int, draws: int):
    spec = spec_from_dict({"model": "normal_mean", "params": {"draws": draws, "bins": 4},
                           "ensemble": {"members": members, "shard_size": 1, "seed": 1}})
    return create_or_resume(root / name, spec)[0]


def make_two_level_store(root: Path, name: str, members: int):
    spec = spec_from_dict({"model": "normal_two_level",
                           "ensemble": {"realizations": max(members // 2, 1), "vectors": 2, "shard_size": 1, "seed": 1}})
    return create_or_resume(root / name, spec)[0]


def timed_dask(client, store) -> float:
    plan = plan_of(store)
    t0 = time.perf_counter()
    report = RunReport()
    stream(client, plan, Tally(report, _NoBar(), 0))
    assert not report.failed and report.computed == len(plan)
    return time.perf_counter() - t0


def without_checksums(writer):
    """The same writer with its chunks written without the crc32c trailer (only to time the difference)."""
    staging = writer.staging
    plain = dataclasses.replace(staging, records=dataclasses.replace(staging.records, checksummed=False))
    return dataclasses.replace(writer, staging=plain)


def crc_seconds(store, repeat: int = 20000) -> float:
    """Seconds to checksum one shard's staged record (what the checksum adds to a write, without file noise)."""
    from ensemble.engine.store.chunks import crc32c

    staging = store.shard_writer().staging
    record = bytes(staging.records.chunk_bytes)
    t0 = time.perf_counter()
    for _ in range(repeat):
        crc32c(record)
    return (time.perf_counter() - t0) / repeat


def timed_inprocess(store, write: bool, checksums: bool = True) -> float:
    """Compute every shard in this process, with or without writing it to the store."""
    spec = store.spec
    point = spec.points()[0]
    table = store.shard_range()
    writer = store.shard_writer() if checksums else without_checksums(store.shard_writer())
    t0 = time.perf_counter()
    for s, row in enumerate(table):
        row = tuple(int(x) for x in row)
        if write:
            compute_shard(writer, spec.model_name, point, spec.seed, 0, s, row)
        else:
            shard_sums(spec.model, point, spec.seed, 0, row)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shards", type=int, default=400)
    ap.add_argument("--big-shards", type=int, default=8)
    ap.add_argument("--big-draws", type=int, default=12_000_000, help="draws per ~1-s shard")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        compute = timed_inprocess(make_store(root, "a", args.shards, 1), write=False)
        plain, with_store = [], []
        for rep in range(3):  # alternated, best of three: the checksum's cost is small against file creation
            plain.append(timed_inprocess(make_store(root, f"p{rep}", args.shards, 1), write=True, checksums=False))
            with_store.append(timed_inprocess(make_store(root, f"b{rep}", args.shards, 1), write=True))
        plain, with_store = min(plain), min(with_store)
        crc = crc_seconds(make_store(root, "crc", 1, 1))
        compute2 = timed_inprocess(make_two_level_store(root, "a2", args.shards), write=False)
        with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as client:
            timed_dask(client, make_store(root, "warm", 20, 1))  # warm the worker's imports
            timed_dask(client, make_two_level_store(root, "warm2", 20))
            dask_total = timed_dask(client, make_store(root, "c", args.shards, 1))
            dask_two = timed_dask(client, make_two_level_store(root, "c2", args.shards))
        n = args.shards
        print(f"trivial shards: {n}")
        print(f"  compute only, in-process        {1e3 * compute / n:8.3f} ms/shard")
        print(f"  store write overhead            {1e3 * (with_store - compute) / n:8.3f} ms/shard "
              f"(without checksums {1e3 * (plain - compute) / n:.3f}: checksums cost "
              f"{100 * (with_store - plain) / (plain - compute):+.1f} % of the write, which is within its noise)")
        print(f"  crc32c of one staged record      {1e6 * crc:8.3f} us/shard = "
              f"{100 * crc / ((with_store - compute) / n):.2f} % of the store write (target < 5 %)")
        print(f"  dask + store overhead           {1e3 * (dask_total - compute) / n:8.3f} ms/shard "
              f"(target < 5 ms)")
        print(f"  two-level (setup node per 2 shards), dask + store overhead "
              f"{1e3 * (dask_two - compute2) / n:8.3f} ms/shard (target < 5 ms)")

        times = {}
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster, \
                    Client(cluster) as client:
                timed_dask(client, make_store(root, f"w{workers}-warm", 2, 1000))
                times[workers] = timed_dask(client, make_store(root, f"w{workers}", args.big_shards, args.big_draws))
        per_shard = times[1] / args.big_shards
        eff = times[1] / (2 * times[2])
        print(f"CPU-bound shards: {args.big_shards} x {per_shard:.2f} s")
        print(f"  1 worker {times[1]:.2f} s, 2 workers {times[2]:.2f} s: speed-up {times[1] / times[2]:.2f}, "
              f"parallel efficiency {100 * eff:.1f}% (target >= 90%)")


if __name__ == "__main__":
    main()
