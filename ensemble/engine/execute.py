"""Execution: clusters (local, an existing scheduler, SLURM/PBS through dask-jobqueue) and runs.

A run opens its store once, streams the plan's shard tasks through a bounded window
(:mod:`ensemble.engine.window`) while the store compacts what workers stage, and records provenance and
timings.  Only ids and small outcome records travel through the scheduler.  A failed task is retried; a
shard that keeps failing is reported with its traceback while the rest of the run completes; an
environment fault stops the run at once (:class:`ensemble.engine.faults.EnvironmentFault`).
"""
from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ensemble.engine.faults import EnvironmentFault, fault_of, format_bytes
from ensemble.engine.graph import Plan, build_plan
from ensemble.engine.lease import leased
from ensemble.engine.model import SpecError
from ensemble.engine.spec import Spec
from ensemble.engine.store import RunStore, check_store, create_or_resume, same_counts
from ensemble.engine.store.compaction import background_compaction
from ensemble.engine.window import RunReport, Tally, run_in_process, stream


@dataclass
class ClusterOptions:
    kind: str = "local"                 # local | sync | jobqueue:slurm | jobqueue:pbs
    workers: int | None = None
    threads_per_worker: int = 1
    scheduler: str | None = None        # address of an existing scheduler
    scheduler_file: str | None = None   # or its scheduler file (dask scheduler --scheduler-file)
    jobqueue_config: str | None = None  # YAML with the dask-jobqueue cluster keyword arguments
    jobs: int = 1
    memory_limit: str | None = None     # per worker, e.g. "4GiB"; default: dask's auto split
    lifetime: str | None = None         # jobqueue: workers retire after this (before the job's walltime)
    adapt: tuple[int, int] | None = None  # jobqueue: (min, max) jobs, lost jobs are replaced
    connect_timeout: float = 10.0       # seconds to reach an existing scheduler

    @property
    def in_process(self) -> bool:
        """Shards run in this process, without dask (``--cluster sync`` and no scheduler to join)."""
        return self.kind == "sync" and not (self.scheduler or self.scheduler_file)


def check_memory(spec: Spec, per_task_limit: float) -> None:
    """Refuse a run whose per-task memory estimate exceeds the per-task share of a worker."""
    model = spec.model
    need = max(model.memory_bytes(pt, spec.shard_size) for pt in spec.points())
    if need > per_task_limit:
        raise SpecError(
            f"a shard needs about {need / 2**30:.2f} GiB but each task may use {per_task_limit / 2**30:.2f} GiB "
            "(worker memory limit / threads per worker); lower shard_size or the system size, "
            "or give workers more memory (--memory-limit, fewer --workers)"
        )


def packaged_config(flavour: str) -> str:
    """The default dask-jobqueue configuration shipped with the package (``ensemble deploy FLAVOUR``)."""
    from importlib.resources import files

    resource = files("ensemble.deploy") / f"{flavour}.yaml"
    if not resource.is_file():
        raise SpecError(f"no packaged jobqueue configuration {flavour!r}; available: slurm, pbs")
    return resource.read_text()


def parse_duration(text: str) -> float:
    """Seconds in ``3h50m``, ``55m``, ``90s`` or SLURM's ``[D-]HH:MM:SS`` / ``MM:SS``; ValueError otherwise."""
    import re

    text = text.strip()
    clock = re.fullmatch(r"(?:(\d+)-)?(\d+):(\d+)(?::(\d+))?", text)
    if clock:
        d, a, b, c = (int(g) if g else 0 for g in clock.groups())
        h, m, sec = (a, b, c) if clock.group(4) else (0, a, b)  # SLURM: MM:SS or HH:MM:SS
        return float(((d * 24 + h) * 60 + m) * 60 + sec)
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([dhms])", text)
    if not parts or re.sub(r"[\d.\sdhms]", "", text) or "".join(a + b for a, b in parts) != text.replace(" ", ""):
        raise ValueError(text)
    return sum(float(v) * {"d": 86400, "h": 3600, "m": 60, "s": 1}[u] for v, u in parts)


