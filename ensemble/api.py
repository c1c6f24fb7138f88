"""The Python API: what the ``ensemble`` command line does, callable from a notebook or script.

    import ensemble
    ensemble.run("tasks/quickstart.toml", "runs/quickstart")      # LocalCluster, or client=your_client
    ds = ensemble.load("runs/quickstart")                         # xarray.Dataset: <name>_mean, <name>_stderr
    spec = ensemble.Spec.from_file("tasks/quickstart.toml").replace(members=400)
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ensemble.engine.execute import ClusterOptions, connected_client, run_spec
from ensemble.engine.model import SpecError
from ensemble.engine.results import PointResult
from ensemble.engine.spec import Spec
from ensemble.engine.window import RunReport
from ensemble.engine.target import (DEFAULT_CAP, MIN_SHARDS, Target, check_targets, count_key, next_count, parse_target,
                                    round_unit, worst_ratio)


def as_spec(spec_or_path, **overrides) -> Spec:
    """A :class:`Spec` from a Spec, a TOML path or a dict, with ensemble keys or parameters overridden."""
    if isinstance(spec_or_path, Spec):
        spec = spec_or_path
    elif isinstance(spec_or_path, dict):
        spec = Spec.from_dict(spec_or_path)
    else:
        spec = Spec.from_file(spec_or_path)
    return spec.replace(**overrides) if overrides else spec


def run(spec_or_path, store, client=None, *, cluster: ClusterOptions | None = None, retries: int = 2,
        progress: bool = True, max_shards: int | None = None, target_error=None, max_count: int | None = None,
        points=None, window: int | None = None, log=print, **overrides) -> RunReport:
    """Run (create, resume or extend) ``spec_or_path`` into the zarr store ``store``.

    ``client``: a connected ``distributed.Client`` to use; otherwise ``cluster`` (default: a LocalCluster with
    one worker per core) is started and closed.  ``overrides``: ensemble keys (members, realizations,
    vectors, shard_size, seed) or model parameters.  ``target_error``: targets such as ``"mean=1e-3"`` or
    ``"T_U=2%"`` (a string or a list); the run then grows in rounds up to ``max_count`` members
    (realizations for two-level runs; default 64 times the first round).  ``points``: compute only these
    point indices (as ``ensemble status`` numbers them); the others stay pending.  ``window``: the most shard
    tasks in flight at once (default: two per worker thread).
    """
    spec = as_spec(spec_or_path, **overrides)
    options = cluster or ClusterOptions()
    if not target_error:
        return run_spec(spec, store, options, retries=retries, progress=progress, max_shards=max_shards,
                        log=log, client=client, points=points, window=window)
    if points is not None:
        raise SpecError("target_error and points cannot be combined: the targets hold at every point")
    targets = [t if isinstance(t, Target) else parse_target(t)
               for t in ([target_error] if isinstance(target_error, (str, Target)) else target_error)]
    return _run_to_target(spec, store, client, options, targets, max_count, retries, progress, log, window)


def _stored_count(store, key: str) -> int:
    from ensemble.engine.store import open_store

    path = Path(store)
    if not (path / "zarr.json").is_file():
        return 0
    return int(getattr(open_store(path).spec, key))


def _run_to_target(spec, store, client, options, targets, cap, retries, progress, log, window) -> RunReport:
    from ensemble.engine.store import check_store

    check_targets(spec, targets)
    key, unit = count_key(spec), round_unit(spec)
    count = max(getattr(spec, key), _stored_count(store, key))
    count = int(math.ceil(max(count, MIN_SHARDS * unit) / unit) * unit)  # enough blocks to judge an error
    cap = cap if cap is not None else DEFAULT_CAP * count
    count = min(count, cap)
    if cap < getattr(spec, key):
        raise SpecError(f"the {key} cap {cap} is below the spec's {getattr(spec, key)}")
    check_store(store, spec.replace(**{key: count}))
    log(f"target {', '.join(map(str, targets))}: rounds of {key} from {count}, at most {cap}")
    with connected_client(spec, options, client) as active:  # one cluster for every round
        return _rounds(spec, store, active, options, targets, key, unit, count, cap, retries, progress, log, window)


def _rounds(spec, store, client, options, targets, key, unit, count, cap, retries, progress, log,
            window) -> RunReport:
    from ensemble.engine.estimators import point_results
    from ensemble.engine.store import open_store

    total = RunReport()
    while True:
        report = run_spec(spec.replace(**{key: count}), store, options, retries=retries, progress=progress,
                          log=log, client=client, window=window)
        total.merge(report)
        if report.failed:
            return total
        ratio, where = worst_ratio(point_results(open_store(store)), targets)
        if ratio <= 1.0:
            log(f"target reached with {key} = {count} (worst error/target {ratio:.3g}, {where})")
            total.target_met = True
            return total
        if count >= cap:
            log(f"stopped at the cap {key} = {count}: error/target still {ratio:.3g} ({where})")
            total.target_met = False
            return total
        count = next_count(count, ratio, unit, cap)
        log(f"error/target {ratio:.3g} ({where}): extending to {key} = {count}")


def results(store) -> list[PointResult]:
    """Estimators with jackknife errors for every point, from the shards done now."""
    from ensemble.engine.estimators import point_results
    from ensemble.engine.store import open_store

    return point_results(open_store(store))


def load(store):
    """The store's estimators as an ``xarray.Dataset``.

    Variables ``<name>_mean`` and ``<name>_stderr`` with dims ``("point", *estimator dims)``; coordinates:
    ``point``, every swept parameter along ``point``, the estimators' own axes, and ``members_done``.
    Attributes: the spec (as JSON) and the model name.
    """
    import json

    import xarray as xr

    from ensemble.engine.store import open_store

    from ensemble.engine.estimators import point_results

    st = open_store(store)
    spec = st.spec
    pts = point_results(st)
    swept = spec.swept()
    coords: dict = {"point": np.arange(len(pts)),
                    "members_done": ("point", np.array([pt.members_done for pt in pts]))}
    for name in swept:
        values = [pt.params[name] for pt in pts]
        coords[name] = ("point", [json.dumps(v) if isinstance(v, list) else v for v in values])
    data = {}
    names = list(dict.fromkeys(n for pt in pts for n in pt.estimates))
    for name in names:
        first = next(pt.estimates[name] for pt in pts if name in pt.estimates)
        shape = np.shape(first.mean)
        mean = np.full((len(pts), *shape), np.nan)
        err = np.full((len(pts), *shape), np.nan)
        for i, pt in enumerate(pts):
            r = pt.estimates.get(name)
            if r is None:
                continue
            if np.shape(r.mean) != shape:
                raise SpecError(f"estimator {name!r} has different shapes across points; use ensemble.results()")
            mean[i], err[i] = np.real(r.mean), np.real(r.stderr)
        dims = ("point", *first.dims)
        attrs = {"unit": first.unit} if first.unit else {}
        data[f"{name}_mean"] = (dims, mean, attrs)
        data[f"{name}_stderr"] = (dims, err, attrs)
        for dim, values in first.coords.items():
            if dim not in coords:
                coords[dim] = (dim, np.asarray(values))
    return xr.Dataset(data, coords=coords, attrs={"model": spec.model_name,
                                                  "spec": json.dumps(spec.to_dict()), "title": spec.title})


def graph(spec_or_path, store, **overrides) -> list:
    """Create (or resume/extend) the store and return one ``dask.delayed`` per pending shard.

    Computing them (``dask.compute(*objs)`` or ``client.compute(objs)``) fills the store exactly as
    :func:`run` would; each returns a small outcome record (point, shard, timings).
    """
    from ensemble.engine.execute import plan_of
    from ensemble.engine.graph import to_delayed
    from ensemble.engine.store import create_or_resume

    spec = as_spec(spec_or_path, **overrides)
    st, _ = create_or_resume(store, spec)
    return to_delayed(plan_of(st))


def plan(spec_or_path, store=None, **overrides):
    """The run's graph plan (nodes, edges, memory) without touching any store when ``store`` is None."""
    from ensemble.engine.graph import build_plan
    from ensemble.engine.store import check_store, pending_pairs, table_for

    spec = as_spec(spec_or_path, **overrides)
    existing = check_store(store, spec)  # also refuses what could not be stored
    table = table_for(spec, existing.shard_range() if existing is not None else None)
    points, shards = pending_pairs(len(spec.points()), len(table), existing.done() if existing is not None else None)
    return build_plan(spec, None, table, points, shards)
