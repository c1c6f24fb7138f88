"""Cost before commitment: time one shard here and project the run's core-hours, wall time and memory."""
from __future__ import annotations

import time
from dataclasses import dataclass

from ensemble.engine.seeding import shard_members
from ensemble.engine.spec import Spec
from ensemble.engine.store import check_store, table_for
from ensemble.engine.tasks import shard_sums

WARM_REPEAT_BELOW_S = 5.0   # a first shard faster than this is timed again (without compile/import time)


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


def estimate_cost(spec: Spec, store=None, workers: int = 1) -> CostEstimate:
    """Time the first shard of the first and last point in this process; nothing is written."""
    existing = check_store(store, spec) if store is not None else None
    table = table_for(spec, existing.shard_range() if existing is not None else None)
    sizes = shard_members(table)
    n_points = len(spec.points())
    done = existing.done() if existing is not None else None
    pending = [(p, s) for p in range(n_points) for s in range(len(table))
               if done is None or s >= done.shape[1] or not done[p, s]]
    row = tuple(int(x) for x in table[0])
    timed = sorted({0, n_points - 1})
    per_member, warm, longest = [], True, 0.0
    for p in timed:
        seconds, was_warm = _time_shard(spec, p, row)
        per_member.append(seconds / sizes[0])
        warm &= was_warm
    rate = sum(per_member) / len(per_member)
    longest = max(per_member) * int(sizes.max())
    memory = max(spec.model.memory_bytes(pt, spec.shard_size) for pt in spec.points())
    return CostEstimate(n_points, len(pending), int(sum(sizes[s] for _, s in pending)), rate, timed, warm,
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
        f"timed the first shard of point(s) {', '.join(map(str, est.timed_points))} here: "
        f"{est.seconds_per_member:.3g} s per member ({timing})",
        f"to compute: {est.shards} shard(s), {est.members} member(s) over {est.points} point(s); "
        f"memory per task ≈ {est.memory_per_task / 2**20:.0f} MiB",
        f"projected: {est.core_hours:.3g} core-hours; wall ≈ {_duration(est.wall_seconds)} on {est.workers} "
        f"worker(s) (ideal scaling, cluster start not included)",
    ])
