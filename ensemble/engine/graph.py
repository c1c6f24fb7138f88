"""The work of a run as a graph: one node per pending shard, plus realization-setup nodes.

A setup node exists where the model's setup is expensive and a realization's vectors are split over
several pending shards: it builds the realization once and feeds every one of those shard nodes.  A plan
holds its nodes as arrays (a few bytes per shard), so a run of 10⁶ shards is planned in well under a
second and in a few tens of MB; nodes are made one at a time as they are submitted.
:func:`to_delayed` turns the whole plan into ``dask.delayed`` objects (for users who compute it
themselves); the engine's runs stream it (:mod:`ensemble.engine.window`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ensemble.engine.spec import Spec
from ensemble.engine.tasks import compute_shard, prepare_realization


@dataclass(frozen=True)
class SetupNode:
    index: int
    point: int
    realization: int
    shares: int             # shard nodes fed

    def key(self, tag: str) -> str:
        return f"setup-{tag}-{self.point}-{self.realization}"


@dataclass(frozen=True)
class ShardNode:
    index: int
    point: int
    shard: int
    row: tuple
    setup: SetupNode | None = None

    def key(self, tag: str) -> str:
        return f"shard-{tag}-{self.point}-{self.shard}"


def _empty() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass
class Plan:
    spec: Spec
    writer: object                       # the store's ShardWriter (None for a plan that is only described)
    table: np.ndarray
    points: np.ndarray = field(default_factory=_empty)       # per shard node
    shards: np.ndarray = field(default_factory=_empty)
    setup_of: np.ndarray = field(default_factory=_empty)     # index of its setup node, -1: none (empty: none at all)
    setup_points: np.ndarray = field(default_factory=_empty)
    setup_realizations: np.ndarray = field(default_factory=_empty)
    setup_shares: np.ndarray = field(default_factory=_empty)
    pending_total: int = 0      # pending shards of the whole run (a plan may hold only the first of them)

    def __post_init__(self):
        self._params = self.spec.points()

    @property
    def tag(self) -> str:
        return self.spec.hash()[:8]

    def __len__(self) -> int:
        return len(self.points)

    def setup(self, j: int) -> SetupNode:
        return SetupNode(j, int(self.setup_points[j]), int(self.setup_realizations[j]), int(self.setup_shares[j]))

    def node(self, i: int) -> ShardNode:
        s = int(self.shards[i])
        j = int(self.setup_of[i]) if len(self.setup_of) else -1
        return ShardNode(i, int(self.points[i]), s, tuple(int(x) for x in self.table[s]),
                         self.setup(j) if j >= 0 else None)

    def nodes(self):
        for i in range(len(self)):
            yield self.node(i)

    @property
    def setups(self) -> list[SetupNode]:
        return [self.setup(j) for j in range(len(self.setup_points))]

    def shard_args(self, node: ShardNode) -> tuple:
        spec = self.spec
        return (self.writer, spec.model_name, self._params[node.point], spec.seed, node.point, node.shard, node.row)

    def setup_args(self, node: SetupNode) -> tuple:
        spec = self.spec
        return (spec.model_name, self._params[node.point], spec.seed, node.point, node.realization, node.shares)

    def summary(self) -> dict:
        model = self.spec.model
        points = self.spec.points()
        per_point = np.bincount(self.points, minlength=len(points))
        mem = max(model.memory_bytes(pt, self.spec.shard_size) for pt in points)
        return {
            "nodes": len(self) + len(self.setup_points),
            "shard_nodes": len(self),
            "setup_nodes": len(self.setup_points),
            "edges": int((self.setup_of >= 0).sum()) if len(self.setup_of) else 0,
            "points": len(points),
            "shards_per_point": [int(x) for x in per_point],
            "memory_per_task_bytes": int(mem),
        }


def build_plan(spec: Spec, writer, table: np.ndarray, points, shards) -> Plan:
    """The graph of the pending (``points[i]``, ``shards[i]``) pairs of a store whose shard table is ``table``."""
    table = np.asarray(table, dtype=np.int64)
    points = np.asarray(points, dtype=np.int64)
    shards = np.asarray(shards, dtype=np.int64)
    plan = Plan(spec, writer, table, points, shards)   # setup_of stays empty where no node has a setup
    if spec.two_level and spec.model.setup_cost == "expensive" and len(points):
        rows = table[shards]
        single = rows[:, 1] - rows[:, 0] == 1       # shards holding one realization (a block of its vectors)
        key = points * (int(table[:, 1].max()) + 1) + rows[:, 0]
        keys, inverse, counts = np.unique(np.where(single, key, -1), return_inverse=True, return_counts=True)
        shared = (keys >= 0) & (counts > 1)
        index = np.cumsum(shared) - 1
        plan.setup_of = np.where(shared[inverse], index[inverse], -1)
        first = np.full(len(keys), -1, dtype=np.int64)
        first[inverse[::-1]] = np.arange(len(points))[::-1]   # first node of each key
        first = first[shared]
        plan.setup_points = points[first]
        plan.setup_realizations = rows[first, 0]
        plan.setup_shares = counts[shared].astype(np.int64)
    return plan


def to_delayed(plan: Plan) -> list:
    """One ``dask.delayed`` per shard node (in plan order); setup nodes are their shared inputs."""
    from dask import delayed

    tag = plan.tag
    setups = {node.index: delayed(prepare_realization, pure=True)(*plan.setup_args(node), dask_key_name=node.key(tag))
              for node in plan.setups}
    out = []
    for node in plan.nodes():
        extra = (setups[node.setup.index],) if node.setup is not None else ()
        out.append(delayed(compute_shard, pure=True)(*plan.shard_args(node), *extra, dask_key_name=node.key(tag)))
    return out
