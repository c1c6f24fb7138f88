"""The work of one dask task: build a realization, or compute one shard and write it to the store.

These functions run on workers; only ids, parameters, the store's small :class:`ShardWriter` and small
outcome records travel through the scheduler (and, for models with expensive setup, the realization
objects built by setup tasks).
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from ensemble.engine.faults import fault_of
from ensemble.engine.registry import get_model
from ensemble.engine.seeding import member_seeds, realization_seed, vector_seeds


@dataclass(frozen=True)
class ShardOutcome:
    point: int
    shard: int
    seconds: float          # whole task
    setup_seconds: float    # building realizations (a shared setup counts with its share)
    setups: float           # realizations built (a shared setup counts with its share)
    vector_seconds: float   # run_vectors (two-level) or run_shard (flat)
    vectors: int            # members computed
    error: str | None = None   # traceback of a failure (the shard is not stored)
    fault: str | None = None   # an environment fault (full disk, quota, read-only, permission)


@dataclass(frozen=True)
class Prepared:
    """A realization built by a setup task, shared by ``share`` shard tasks."""

    realization: Any
    seconds: float
    share: int


def prepare_realization(model_name: str, params: dict, seed: int, point: int, realization: int,
                        share: int) -> Prepared:
    t0 = time.perf_counter()
    built = get_model(model_name).prepare(params, realization_seed(seed, point, realization))
    return Prepared(built, time.perf_counter() - t0, share)


def _add(totals: dict | None, sums: dict) -> dict:
    if totals is None:
        return {k: np.array(v, copy=True) for k, v in sums.items()}
    for k in totals:
        totals[k] = totals[k] + np.asarray(sums[k])
    return totals


def shard_sums(model, params: dict, seed: int, point: int, row, prepared: Prepared | None = None):
    """Sums of one shard and its timings: (sums, setup_s, setups, vector_s).

    Flat rows are (start, stop); two-level rows (r0, r1, v0, v1) are summed realization by realization in
    increasing r, so a shard's sums never depend on where its realizations were built.
    """
    if len(row) == 2:
        ids = np.arange(row[0], row[1], dtype=np.int64)
        t0 = time.perf_counter()
        sums = model.run_shard(params, ids, member_seeds(seed, point, ids))
        return sums, 0.0, 0.0, time.perf_counter() - t0
    r0, r1, v0, v1 = (int(x) for x in row)
    vids = np.arange(v0, v1, dtype=np.int64)
    totals, setup_s, setups, vector_s = None, 0.0, 0.0, 0.0
    for r in range(r0, r1):
        if prepared is not None:
            realization = prepared.realization
            setup_s += prepared.seconds / prepared.share
            setups += 1.0 / prepared.share
        else:
            t0 = time.perf_counter()
            realization = model.prepare(params, realization_seed(seed, point, r))
            setup_s += time.perf_counter() - t0
            setups += 1.0
        t0 = time.perf_counter()
        sums = model.run_vectors(params, realization, vids, vector_seeds(seed, point, r, vids))
        vector_s += time.perf_counter() - t0
        totals = _add(totals, sums)
    return totals, setup_s, setups, vector_s


def members_of(row) -> int:
    return int(row[1] - row[0]) if len(row) == 2 else int((row[1] - row[0]) * (row[3] - row[2]))


def compute_shard(writer, model_name: str, params: dict, seed: int, point: int, shard: int,
                  row: tuple, prepared: Prepared | None = None) -> ShardOutcome:
    """Compute shard ``shard`` of ``point`` and write it through ``writer`` (its ``done`` flag last).

    Raises what the model or the write raises (for graphs users compute themselves)."""
    t0 = time.perf_counter()
    model = get_model(model_name)
    sums, setup_s, setups, vector_s = shard_sums(model, params, seed, point, row, prepared)
    writer.write(point, shard, sums)
    return ShardOutcome(point, shard, time.perf_counter() - t0, setup_s, setups, vector_s, members_of(row))


def run_shard_task(*args, **kwargs) -> ShardOutcome:
    """:func:`compute_shard` as the engine's runs call it: a failure comes back as an outcome (the client
    retries, summarizes and logs it), so workers print nothing per failed task."""
    try:
        return compute_shard(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - reported by the client
        point, shard = args[4], args[5]
        fault = fault_of(exc)
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return ShardOutcome(point, shard, 0.0, 0.0, 0.0, 0.0, 0, error=text, fault=fault)
