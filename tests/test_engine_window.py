"""The bounded window: a run keeps at most `window` shard tasks on the scheduler, whatever its size, and gives
the same bits as the in-process path for any window."""
import json

import numpy as np
import pytest
from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import SchedulerPlugin

import ensemble
from ensemble.engine.execute import plan_of
from ensemble.engine.spec import spec_from_dict
from ensemble.engine.store import create_or_resume

LIVE = {"released", "waiting", "queued", "processing", "no-worker"}


class InFlight(SchedulerPlugin):
    """Counts shard tasks the scheduler holds that have not finished (waiting, queued, processing)."""

    name = "in-flight"

    def __init__(self):
        self.live, self.most = set(), 0

    def transition(self, key, start, finish, *args, **kwargs):
        if not str(key).startswith("shard-"):
            return
        if finish in ("waiting", "queued", "processing", "no-worker"):
            self.live.add(key)
        else:
            self.live.discard(key)
        self.most = max(self.most, len(self.live))


SPEC = {"model": "normal_mean", "params": {"sigma": [1.0, 3.0], "draws": 5},
        "ensemble": {"members": 60, "shard_size": 1, "seed": 11}}


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as c:
        yield c


def run_counted(client, store, window):
    plugin = InFlight()
    client.register_plugin(plugin, name=plugin.name)
    report = ensemble.run(SPEC, store, client=client, window=window, progress=False, log=lambda *_: None)
    most = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.plugins["in-flight"].most)
    client.unregister_scheduler_plugin(plugin.name)
    return report, most


@pytest.mark.parametrize("window", [1, 3])
def test_window_bounds_the_tasks_on_the_scheduler_and_keeps_bits(client, tmp_path, cli, window):
    """A window of 1 and one smaller than the 4 worker threads: never more tasks on the scheduler, and the
    store's estimators are bitwise the in-process run's."""
    ensemble.run(SPEC, tmp_path / "sync", cluster=ensemble.ClusterOptions(kind="sync"), progress=False,
                 log=lambda *_: None)
    report, most = run_counted(client, tmp_path / "w", window)
    assert report.computed == 120 and not report.failed
    assert report.max_in_flight == window and 1 <= most <= window, (report.max_in_flight, most)
    assert cli("show", tmp_path / "w", "--json")[1] == cli("show", tmp_path / "sync", "--json")[1]


def test_default_window_follows_the_worker_threads(client, tmp_path):
    """Two tasks per thread to start with; short shards (here ~ms) raise it towards MAX_PER_THREAD."""
    from ensemble.engine.window import MAX_PER_THREAD, WINDOW_PER_THREAD

    report, most = run_counted(client, tmp_path / "d", None)
    threads = sum(client.nthreads().values())
    assert WINDOW_PER_THREAD * threads < report.max_in_flight <= MAX_PER_THREAD * threads
    assert most <= report.max_in_flight


def test_a_plan_of_a_million_shards_holds_arrays_not_nodes(tmp_path):
    """Planning 10^6 shards makes no per-shard objects (a node is made when it is submitted)."""
    spec = spec_from_dict({"model": "normal_mean", "params": {"draws": 1},
                           "ensemble": {"members": 1_000_000, "shard_size": 1, "seed": 1}})
    store, _ = create_or_resume(tmp_path / "big", spec)
    plan = plan_of(store, max_shards=None)
    assert len(plan) == 1_000_000 and isinstance(plan.points, np.ndarray)
    assert sum(a.nbytes for a in (plan.points, plan.shards, plan.setup_of, plan.table)) < 64 * 2**20
    node = plan.node(999_999)
    assert (node.point, node.shard, node.row) == (0, 999_999, (999_999, 1_000_000))
    assert json.loads(json.dumps(plan.summary()))["shard_nodes"] == 1_000_000
