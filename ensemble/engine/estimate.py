"""Cost before commitment: time one member here and project the run's core-hours, wall time and memory.

One member of a flat run; one realization with the vectors of the first shard in a two-level run (its
setup is then shared by those vectors, as in the run).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ensemble.engine.seeding import shard_members
from ensemble.engine.spec import Spec
from ensemble.engine.store import check_store, pending_pairs, table_for
from ensemble.engine.tasks import shard_sums

WARM_REPEAT_BELOW_S = 5.0   # a first timing faster than this is repeated (without compile/import time)
SECOND_POINT_BELOW_S = 30.0  # the last point is timed too when the first took less than this


@dataclass
class CostEstimate:
    points: int
    shards: int                 # pending, all points
    members: int                # pending, all points
    seconds_per_member: float   # mean over the timed points
    timed_points: list[int]
    warm: bool                  # the timing excludes first-call compilation
    memory_per_task: int
    workers: int
    longest_shard_s: float

    @property
    def core_hours(self) -> float:
        return self.seconds_per_member * self.members / 3600

    @property
    def wall_seconds(self) -> float:
        return max(self.core_hours * 3600 / max(self.workers, 1), self.longest_shard_s if self.shards else 0.0)


def _time_shard(spec: Spec, p: int, row) -> tuple[float, bool]:
    params = spec.points()[p]
    t0 = time.perf_counter()
    shard_sums(spec.model, params, spec.seed, p, row)
    first = time.perf_counter() - t0
    if first >= WARM_REPEAT_BELOW_S:
        return first, False
    t0 = time.perf_counter()
    shard_sums(spec.model, params, spec.seed, p, row)
    return time.perf_counter() - t0, True


def _probe_row(row: tuple) -> tuple:
    """The smallest piece of the first shard that the timing may use: one member, or one realization."""
    if len(row) == 2:
        return (row[0], row[0] + 1)
    return (row[0], row[0] + 1, row[2], row[3])


def estimate_cost(spec: Spec, store=None, workers: int = 1) -> CostEstimate:
    """Time a member of the first (and the last) point in this process; nothing is written."""
    existing = check_store(store, spec) if store is not None else None
    table = table_for(spec, existing.shard_range() if existing is not None else None)
    sizes = shard_members(table)
    n_points = len(spec.points())
    _, pending = pending_pairs(n_points, len(table), existing.done() if existing is not None else None)
    row = _probe_row(tuple(int(x) for x in table[0]))
    probe_members = int(shard_members(np.asarray([row]))[0])
    timed, per_member, warm = [], [], True
    for p in sorted({0, n_points - 1}):
        if timed and per_member[0] * probe_members >= SECOND_POINT_BELOW_S:
            break
        seconds, was_warm = _time_shard(spec, p, row)
        per_member.append(seconds / probe_members)
        timed.append(p)
        warm &= was_warm
    rate = sum(per_member) / len(per_member)
    longest = max(per_member) * int(sizes.max())
    memory = max(spec.model.memory_bytes(pt, spec.shard_size) for pt in spec.points())
    return CostEstimate(n_points, len(pending), int(sizes[pending].sum()), rate, timed, warm,
                        int(memory), workers, longest)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def format_estimate(est: CostEstimate) -> str:
    timing = "warm" if est.warm else "first call, includes compilation"
    return "\n".join([
        f"timed a member of point(s) {', '.join(map(str, est.timed_points))} here: "
        f"{est.seconds_per_member:.3g} s per member ({timing})",
        f"to compute: {est.shards} shard(s), {est.members} member(s) over {est.points} point(s); "
        f"memory per task ≈ {est.memory_per_task / 2**20:.0f} MiB",
        f"projected: {est.core_hours:.3g} core-hours; wall ≈ {_duration(est.wall_seconds)} on {est.workers} "
        f"worker(s) (ideal scaling, cluster start not included)",
    ])
