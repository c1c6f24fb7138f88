"""Stratified estimates of two-level runs whose realizations are strata of one sum, not random draws.

A model declares ``strata(params) = n > 0`` when realization r of a two-level run is the fixed stratum
r mod n of a sum whose n strata carry equal weight (chain_ftlm with periodic boundaries: the N momentum
sectors of the trace, each of dimension 2^N).  The spread between strata is then not an error, but the
engine's jackknife, which deletes whole realizations, counts it as one.  Here, for n_K vectors in stratum K
(n in all), the estimate is ``finalize`` of the stratum sums weighted by n / (n_strata n_K) (all weights 1
when every stratum has the same number of vectors: then it is the engine's own estimate), e.g. for a trace
    <A> = sum_K Tr_K(A e^{-bH}) / sum_K Tr_K(e^{-bH}),   Tr_K X ~ (D_K / n_K) sum_{v in K} <r_v|X|r_v>.
Its error has no between-stratum part: the stratified delete-one-block jackknife removes one shard of one
stratum at a time and reweights that stratum only,
    var = sum_K v_K,   v_K = (B_K - 1)/B_K sum_b (theta_(Kb) - mean_b theta_(Kb))^2.
Neyman allocation: at a fixed total cost, n_K ∝ D_K sigma_K / sqrt(c_K) minimises the variance;
D_K sigma_K ∝ sqrt(v_K n_K) (v_K = W_K^2 sigma_K^2 / n_K, W_K = D_K / D), c_K is the cost of a vector.
``ensemble show`` prints this section for such runs in place of the variance components.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ensemble.engine.model import Model, SpecError


@dataclass
class Stratum:
    """Shard sums of one stratum: ``blocks[name]`` has shape (B, *shape), ``vectors[b]`` vectors in block b."""

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
    """sum_K (n / (n_strata n_K)) S_K with ``members`` = n: strata of equal weight."""
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
            raise SpecError(f"stratum {st.index}: one shard done; the stratified error needs two per stratum "
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
    """(params, strata) of point ``p`` of a two-level store whose model declares strata, from its done shards."""
    spec = store.spec
    params = spec.points()[p]
    n_strata = spec.model.strata(params) if spec.two_level else 0
    if not n_strata:
        raise SpecError(f"point {p}: the realizations are random draws, not strata")
    done = np.flatnonzero(store.done_row(p))
    rows = store.shard_range()[done]
    if (rows[:, 1] - rows[:, 0] != 1).any():
        raise SpecError("a shard holds several strata; use shard_size < vectors")
    names = [a.name for a in spec.model.accumulators(params)]
    sums = store.read_shards(p, names, done)
    stratum = rows[:, 0] % n_strata
    missing = sorted(set(range(n_strata)) - set(stratum.tolist()))
    if missing:
        raise SpecError(f"stratum {missing[0]} has no vectors done; a stratified estimate needs every stratum")
    strata = []
    for k in range(n_strata):
        sel = np.flatnonzero(stratum == k)
        strata.append(Stratum(k, {n: sums[n][sel] for n in names}, (rows[sel, 3] - rows[sel, 2]).astype(float)))
    return params, strata


def stratified_report(store, p: int) -> StratifiedResult | str:
    """The stratified result of point ``p``, or why there is none (one line)."""
    try:
        return stratified_estimate(store.spec.model, *strata_from_store(store, p))
    except SpecError as exc:
        return str(exc)
