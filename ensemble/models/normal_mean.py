"""A calibration model: each member draws ``draws`` standard-normal numbers scaled by ``sigma``.

Its estimators have exact answers (mean 0, variance sigma², standard error of the mean
sigma/sqrt(members*draws)), which is how the engine's jackknife is checked.  ``sleep_s`` and
``fail_member`` make shards slow or failing, to exercise interruption, retries and failure reports.
"""
from __future__ import annotations

import time

import numpy as np

from ensemble.engine.model import Accumulator, Estimate, Model, Param

CHUNK = 1 << 16


class NormalMean(Model):
    name = "normal_mean"
    description = "mean and variance of Gaussian draws (engine calibration)"
    params = (
        Param("sigma", float, 1.0, "", "standard deviation of the draws", low=0.0, low_open=True),
        Param("draws", int, 10, "", "draws per member", low=1, high=10**9),
        Param("bins", int, 20, "", "histogram bins on [-4 sigma, 4 sigma]", low=1, high=10**5),
        Param("sleep_s", float, 0.0, "s", "sleep per member (to make shards slow)", low=0.0, high=60.0),
        Param("fail_member", int, -1, "", "member id whose shard raises (-1: none)", low=-1),
    )

    def _edges(self, params):
        return np.linspace(-4 * params["sigma"], 4 * params["sigma"], params["bins"] + 1)

    def accumulators(self, params):
        edges = self._edges(params)
        return [
            Accumulator("sum_x", doc="sum of draws"),
            Accumulator("sum_x2", doc="sum of squared draws"),
            Accumulator("hist", (params["bins"],), ("x",), {"x": 0.5 * (edges[1:] + edges[:-1])}, dtype="int64"),
        ]

    def run_shard(self, params, member_ids, seeds):
        if params["fail_member"] in set(int(m) for m in member_ids):
            raise RuntimeError(f"member {params['fail_member']} fails on purpose (fail_member)")
        edges = self._edges(params)
        sum_x = sum_x2 = 0.0
        hist = np.zeros(params["bins"], dtype=np.int64)
        for seed in seeds:
            rng = np.random.default_rng(seed)
            left = params["draws"]
            while left:  # stream in cache-sized chunks: memory stays O(CHUNK) for any draws
                x = rng.normal(0.0, params["sigma"], min(left, CHUNK))
                left -= len(x)
                sum_x += x.sum()
                sum_x2 += (x * x).sum()
                hist += np.histogram(x, edges)[0]
        time.sleep(params["sleep_s"] * len(seeds))
        return {"sum_x": sum_x, "sum_x2": sum_x2, "hist": hist}

    def finalize(self, totals, params):
        n = totals["members"] * params["draws"]
        mean = totals["sum_x"] / n
        var = totals["sum_x2"] / n - mean**2
        edges = self._edges(params)
        density = totals["hist"] / (n * np.diff(edges))
        return {
            "mean": Estimate(mean),
            "variance": Estimate(var),
            "density": Estimate(density, ("x",), {"x": 0.5 * (edges[1:] + edges[:-1])}),
        }

    def memory_bytes(self, params, shard_size):
        return 16 * min(params["draws"], CHUNK) * 4 + (32 << 20)


MODEL = NormalMean()
