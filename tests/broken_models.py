"""Models that break one promise of the model protocol each (and one that keeps them all), for
``ensemble check-model``'s tests: named as ``broken_models:ATTR`` in specs."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.engine.model import Accumulator, Estimate, Model, Param

DRAWS = 4


class GaussianMean(Model):
    """Each member draws DRAWS normal numbers; the estimator is their mean (keeps every promise)."""

    name = "gaussian_mean"
    description = "mean of Gaussian draws"
    params = (Param("sigma", float, 1.0, "", "standard deviation", low=0.0, low_open=True, high=10.0),)

    def accumulators(self, params):
        return [Accumulator("sum_x"), Accumulator("sum_x2")]

    def draws(self, seed, sigma):
        return np.random.default_rng(seed).normal(0.0, sigma, DRAWS)

    def run_shard(self, params, member_ids, seeds):
        x = np.concatenate([self.draws(s, params["sigma"]) for s in seeds])
        return {"sum_x": x.sum(), "sum_x2": (x * x).sum()}

    def finalize(self, totals, params):
        n = totals["members"] * DRAWS
        return {"mean": Estimate(totals["sum_x"] / n), "second_moment": Estimate(totals["sum_x2"] / n)}

    def memory_bytes(self, params, shard_size):
        return 48 << 20          # the interpreter with numpy (a fresh process: about 35 MiB)


class GlobalRng(GaussianMean):
    """Draws from numpy's global generator: results depend on what ran before in the process."""

    def draws(self, seed, sigma):
        return np.random.normal(0.0, sigma, DRAWS)


class MeanNotSum(GaussianMean):
    """Returns the mean over its members instead of the sum: shard totals are not additive."""

    def run_shard(self, params, member_ids, seeds):
        sums = super().run_shard(params, member_ids, seeds)
        return {k: v / len(member_ids) for k, v in sums.items()}


class CountOnTheSide(GaussianMean):
    """Counts members on the model object and divides by that count instead of an accumulated one."""

    seen = 0

    def run_shard(self, params, member_ids, seeds):
        self.seen += len(member_ids)
        return super().run_shard(params, member_ids, seeds)

    def finalize(self, totals, params):
        n = self.seen * DRAWS
        return {"mean": Estimate(totals["sum_x"] / n), "second_moment": Estimate(totals["sum_x2"] / n)}


class TinyMemory(GaussianMean):
    """Claims one kilobyte per shard task."""

    def memory_bytes(self, params, shard_size):
        return 1024


@dataclass(frozen=True)
class LaxParam(Param):
    """A parameter whose validation ignores its declared range."""

    def validate_scalar(self, value):
        return self.kind(value)


class LaxRange(GaussianMean):
    params = (LaxParam("sigma", float, 1.0, "", "standard deviation", low=0.0, low_open=True, high=10.0),)


class TwoLevelGlobalRng(GaussianMean):
    """Two-level form whose realization offset comes from the global generator."""

    def prepare(self, params, seed):
        return float(np.random.normal())

    def run_vectors(self, params, realization, vector_ids, seeds):
        sums = super().run_shard(params, vector_ids, seeds)
        return {**sums, "sum_x": sums["sum_x"] + realization * DRAWS * len(seeds)}


GOOD = GaussianMean()
GLOBAL_RNG = GlobalRng()
MEAN_NOT_SUM = MeanNotSum()
COUNT_ON_THE_SIDE = CountOnTheSide()
TINY_MEMORY = TinyMemory()
LAX_RANGE = LaxRange()
TWO_LEVEL_GLOBAL_RNG = TwoLevelGlobalRng()


class Raises(GaussianMean):
    def run_shard(self, params, member_ids, seeds):
        raise ZeroDivisionError("no members to average")


RAISES = Raises()
