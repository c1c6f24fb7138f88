"""Variance components of a two-level run: how much of an estimator's scatter comes from the disorder
realizations and how much from the random vectors, and how many vectors per realization minimise the
error for a fixed cost.

One-way nested analysis of variance on the shards that hold one realization each.  For a scalar
estimator theta = finalize(sums): theta_rs from each shard s of realization r (n_rs vectors) and theta_r
from all of r's shards (n_r vectors).  Per vector, the within-realization variance is
    sigma_w² = sum_r sum_s n_rs (theta_rs - theta_r)² / sum_r (B_r - 1)       (B_r shards of r),
and the between-realization variance sigma_b² = var_r(theta_r) - mean_r(sigma_w² / n_r).
With measured times t_setup per realization and t_vec per vector, the error of R realizations x S vectors,
(sigma_b² + sigma_w²/S)/R at cost R (t_setup + S t_vec), is smallest at S* = sqrt(sigma_w² t_setup / (sigma_b² t_vec)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.engine.model import Model

MAX_REALIZATIONS = 4096  # realizations read for the analysis (the first ones by id)


@dataclass
class Components:
    between: float           # sigma_b², per realization
    within: float            # sigma_w², per vector
    realizations: int        # realizations used
    vectors_mean: float      # mean vectors per realization used


@dataclass
class VarianceReport:
    point: int
    estimators: dict[str, Components]
    setup_seconds: float | None = None    # per realization
    vector_seconds: float | None = None   # per vector
    reason: str = ""                       # why nothing could be computed

    def defined(self, name: str) -> bool:
        """False when the estimator is not finite on a shard or realization (e.g. a fit that needs many vectors)."""
        c = self.estimators[name]
        return bool(np.isfinite(c.between) and np.isfinite(c.within))

    def optimal_vectors(self, name: str) -> float | None:
        """Vectors per realization that minimise the error at fixed cost (inf: vectors are free of disorder)."""
        c = self.estimators[name]
        if not self.defined(name) or self.setup_seconds is None or not self.vector_seconds or c.within <= 0:
            return None
        if c.between <= 0:
            return float("inf")
        return float(np.sqrt(c.within * self.setup_seconds / (c.between * self.vector_seconds)))

    def _variance_times_cost(self, name: str, vectors: float) -> float:
        """(sigma_b² + sigma_w²/S)(t_setup + S t_vec): the squared error times the cost of S vectors per realization."""
        c = self.estimators[name]
        return (max(c.between, 0.0) + c.within / vectors) * (self.setup_seconds + vectors * self.vector_seconds)

    def best_integer_vectors(self, name: str) -> int | None:
        """The whole number of vectors per realization with the smallest error at fixed cost (None: no times)."""
        s_opt = self.optimal_vectors(name)
        if s_opt is None or not np.isfinite(s_opt):
            return None
        low = max(int(np.floor(s_opt)), 1)
        return min((low, low + 1), key=lambda s: self._variance_times_cost(name, s))

    def flat_cost_ratio(self, name: str) -> float | None:
        """How many times the flat scheme's cost (one vector per realization) the best two-level scheme needs
        less for the same error: (sigma_b² + sigma_w²)(t_setup + t_vec) / min_S of the same at S.  Without
        realization variance the limit S -> inf, 1 + t_setup / t_vec, is returned."""
        s_opt = self.optimal_vectors(name)
        if s_opt is None:
            return None
        if not np.isfinite(s_opt):
            return float(1.0 + self.setup_seconds / self.vector_seconds)
        flat = self._variance_times_cost(name, 1)
        return float(flat / self._variance_times_cost(name, self.best_integer_vectors(name)))


def _finalize_scalars(model: Model, params: dict, sums: dict, members: float, names) -> dict[str, float]:
    est = model.finalize({**sums, "members": np.asarray(float(members))}, params)
    return {n: float(np.asarray(est[n].value)) for n in names}


def components(model: Model, params: dict, rows: np.ndarray, read) -> tuple[dict[str, Components], str]:
    """Variance components from shard ``rows`` (shards, 4) whose sums ``read(indices)`` returns.

    Only shards holding one realization take part.  Returns (components per scalar estimator, reason if none).
    """
    rows = np.asarray(rows)
    single = np.flatnonzero(rows[:, 1] - rows[:, 0] == 1)
    if len(single) == 0:
        return {}, "every shard holds whole realizations; use shard_size < vectors to separate the two variances"
    realizations = np.unique(rows[single, 0])[:MAX_REALIZATIONS]
    single = single[np.isin(rows[single, 0], realizations)]
    if len(realizations) < 2:
        return {}, "fewer than two realizations done"
    sums = read(single)
    n_rs = (rows[single, 3] - rows[single, 2]).astype(float)
    probe = model.finalize({**{k: v[0] for k, v in sums.items()}, "members": np.asarray(n_rs[0])}, params)
    names = [n for n, e in probe.items() if e.jackknife and np.ndim(e.value) == 0]
    if not names:
        return {}, "the model has no scalar estimators"
    theta_rs = [_finalize_scalars(model, params, {k: v[i] for k, v in sums.items()}, n_rs[i], names)
                for i in range(len(single))]
    within_num = dict.fromkeys(names, 0.0)
    within_dof = 0
    theta_r, n_r = [], []
    for r in realizations:
        idx = np.flatnonzero(rows[single, 0] == r)
        n = n_rs[idx].sum()
        tr = _finalize_scalars(model, params, {k: v[idx].sum(axis=0) for k, v in sums.items()}, n, names)
        theta_r.append(tr)
        n_r.append(n)
        within_dof += len(idx) - 1
        for name in names:
            within_num[name] += sum(n_rs[i] * (theta_rs[i][name] - tr[name]) ** 2 for i in idx)
    if within_dof == 0:
        return {}, "no realization has two vector shards done; use shard_size < vectors"
    n_r = np.asarray(n_r)
    out = {}
    for name in names:
        within = within_num[name] / within_dof
        values = np.array([t[name] for t in theta_r])
        between = float(values.var(ddof=1) - np.mean(within / n_r))
        out[name] = Components(between, within, len(realizations), float(n_r.mean()))
    return out, ""


def variance_report(store, p: int) -> VarianceReport:
    """Variance components of point ``p`` of a two-level store whose realizations are random draws (for strata,
    ``Model.strata``, see ``ensemble.engine.strata``), from its done shards."""
    spec = store.spec
    if not spec.two_level:
        return VarianceReport(p, {}, reason="not a two-level run")
    done = np.flatnonzero(store.done_row(p))
    table = store.shard_range()
    accs = spec.model.accumulators(spec.points()[p])

    def read(local):
        return store.read_shards(p, [a.name for a in accs], done[local])  # staged or compacted shards

    comps, reason = components(spec.model, spec.points()[p], table[done], read)
    report = VarianceReport(p, comps, reason=reason)
    timing = (store.attrs.get("timing") or {}).get(str(p))
    if timing and timing[1] > 0 and timing[3] > 0:
        report.setup_seconds = timing[0] / timing[1]
        report.vector_seconds = timing[2] / timing[3]
    return report