def _lifetime_args(lifetime: str) -> list[str]:
    """dask-worker arguments that retire a worker after ``lifetime`` (staggered by 5 % so not all at once)."""
    try:
        seconds = parse_duration(lifetime)
    except ValueError:
        raise SpecError(f"--lifetime {lifetime!r}: expected a duration such as 3h50m, 55m or 03:50:00") from None
    if seconds <= 0:
        raise SpecError(f"--lifetime {lifetime!r}: must be positive")
    return ["--lifetime", f"{int(seconds)}s", "--lifetime-stagger", f"{max(int(seconds * 0.05), 1)}s"]


def build_jobqueue_cluster(kind: str, config_path: str | None, lifetime: str | None = None):
    """A dask-jobqueue cluster (no jobs submitted yet) and the memory one of its tasks may use."""
    import yaml
    from dask.utils import parse_bytes

    flavour = kind.split(":", 1)[1] if ":" in kind else ""
    classes = {"slurm": "SLURMCluster", "pbs": "PBSCluster"}
    if flavour not in classes:
        raise SpecError(f"--cluster {kind}: allowed jobqueue:slurm or jobqueue:pbs")
    if config_path:
        path = Path(config_path)
        if not path.is_file():
            raise SpecError(f"--jobqueue-config {path}: file not found")
        text = path.read_text()
    else:
        text = packaged_config(flavour)
    options = yaml.safe_load(text) or {}
    try:
        import dask_jobqueue
    except ImportError:
        raise SpecError("--cluster jobqueue:*: dask-jobqueue is not installed (pip install '.[hpc]')") from None
    cores = max(int(options.get("cores", 1)), 1)
    threads = max(cores // max(int(options.get("processes", 1)), 1), 1)
    prologue = list(options.get("job_script_prologue") or [])
    options["job_script_prologue"] = prologue + [f"export {name}={value}" for name, value in thread_environment(threads).items()
                                                 if not any(name in line for line in prologue)]
    if lifetime:
        options["worker_extra_args"] = [*options.get("worker_extra_args", []), *_lifetime_args(lifetime)]
    cluster = getattr(dask_jobqueue, classes[flavour])(**options)
    per_task = parse_bytes(str(options.get("memory", "4GiB"))) / cores  # one thread per core
    return cluster, per_task


def _local_workers(opts: ClusterOptions) -> int:
    import psutil

    return opts.workers or max(1, (psutil.cpu_count() or 1) // opts.threads_per_worker)


def planned_task_memory(opts: ClusterOptions) -> float | None:
    """Memory one task may use, known before any cluster starts (None: ask the running scheduler)."""
    import psutil
    from dask.utils import parse_bytes

    if opts.scheduler or opts.scheduler_file:
        return None
    if opts.kind == "sync":
        return float(psutil.virtual_memory().available)
    if opts.kind.startswith("jobqueue:"):
        return None
    if opts.kind != "local":
        raise SpecError(f"--cluster {opts.kind}: allowed local, sync, jobqueue:slurm, jobqueue:pbs")
    if opts.memory_limit:
        try:
            per_worker = parse_bytes(opts.memory_limit)
        except ValueError:
            raise SpecError(f"--memory-limit {opts.memory_limit!r}: expected a size such as 4GiB") from None
    else:
        per_worker = psutil.virtual_memory().total / _local_workers(opts)
    return per_worker / opts.threads_per_worker


THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def thread_environment(threads: int) -> dict[str, str]:
    """Worker environment that caps numba and BLAS at the worker's own threads: one worker per core
    would otherwise run one kernel thread per core each, and numba's parallel loops stall on the
    oversubscribed cores."""
    return {name: str(threads) for name in THREAD_VARIABLES}


def make_client(opts: ClusterOptions):
    """Return (client, cluster or None, per-task memory limit in bytes)."""
    from distributed import Client, LocalCluster

    if opts.scheduler or opts.scheduler_file:
        where = opts.scheduler or f"the scheduler file {opts.scheduler_file}"
        try:
            client = (Client(opts.scheduler, timeout=opts.connect_timeout) if opts.scheduler
                      else Client(scheduler_file=opts.scheduler_file, timeout=opts.connect_timeout))
        except (OSError, TimeoutError) as exc:
            raise SpecError(f"cannot reach the dask scheduler at {where} within {opts.connect_timeout:g} s "
                            f"({type(exc).__name__}); check the address or raise --connect-timeout") from None
        return client, None, _scheduler_task_memory(client)
    if opts.kind.startswith("jobqueue:"):
        cluster, per_task = build_jobqueue_cluster(opts.kind, opts.jobqueue_config, opts.lifetime)
        if opts.adapt or opts.lifetime:  # retired workers must be replaced by new jobs
            low, high = opts.adapt or (opts.jobs, opts.jobs)
            cluster.adapt(minimum_jobs=low, maximum_jobs=high)
        else:
            cluster.scale(jobs=opts.jobs)
        return Client(cluster), cluster, per_task
    kwargs = dict(n_workers=_local_workers(opts), threads_per_worker=opts.threads_per_worker, dashboard_address=":0",
                  env=thread_environment(opts.threads_per_worker))
    if opts.memory_limit:
        kwargs["memory_limit"] = opts.memory_limit
    with _workers_ignore_sigint():
        cluster = LocalCluster(silence_logs=logging.ERROR, **kwargs)
    return Client(cluster), cluster, planned_task_memory(opts)


@contextmanager
def _workers_ignore_sigint():
    """Worker processes started here ignore Ctrl-C (the client shuts them down), so an interrupt prints one
    message instead of a traceback per worker.  Child processes inherit an ignored SIGINT."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@leased  # one client per store: a second one refuses (lease.py)
def run_spec(spec: Spec, path: str | Path, opts: ClusterOptions, retries: int = 2, progress: bool = True,
             max_shards: int | None = None, log=print, client=None, points=None,
             window: int | None = None) -> RunReport:
    """Check, create/resume/extend the store at ``path`` and compute its pending shards.

    ``points``: compute only the shards of these point indices (the others stay pending); ``max_shards``
    then counts within them.  ``window``: the most shard tasks in flight (default: two per worker thread).

    With ``client`` (a connected ``distributed.Client``) the caller's cluster is used and ``opts`` is
    ignored.  All refusals (spec mismatch, memory) happen before the store is created or modified.
    Raises :class:`EnvironmentFault` when a full disk, a quota, a read-only or forbidden store stops it.
    """
    points = check_points(spec, points)
    existing = check_store(path, spec)
    report = RunReport()
    t0 = time.perf_counter()
    if existing is not None and same_counts(existing.spec, spec) and not len(existing.pending(points)[0]):
        what = f"all {existing.n_points * existing.n_shards} shards are done" if points is None \
            else "the selected points are done"
        log(f"{path}: nothing to do, {what}")
        return report
    with connected_client(spec, opts, client) as active:
        store, what = _faults_stop(path, lambda: create_or_resume(path, spec, existing))
        log(f"{path}: {what}")
        warning = store.version_warning()
        if warning:
            log(f"warning: {warning}")
        if active is not None:
            report.dashboard = getattr(active, "dashboard_link", None)
            if report.dashboard:
                log(f"dashboard: {report.dashboard}")
        plan = plan_of(store, max_shards, points)
        _execute(store, plan, active, report, retries, progress, window)
    report.seconds = time.perf_counter() - t0
    return report


def plan_of(store: RunStore, max_shards: int | None = None, points: frozenset[int] | None = None) -> Plan:
    """The plan of a store's pending shards (of ``points``; the first ``max_shards`` of them)."""
    p, s = store.pending(points)
    plan = build_plan(store.spec, store.shard_writer(), store.shard_range(), p[:max_shards], s[:max_shards])
    plan.pending_total = len(p)
    return plan


def _execute(store: RunStore, plan: Plan, client, report: RunReport, retries: int, progress: bool,
             window: int | None) -> None:
    """Run the plan with the store compacting in the background; record provenance and timings, also when
    interrupted; turn an environment fault (of a worker's write or of the client's) into one EnvironmentFault."""
    session = _faults_stop(store.path, store.begin_session)
    try:
        with _progress_bar(plan, progress) as bar, background_compaction(store):
            tally = Tally(report, bar, retries)
            if client is None:
                run_in_process(plan, tally)
            else:
                stream(client, plan, tally, window)
            if report.fault:  # raised inside the compaction context: its last pass must not mask this
                raise EnvironmentFault(report.fault)
    except OSError as exc:
        fault = fault_of(exc)
        if fault is None:
            raise
        report.fault = fault
    except EnvironmentFault:
        pass
    finally:
        _record(store, session, report)
    if report.fault:
        raise EnvironmentFault(fault_message(store, plan, report))


def _record(store: RunStore, session: int, report: RunReport) -> None:
    """Provenance and timings; on a full disk these small writes may fail too, which loses no shard."""
    try:
        if report.timing:
            store.add_timings(report.timing)
        store.end_session(session, report.computed)
    except OSError as exc:
        if fault_of(exc) is None:
            raise


def fault_message(store: RunStore, plan: Plan, report: RunReport) -> str:
    """One line: the fault, what is saved, what the rest needs."""
    try:
        done = store.done()
        saved, total = int(done.sum()), int(done.size)
    except Exception:  # noqa: BLE001 - the count is a courtesy; the fault is the message
        saved, total = report.computed, plan.pending_total
    pending = total - saved
    per_shard = plan.writer.bytes_per_shard()
    staging = plan.writer.staged_files() * 4096 * max(report.max_in_flight, 1)
    return (f"stopped: {report.fault} while writing {store.path}: {saved} of {total} shards saved; the {pending} "
            f"pending need about {format_bytes(per_shard * pending)} ({format_bytes(per_shard)} per shard once "
            f"compacted, plus about {format_bytes(staging)} of staging while they run)")


def _faults_stop(path, work):
    """``work()``, with an environment fault of the client's own writes raised as an EnvironmentFault."""
    try:
        return work()
    except OSError as exc:
        fault = fault_of(exc)
        if fault is None:
            raise
        raise EnvironmentFault(f"stopped: {fault} while writing {path}; nothing of this run was stored") from None


def _progress_bar(plan: Plan, enabled: bool):
    """Counts this run's shards against all pending ones, so the ETA is the whole run's (--max-shards too)."""
    from tqdm.auto import tqdm

    total = max(plan.pending_total, len(plan))
    return tqdm(total=total, unit="shard", disable=not enabled, file=sys.stderr, dynamic_ncols=True,
                miniters=1, mininterval=0.5)


@contextmanager
def connected_client(spec: Spec, opts: ClusterOptions, client=None):
    """The client a run uses, memory-checked for ``spec``: the caller's ``client``, None for in-process runs,
    or a cluster started from ``opts`` (refused before it starts where its limit is known) and closed on exit."""
    if client is not None:
        check_memory(spec, _scheduler_task_memory(client))
        yield client
        return
    planned = planned_task_memory(opts)
    if planned is not None:  # refuse before starting a cluster that could not hold a shard
        check_memory(spec, planned)
    if opts.in_process:
        yield None
        return
    own, cluster, per_task = make_client(opts)
    try:
        if planned is None:  # only a running scheduler or jobqueue config knows its limit
            check_memory(spec, per_task)
        yield own
    finally:
        own.close()
        if cluster is not None:
            cluster.close()


def write_failures(path: str | Path, failed: list[tuple[int, int, str]]) -> Path:
    """Write the full tracebacks of failed shards to ``<store>/failed-shards.log`` and return its path."""
    log_file = Path(path) / "failed-shards.log"
    with log_file.open("w") as fh:
        for p, s, text in failed:
            fh.write(f"=== point {p}, shard {s} ===\n{text}\n")
    return log_file


def _scheduler_task_memory(client) -> float:
    info = client.scheduler_info().get("workers", {})
    limits = [w.get("memory_limit", 0) / max(w.get("nthreads", 1), 1) for w in info.values()]
    return min(limits) if limits and min(limits) > 0 else float("inf")


def check_points(spec: Spec, points) -> frozenset[int] | None:
    """The selected point indices as a set, refused (SpecError) where one is not a point of ``spec``."""
    if points is None:
        return None
    n = len(spec.points())
    bad = [p for p in points if not 0 <= int(p) < n]
    if bad:
        raise SpecError(f"point {bad[0]}: the spec has {n} point(s), numbered 0 to {n - 1} as `ensemble status` shows")
    return frozenset(int(p) for p in points)
