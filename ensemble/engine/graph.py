"""The work of a run as a graph: one node per pending shard, plus realization-setup nodes.

A setup node exists where the model's setup is expensive and a realization's vectors are split over
several pending shards: it builds the realization once and feeds every one of those shard nodes.
:func:`to_delayed` turns the plan into ``dask.delayed`` objects (what a cluster computes);
:func:`run_plan_sync` executes the same plan in this process.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from ensemble.engine.spec import Spec
from ensemble.engine.tasks import compute_shard, prepare_realization


@dataclass(frozen=True)
class SetupNode:
    point: int
    realization: int
    shares: int             # shard nodes fed

    def key(self, tag: str) -> str:
        return f"setup-{tag}-{self.point}-{self.realization}"


@dataclass(frozen=True)
class ShardNode:
    point: int
    shard: int
    row: tuple
    setup: SetupNode | None = None

    def key(self, tag: str) -> str:
        return f"shard-{tag}-{self.point}-{self.shard}"


@dataclass
class Plan:
    spec: Spec
    path: str
    n_shards: int
    shards: list[ShardNode] = field(default_factory=list)
    setups: list[SetupNode] = field(default_factory=list)
    pending_total: int = 0      # pending shards of the whole run (a plan may hold only the first of them)

    @property
    def tag(self) -> str:
        return self.spec.hash()[:8]

    def summary(self) -> dict:
        model = self.spec.model
        points = self.spec.points()
        per_point = np.bincount([n.point for n in self.shards], minlength=len(points))
        mem = max(model.memory_bytes(pt, self.spec.shard_size) for pt in points)
        return {
            "nodes": len(self.shards) + len(self.setups),
            "shard_nodes": len(self.shards),
            "setup_nodes": len(self.setups),
            "edges": sum(1 for n in self.shards if n.setup is not None),
            "points": len(points),
            "shards_per_point": [int(x) for x in per_point],
            "memory_per_task_bytes": int(mem),
        }


def build_plan(spec: Spec, path: str, table: np.ndarray, pending: list[tuple[int, int]]) -> Plan:
    """The graph of ``pending`` (point, shard) pairs of a store whose shard table is ``table``."""
    plan = Plan(spec, str(path), len(table))
    rows = [tuple(int(x) for x in row) for row in np.asarray(table)]
    shared: dict[tuple[int, int], SetupNode] = {}
    if spec.two_level and spec.model.setup_cost == "expensive":
        by_realization = defaultdict(int)
        for p, s in pending:
            r0, r1 = rows[s][:2]
            if r1 - r0 == 1:
                by_realization[(p, r0)] += 1
        shared = {key: SetupNode(key[0], key[1], n) for key, n in by_realization.items() if n > 1}
        plan.setups = list(shared.values())
    for p, s in pending:
        row = rows[s]
        setup = shared.get((p, row[0])) if len(row) == 4 and row[1] - row[0] == 1 else None
        plan.shards.append(ShardNode(p, s, row, setup))
    return plan


def _shard_args(plan: Plan, node: ShardNode, points: list[dict]) -> tuple:
    spec = plan.spec
    return (plan.path, spec.model_name, points[node.point], spec.seed, node.point, node.shard, node.row, plan.n_shards)


def _setup_args(plan: Plan, node: SetupNode, points: list[dict]) -> tuple:
    spec = plan.spec
    return (spec.model_name, points[node.point], spec.seed, node.point, node.realization, node.shares)


def to_delayed(plan: Plan) -> list:
    """One ``dask.delayed`` per shard node (in plan order); setup nodes are their shared inputs."""
    from dask import delayed

    points = plan.spec.points()
    tag = plan.tag
    setups = {node: delayed(prepare_realization, pure=True)(*_setup_args(plan, node, points),
                                                              dask_key_name=node.key(tag))
              for node in plan.setups}
    out = []
    for node in plan.shards:
        extra = (setups[node.setup],) if node.setup is not None else ()
        out.append(delayed(compute_shard, pure=True)(*_shard_args(plan, node, points), *extra,
                                                     dask_key_name=node.key(tag)))
    return out


def run_plan_sync(plan: Plan, on_done, on_fail, retries: int = 0) -> None:
    """Execute the plan in this process, in plan order; a shared realization is kept until its last use."""
    import traceback

    points = plan.spec.points()
    built: dict[SetupNode, object] = {}
    uses: dict[SetupNode, int] = defaultdict(int)
    for node in plan.shards:
        if node.setup is not None:
            uses[node.setup] += 1
    for node in plan.shards:
        for attempt in range(retries + 1):
            try:
                extra = ()
                if node.setup is not None:
                    if node.setup not in built:
                        built[node.setup] = prepare_realization(*_setup_args(plan, node.setup, points))
                    extra = (built[node.setup],)
                on_done(node, compute_shard(*_shard_args(plan, node, points), *extra))
                break
            except Exception:  # noqa: BLE001 - a failing shard must not stop the run
                if attempt == retries:
                    on_fail(node, traceback.format_exc())
        if node.setup is not None:
            uses[node.setup] -= 1
            if uses[node.setup] == 0:
                built.pop(node.setup, None)
