"""Run a model in the current process without dask or a store: for tests and quick looks.

Uses the same seeding, shard table, summation order and jackknife as a stored run, so its numbers
equal a stored run's with the same spec.
"""
from __future__ import annotations

import numpy as np

from ensemble.engine.estimators import jackknife_arrays
from ensemble.engine.results import PointResult, Result
from ensemble.engine.seeding import shard_members
from ensemble.engine.spec import spec_from_dict
from ensemble.engine.store.run_store import table_for
from ensemble.engine.tasks import shard_sums


def run_in_process(model_name: str, params: dict, members: int | None = None, shard_size: int = 1, seed: int = 0,
                   realizations: int | None = None, vectors: int | None = None) -> list[PointResult]:
    """Flat (``members``) or two-level (``realizations`` x ``vectors``) run of every point, in process."""
    counts = {"realizations": realizations, "vectors": vectors or 1} if realizations else {"members": members or 1}
    spec = spec_from_dict({"model": model_name, "params": params,
                           "ensemble": {**counts, "shard_size": shard_size, "seed": seed}})
    model = spec.model
    table = table_for(spec)
    out = []
    for p, point in enumerate(spec.points()):
        accs = model.accumulators(point)
        per_shard = {a.name: [] for a in accs}
        for row in table:
            sums = shard_sums(model, point, spec.seed, p, tuple(int(x) for x in row))[0]
            for a in accs:
                per_shard[a.name].append(np.asarray(sums[a.name], dtype=a.dtype).reshape(a.shape))
        stacked = {k: np.stack(v) for k, v in per_shard.items()}
        _, results = jackknife_arrays(model, point, stacked, shard_members(table).astype(float), table=table)
        out.append(PointResult(point, int(shard_members(table).sum()), results))
    return out


def point_result(params: dict, members: int, estimates: dict) -> PointResult:
    """Wrap one ``finalize`` output as a PointResult without error bars (for plots of direct runs)."""
    results = {}
    for name, est in estimates.items():
        mean = np.asarray(est.value, dtype=float)
        results[name] = Result(mean, np.zeros_like(mean), tuple(est.dims), dict(est.coords), est.unit)
    return PointResult(params, members, results)
