"""Run a model in the current process without dask or a store: for tests and quick looks.

Uses the same seeding, shard table and jackknife as a stored run, so its numbers equal a stored
run's with the same spec.
"""
from __future__ import annotations

import numpy as np

from ensemble.engine.estimators import jackknife_arrays
from ensemble.engine.results import PointResult
from ensemble.engine.seeding import member_seeds, shard_table
from ensemble.engine.spec import spec_from_dict


def run_in_process(model_name: str, params: dict, members: int, shard_size: int, seed: int = 0) -> list[PointResult]:
    spec = spec_from_dict({"model": model_name, "params": params,
                           "ensemble": {"members": members, "shard_size": shard_size, "seed": seed}})
    model = spec.model
    table = shard_table(spec.members, spec.shard_size)
    sizes = (table[:, 1] - table[:, 0]).astype(float)
    out = []
    for p, point in enumerate(spec.points()):
        accs = model.accumulators(point)
        per_shard = {a.name: [] for a in accs}
        for start, stop in table:
            ids = np.arange(start, stop, dtype=np.int64)
            sums = model.run_shard(point, ids, member_seeds(spec.seed, p, ids))
            for a in accs:
                per_shard[a.name].append(np.asarray(sums[a.name], dtype=a.dtype).reshape(a.shape))
        stacked = {k: np.stack(v) for k, v in per_shard.items()}
        _, results = jackknife_arrays(model, point, stacked, sizes)
        out.append(PointResult(point, int(sizes.sum()), results))
    return out


def point_result(params: dict, members: int, estimates: dict) -> PointResult:
    """Wrap one ``finalize`` output as a PointResult without error bars (for plots of direct runs)."""
    from ensemble.engine.results import Result

    results = {}
    for name, est in estimates.items():
        mean = np.asarray(est.value, dtype=float)
        results[name] = Result(mean, np.zeros_like(mean), tuple(est.dims), dict(est.coords), est.unit)
    return PointResult(params, members, results)
