"""Stopping at a target error: extend a run in rounds until every named estimator's jackknife error is
below its target at every point, or the member cap is reached.

Each round is an ordinary extension by whole shards, so the final store equals a plain run with the
final member count bit for bit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ensemble.engine.model import SpecError
from ensemble.engine.results import PointResult
from ensemble.engine.spec import Spec

MAX_GROWTH = 4.0      # at most this factor more members per round
SAFETY = 1.1          # aim this much below the target (errors scale only roughly as 1/sqrt(members))
DEFAULT_CAP = 64      # default cap: this many times the first round's count
MIN_SHARDS = 16       # a jackknife error is trusted only from this many shards (blocks) per point on


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    relative: bool      # value is a fraction of |mean|

    def __str__(self):
        return f"{self.name}={self.value * 100:g}%" if self.relative else f"{self.name}={self.value:g}"


def parse_target(text: str) -> Target:
    """``NAME=1e-3`` (absolute) or ``NAME=5%`` (relative to |mean|)."""
    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    relative = value.endswith("%")
    try:
        number = float(value[:-1] if relative else value)
    except ValueError:
        number = float("nan")
    if not sep or not name or not math.isfinite(number) or number <= 0:
        raise SpecError(f"--target-error {text!r}: expected NAME=VALUE or NAME=PERCENT% with a positive value")
    return Target(name, number / 100 if relative else number, relative)


def estimator_names(spec: Spec) -> list[str]:
    """Estimator names of the model, from ``finalize`` on zero totals (before anything runs)."""
    model = spec.model
    point = spec.points()[0]
    totals = model.zero_sums(point)
    totals["members"] = np.asarray(1.0)
    with np.errstate(all="ignore"):
        return list(model.finalize(totals, point))


def check_targets(spec: Spec, targets: list[Target]) -> None:
    try:
        names = estimator_names(spec)
    except Exception:  # noqa: BLE001 - a model that cannot finalize zeros is checked after round one
        return
    for t in targets:
        if t.name not in names:
            raise SpecError(f"--target-error {t.name}: unknown estimator of {spec.model_name}; "
                            f"estimators: {', '.join(names)}")


def worst_ratio(points: list[PointResult], targets: list[Target]) -> tuple[float, str]:
    """Largest error / target over targets, points and array elements, and where it occurs."""
    worst, where = 0.0, ""
    for p, pt in enumerate(points):
        for t in targets:
            if t.name not in pt.estimates:
                raise SpecError(f"--target-error {t.name}: no such estimator; estimators: {', '.join(pt.estimates)}")
            r = pt.estimates[t.name]
            goal = t.value * np.abs(r.mean) if t.relative else np.full(np.shape(r.mean), t.value)
            with np.errstate(all="ignore"):
                ratio = np.where(np.isfinite(r.stderr), r.stderr / goal, np.inf)
            value = float(np.max(ratio)) if np.size(ratio) else 0.0
            if value > worst or not where:
                worst, where = value, f"{t.name} at point {p}"
    return worst, where


def count_key(spec: Spec) -> str:
    """The ensemble key that rounds grow: realizations (two-level) or members."""
    return "realizations" if spec.two_level else "members"


def round_unit(spec: Spec) -> int:
    """Growth step that keeps every shard full: the count one shard covers."""
    if spec.two_level:
        return max(spec.shard_size // spec.vectors, 1)
    return spec.shard_size


def next_count(count: int, ratio: float, unit: int, cap: int) -> int:
    want = count * min(max(ratio, 1.0) ** 2 * SAFETY, MAX_GROWTH) if math.isfinite(ratio) else count * MAX_GROWTH
    want = max(int(math.ceil(want)), count + unit)
    want = int(math.ceil(want / unit) * unit)
    return min(want, cap)
