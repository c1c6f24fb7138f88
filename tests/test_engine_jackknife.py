"""Jackknife errors against analytic standard errors."""
import numpy as np
import pytest

from ensemble.engine.estimators import jackknife_arrays as jackknife
from ensemble.engine.inprocess import run_in_process
from ensemble.engine.model import Estimate, Model


def test_jackknife_mean_matches_analytic_standard_error():
    sigma, draws, members = 2.0, 50, 400
    [pt] = run_in_process("normal_mean", {"sigma": sigma, "draws": draws}, members, 10, seed=3)
    analytic = sigma / np.sqrt(members * draws)
    mean = pt.estimates["mean"]
    # 40 blocks: the jackknife error itself fluctuates by ~1/sqrt(2*39) = 11%
    assert mean.stderr == pytest.approx(analytic, rel=0.35)
    assert abs(mean.mean) < 4 * analytic
    # variance of a Gaussian estimate: sd = sigma^2 sqrt(2/n)
    var = pt.estimates["variance"]
    assert var.stderr == pytest.approx(sigma**2 * np.sqrt(2 / (members * draws)), rel=0.35)
    assert var.mean == pytest.approx(sigma**2, abs=4 * var.stderr)


class _Ratio(Model):
    """finalize = sum(a)/sum(b): the jackknife must reproduce the delta-method error of a ratio."""

    def finalize(self, totals, params):
        return {"ratio": Estimate(totals["a"] / totals["b"]), "grid": Estimate(np.arange(3.0), ("k",), jackknife=False)}


def test_jackknife_ratio_estimator_matches_delta_method():
    rng = np.random.default_rng(5)
    n = 2000
    b = rng.uniform(1.0, 3.0, n)
    a = 0.7 * b + rng.normal(0, 0.3, n)
    per_shard = {"a": a.reshape(200, 10).sum(1), "b": b.reshape(200, 10).sum(1)}
    sizes = np.full(200, 10.0)
    _, res = jackknife(_Ratio(), {}, per_shard, sizes, max_blocks=200)
    r = a.sum() / b.sum()
    resid = a - r * b
    delta = np.sqrt((resid**2).sum()) / b.sum()  # linearized error of a ratio of sums
    assert res["ratio"].mean == pytest.approx(r, rel=1e-14)
    assert res["ratio"].stderr == pytest.approx(delta, rel=0.1)
    assert np.all(res["grid"].stderr == 0)


def test_blocked_jackknife_agrees_with_full_jackknife():
    rng = np.random.default_rng(8)
    per_shard = {"a": rng.normal(1, 1, 640), "b": np.ones(640)}
    sizes = np.ones(640)
    _, full = jackknife(_Ratio(), {}, per_shard, sizes, max_blocks=640)
    _, blocked = jackknife(_Ratio(), {}, per_shard, sizes, max_blocks=64)
    assert blocked["ratio"].stderr == pytest.approx(full["ratio"].stderr, rel=0.25)
    assert full["ratio"].stderr == pytest.approx(1 / np.sqrt(640), rel=0.1)


def test_single_shard_has_no_error_bar():
    _, res = jackknife(_Ratio(), {}, {"a": np.array([2.0]), "b": np.array([1.0])}, np.array([1.0]))
    assert np.isnan(res["ratio"].stderr)
