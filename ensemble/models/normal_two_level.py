"""A two-level calibration model: realization r draws an offset a_r ~ N(0, sigma_between²) and each of its
random vectors draws x = a_r + N(0, sigma_within²).

Exact answers: mean 0; between- and within-realization variances sigma_between² and sigma_within²; the
standard error of the mean of R realizations x S vectors is sqrt((sigma_between² + sigma_within²/S)/R).
``setup_s`` and ``vector_s`` sleep in prepare/run_vectors to give the cost model known times.
"""
from __future__ import annotations

import time

import numpy as np

from ensemble.engine.model import Accumulator, Estimate, Model, Param


class NormalTwoLevel(Model):
    name = "normal_two_level"
    description = "Gaussian realizations x vectors with known variance components (engine calibration)"
    setup_cost = "expensive"
    params = (
        Param("sigma_between", float, 1.0, "", "standard deviation of the realization offsets", low=0.0),
        Param("sigma_within", float, 1.0, "", "standard deviation of a vector around its realization", low=0.0),
        Param("setup_s", float, 0.0, "s", "sleep per realization setup", low=0.0, high=60.0),
        Param("vector_s", float, 0.0, "s", "sleep per vector", low=0.0, high=60.0),
    )

    def accumulators(self, params):
        return [Accumulator("sum_x", doc="sum over members of x"),
                Accumulator("sum_x2", doc="sum over members of x²")]

    def prepare(self, params, seed):
        time.sleep(params["setup_s"])
        return float(np.random.default_rng(seed).normal(0.0, params["sigma_between"]))

    def run_vectors(self, params, realization, vector_ids, seeds):
        x = np.array([realization + np.random.default_rng(s).normal(0.0, params["sigma_within"]) for s in seeds])
        time.sleep(params["vector_s"] * len(seeds))
        return {"sum_x": x.sum(), "sum_x2": (x * x).sum()}

    def finalize(self, totals, params):
        n = totals["members"]
        mean = totals["sum_x"] / n
        return {"mean": Estimate(mean), "second_moment": Estimate(totals["sum_x2"] / n)}


MODEL = NormalTwoLevel()
