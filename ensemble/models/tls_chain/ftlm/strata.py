"""Stratified estimates of a PBC two-level chain_ftlm run: the N momentum sectors are strata.

With ``boundary = "pbc"`` realization r of a two-level run is sector r mod N.  Every sector is part of
the trace, so the sectors are strata of one sum, not draws from a population:
    <A> = sum_K Tr_K(A e^{-bH}) / sum_K Tr_K(e^{-bH}),   Tr_K X ~ (D_K / n_K) sum_{v in K} <r_v|X|r_v>
(normalized start vectors; D_K = 2^N in every sector).  The estimate is ``finalize`` of the stratum sums
weighted by n / (N n_K), all weights 1 when every sector has the same number of vectors (then it is the
engine's own estimate).  Its error has no between-sector part.  The stratified delete-one-block jackknife
removes one shard of one stratum at a time and reweights that stratum only:
    var = sum_K v_K,   v_K = (B_K - 1)/B_K sum_b (theta_(Kb) - mean_b theta_(Kb))^2.
The engine's jackknife deletes whole realizations instead, and so counts the spread between sectors as
error.  Neyman allocation: at a fixed total cost, n_K ∝ D_K sigma_K / sqrt(c_K) minimises the variance;
D_K sigma_K ∝ sqrt(v_K n_K) (v_K = W_K^2 sigma_K^2 / n_K, W_K = D_K / D), c_K is the cost of a vector.

    python -m ensemble.models.tls_chain.ftlm.strata STORE [--point P] [--json]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field

import numpy as np

from ensemble.engine.model import Model, SpecError


@dataclass
class Stratum:
    """Shard sums of one sector: ``blocks[name]`` has shape (B, *shape), ``vectors[b]`` vectors in block b."""

    index: int
    blocks: dict[str, np.ndarray]
    vectors: np.ndarray


@dataclass
class StratifiedResult:
    strata: list[int]
    vectors: np.ndarray                                                # per stratum
    estimates: dict[str, tuple[np.ndarray, np.ndarray]]                # name -> (value, stderr)
    contributions: dict[str, np.ndarray] = field(default_factory=dict)  # name -> v_K, shape (strata, *shape)

    def neyman_fractions(self, name: str, costs=None) -> np.ndarray:
        """Share of the vectors of each stratum that minimises the error of ``name`` at fixed total cost."""
        weight = self._weighted_sigma(name) / np.sqrt(self._costs(costs))
        return weight / weight.sum()

    def neyman_variance_ratio(self, name: str, costs=None) -> float:
        """Variance with Neyman allocation over the variance with the present one, at the same total cost."""
        c = self._costs(costs)
        present = self.contributions[name].sum()
        neyman = (self._weighted_sigma(name) * np.sqrt(c)).sum() ** 2 / (self.vectors * c).sum()
        return float(neyman / present)

    def _weighted_sigma(self, name):
        v = np.asarray(self.contributions[name], dtype=float)
        if v.ndim != 1:
            raise SpecError(f"{name}: Neyman allocation needs a scalar estimator")
        return np.sqrt(v * self.vectors)

    def _costs(self, costs):
        return np.ones(len(self.strata)) if costs is None else np.asarray(costs, dtype=float)


def _weighted_totals(n_strata: int, sums: list[dict], counts: np.ndarray) -> dict:
    """sum_K (n / (N n_K)) S_K with ``members`` = n: Tr_K estimates of equal weight D_K = 2^N."""
    mean_count = counts.sum() / n_strata
    totals = {key: sum(s[key] * (mean_count / n) for s, n in zip(sums, counts)) for key in sums[0]}
    totals["members"] = np.asarray(float(counts.sum()))
    return totals


def stratified_estimate(model: Model, params: dict, strata: list[Stratum]) -> StratifiedResult:
    """The stratified estimate of every jackknifed estimator, its stratified jackknife error and v_K."""
    sums = [{key: b.sum(axis=0) for key, b in st.blocks.items()} for st in strata]
    counts = np.array([st.vectors.sum() for st in strata], dtype=float)
    full = model.finalize(_weighted_totals(len(strata), sums, counts), params)
    names = [name for name, est in full.items() if est.jackknife]
    contributions = {name: [] for name in names}
    for k, st in enumerate(strata):
        n_blocks = len(st.vectors)
        if n_blocks < 2:
            raise SpecError(f"sector {st.index}: one shard done; the stratified error needs two per sector "
                            "(use shard_size < vectors)")
        reps = {name: [] for name in names}
        for b in range(n_blocks):
            left = list(sums)
            left[k] = {key: sums[k][key] - st.blocks[key][b] for key in sums[k]}
            left_counts = counts.copy()
            left_counts[k] -= st.vectors[b]
            est = model.finalize(_weighted_totals(len(strata), left, left_counts), params)
            for name in names:
                reps[name].append(np.asarray(est[name].value, dtype=float))
        for name in names:
            r = np.stack(reps[name])
            contributions[name].append((n_blocks - 1) / n_blocks * ((r - r.mean(axis=0)) ** 2).sum(axis=0))
    contributions = {name: np.stack(v) for name, v in contributions.items()}
    estimates = {name: (np.asarray(full[name].value, dtype=float), np.sqrt(contributions[name].sum(axis=0)))
                 for name in names}
    return StratifiedResult([st.index for st in strata], counts, estimates, contributions)


def strata_from_store(store, p: int) -> tuple[dict, list[Stratum]]:
    """(params, strata) of point ``p`` of a PBC two-level chain_ftlm store, from its done shards."""
    spec = store.spec
    if spec.model_name != "chain_ftlm" or not spec.two_level:
        raise SpecError("strata: needs a two-level chain_ftlm run (ensemble.realizations and vectors)")
    params = spec.points()[p]
    if params["boundary"] != "pbc":
        raise SpecError(f"strata: point {p} has boundary = {params['boundary']!r}; sectors are strata only with 'pbc'")
    model = spec.model
    done = np.flatnonzero(store.done_row(p))
    rows = store.shard_range()[done]
    if (rows[:, 1] - rows[:, 0] != 1).any():
        raise SpecError("strata: a shard holds several sectors; use shard_size < vectors")
    names = [a.name for a in model.accumulators(params)]
    sums = store.read_shards(p, names, done)
    sector = rows[:, 0] % params["N"]
    missing = sorted(set(range(params["N"])) - set(sector.tolist()))
    if missing:
        raise SpecError(f"strata: sector {missing[0]} has no vectors done; a stratified estimate needs every sector")
    strata = []
    for k in range(params["N"]):
        sel = np.flatnonzero(sector == k)
        strata.append(Stratum(k, {n: sums[n][sel] for n in names}, (rows[sel, 3] - rows[sel, 2]).astype(float)))
    return params, strata


def result_json(result: StratifiedResult) -> dict:
    out = {"sectors": result.strata, "vectors_per_sector": result.vectors.tolist(), "estimators": {}}
    for name, (value, err) in result.estimates.items():
        entry = {"mean": _finite(value), "stderr": _finite(err)}
        if np.ndim(value) == 0:
            entry["neyman_fractions"] = _finite(result.neyman_fractions(name))
            entry["neyman_variance_ratio"] = _finite(result.neyman_variance_ratio(name))
        out["estimators"][name] = entry
    return out


def _finite(x):
    arr = np.asarray(x, dtype=float)
    clean = np.where(np.isfinite(arr), arr, np.nan).tolist()
    if arr.ndim == 0:
        return None if math.isnan(clean) else clean
    return json.loads(json.dumps(clean).replace("NaN", "null"))


def format_result(p: int, result: StratifiedResult) -> str:
    lines = [f"point {p}: {len(result.strata)} sectors, {result.vectors.min():g}-{result.vectors.max():g} vectors each; "
             "stratified estimate, error from the stratified jackknife (no between-sector part)"]
    for name, (value, err) in result.estimates.items():
        if np.ndim(value) == 0:
            frac = " ".join(f"{f:.2f}" for f in result.neyman_fractions(name))
            lines.append(f"  {name:<22} {value:.6g} ± {err:.2g}; Neyman shares per sector (equal cost) {frac}: "
                         f"variance x{result.neyman_variance_ratio(name):.3g} at the same cost")
        elif np.ndim(value) == 1 and len(value) <= 8:
            lines.append(f"  {name:<22} " + ", ".join(f"{v:.6g} ± {e:.2g}" for v, e in zip(value, err)))
    return "\n".join(lines)


def main(argv=None) -> int:
    from ensemble.engine.store import open_store

    parser = argparse.ArgumentParser(prog="python -m ensemble.models.tls_chain.ftlm.strata",
                                     description="Stratified estimate and Neyman allocation of a PBC two-level chain_ftlm store")
    parser.add_argument("store")
    parser.add_argument("--point", type=int, default=None, help="one point (default: all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        store = open_store(args.store)
        n_points = len(store.spec.points())
        if args.point is not None and not 0 <= args.point < n_points:
            raise SpecError(f"--point {args.point}: the store has points 0..{n_points - 1}")
        points = range(n_points) if args.point is None else [args.point]
        results = {p: stratified_estimate(store.spec.model, *strata_from_store(store, p)) for p in points}
    except (SpecError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"points": [{"point": p, **result_json(r)} for p, r in results.items()]}))
    else:
        print("\n".join(format_result(p, r) for p, r in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
