"""Streaming a plan: a bounded window of shard tasks in flight, refilled as they finish.

The client submits a few tasks per worker thread (following the cluster as it grows, shrinks or loses
jobs), gathers finished outcomes in batches and submits the next ones, so the client and the scheduler
hold O(workers) tasks whatever the shard count: the first shard of a 10⁶-shard run starts within
seconds.  A realization-setup task is submitted with the first of its shards and feeds the others.
Failed tasks come back as outcomes (workers print nothing); the client retries them, and stops the whole
run at the first environment fault (full disk, quota, read-only, permission).
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from ensemble.engine.graph import Plan, ShardNode
from ensemble.engine.tasks import ShardOutcome, prepare_realization, run_shard_task

WINDOW_PER_THREAD = 2       # tasks in flight per worker thread at least: one running, one queued behind it
QUEUED_S = 0.5              # ... and enough to keep this much work queued per thread while the client refills
MAX_PER_THREAD = 32         # ... but never more than this (short tasks)


@dataclass
class RunReport:
    computed: int = 0
    failed: list[tuple[int, int, str]] = field(default_factory=list)
    seconds: float = 0.0
    dashboard: str | None = None
    timing: dict[int, list[float]] = field(default_factory=dict)   # per point: setup s, setups, vector s, vectors
    target_met: bool | None = None      # set by runs with a target error
    max_in_flight: int = 0              # the most shard tasks the client had submitted and not yet seen finish
    fault: str | None = None            # the environment fault that stopped the run

    def add(self, outcome: ShardOutcome) -> None:
        self.computed += 1
        self._add_timing(outcome.point, (outcome.setup_seconds, outcome.setups, outcome.vector_seconds,
                                         outcome.vectors))

    def _add_timing(self, point: int, values) -> None:
        t = self.timing.setdefault(point, [0.0, 0.0, 0.0, 0.0])
        for i, v in enumerate(values):
            t[i] += v

    def merge(self, other: "RunReport") -> None:
        self.computed += other.computed
        self.failed += other.failed
        self.seconds += other.seconds
        for p, values in other.timing.items():
            self._add_timing(p, values)
        self.max_in_flight = max(self.max_in_flight, other.max_in_flight)
        self.fault = self.fault or other.fault


@dataclass
class Tally:
    """What happens to a finished task, the same for the cluster and the in-process path."""

    report: RunReport
    bar: object
    retries: int

    def finished(self, node: ShardNode, outcome: ShardOutcome, attempt: int) -> bool:
        """Record ``outcome``; True when the node is to be tried again."""
        if outcome.error is None:
            self.report.add(outcome)
            self.bar.update()
            return False
        if outcome.fault is not None:
            self.report.fault = self.report.fault or outcome.fault
            return False
        if attempt < self.retries:
            return True
        self.report.failed.append((node.point, node.shard, outcome.error))
        self.bar.update()
        return False

    @property
    def stopping(self) -> bool:
        return self.report.fault is not None


def _error_outcome(node: ShardNode, future) -> ShardOutcome:
    import traceback

    try:
        exc, tb = future.exception(), future.traceback()
        text = "".join(traceback.format_exception(type(exc), exc, tb))
    except Exception as err:  # noqa: BLE001 - cancelled or lost futures
        text = f"{type(err).__name__}: {err}"
    return ShardOutcome(node.point, node.shard, 0.0, 0.0, 0.0, 0.0, 0, error=text)


def _threads(client) -> int:
    """The cluster's worker threads without a round trip: the client refreshes the scheduler's totals every
    ``distributed.client.scheduler-info-interval`` (2 s) by itself; asked directly only where that is absent."""
    identity = getattr(client, "_scheduler_identity", None) or {}
    total = identity.get("total_threads")
    if total is None:
        total = sum(client.nthreads().values())
    return int(total)


def stream(client, plan: Plan, tally: Tally, window: int | None = None) -> None:
    """Run ``plan`` on ``client`` with at most ``window`` shard tasks in flight.

    Default: per worker thread, WINDOW_PER_THREAD, or as many as take QUEUED_S by the shards' measured mean
    time (short shards would otherwise leave workers idle while the client refills), at most MAX_PER_THREAD.

    Outcomes are fetched by the client's event loop as tasks finish, so the loop that refills the window never
    waits on a round trip of its own."""
    from distributed import as_completed

    if not len(plan):
        return
    tag = plan.tag
    completed = as_completed(with_results=True, raise_errors=False)   # outcomes fetched in the background
    in_flight: dict[str, tuple[object, ShardNode, int]] = {}
    retry: deque[tuple[ShardNode, int]] = deque()
    setups: dict[int, list] = {}           # setup index -> [future, shard tasks still to submit]
    next_node = 0
    timing = [0.0, 0]   # seconds and count of finished shard tasks

    def bound() -> int:
        if window:
            return window
        per_thread = WINDOW_PER_THREAD
        if timing[1]:
            per_thread = min(MAX_PER_THREAD, max(per_thread, math.ceil(QUEUED_S * timing[1] / max(timing[0], 1e-9))))
        return max(per_thread * _threads(client), 1)

    def submit(batch: list[tuple[ShardNode, int]]) -> None:
        args, keys = [], []
        for node, attempt in batch:
            prepared = None
            if node.setup is not None and attempt == 0:  # a retry builds its realization itself
                entry = setups.get(node.setup.index)
                if entry is None:
                    future = client.submit(prepare_realization, *plan.setup_args(node.setup),
                                           key=node.setup.key(tag), pure=False)
                    entry = setups[node.setup.index] = [future, node.setup.shares]
                prepared = entry[0]
                entry[1] -= 1
                if entry[1] == 0:
                    del setups[node.setup.index]  # its shard tasks hold it from here on
            args.append((*plan.shard_args(node), prepared))
            keys.append(node.key(tag) if attempt == 0 else f"{node.key(tag)}-retry{attempt}")
        futures = client.map(run_shard_task, *zip(*args), key=keys, pure=False)
        for future, (node, attempt) in zip(futures, batch):
            in_flight[future.key] = (future, node, attempt)
        completed.update(futures)
        tally.report.max_in_flight = max(tally.report.max_in_flight, len(in_flight))

    def fill() -> None:
        nonlocal next_node
        if tally.stopping:
            return
        want = bound() - len(in_flight)
        batch = []
        while want > 0 and retry:
            batch.append(retry.popleft())
            want -= 1
        while want > 0 and next_node < len(plan):
            batch.append((plan.node(next_node), 0))
            next_node += 1
            want -= 1
        if batch:
            submit(batch)

    try:
        fill()
        while in_flight:
            for future, outcome in completed.next_batch(block=True):
                entry = in_flight.pop(future.key, None)
                if entry is None:
                    continue
                _, node, attempt = entry
                if future.status != "finished" or not isinstance(outcome, ShardOutcome):
                    outcome = _error_outcome(node, future)
                timing[0] += outcome.seconds
                timing[1] += 1
                if tally.finished(node, outcome, attempt):
                    retry.append((node, attempt + 1))
                future.release()
            if tally.stopping:
                break
            fill()
    finally:
        leftover = [f for f, _, _ in in_flight.values()]
        if leftover:  # stopped (a fault, a signal, an error): nothing more runs for this client
            try:
                client.cancel(leftover)
            except Exception:  # noqa: BLE001 - the client may already be closing
                pass
        in_flight.clear()
        setups.clear()


def run_in_process(plan: Plan, tally: Tally) -> None:
    """Execute the plan in this process, in plan order; a shared realization is kept until its last use."""
    built: dict[int, object] = {}
    uses = {j: int(n) for j, n in enumerate(plan.setup_shares)}
    for node in plan.nodes():
        attempt = 0
        while True:
            prepared = None
            if node.setup is not None and attempt == 0:
                if node.setup.index not in built:
                    try:
                        built[node.setup.index] = prepare_realization(*plan.setup_args(node.setup))
                    except Exception:  # noqa: BLE001 - the shard builds it itself, and reports the error
                        built[node.setup.index] = None
                prepared = built[node.setup.index]
            outcome = run_shard_task(*plan.shard_args(node), prepared)
            if not tally.finished(node, outcome, attempt):
                break
            attempt += 1
        if node.setup is not None:
            uses[node.setup.index] -= 1
            if uses[node.setup.index] == 0:
                built.pop(node.setup.index, None)
        if tally.stopping:
            return
