"""chain_static: exact Kubo conductivity of the binary-disorder chain and the RTA (seed 001, Eqs. 3-5)."""
import numpy as np
import pytest

from ensemble.engine.model import SpecError
from ensemble.models.tls_chain.rta import eq5, fit_eq5, rta_dc, rta_sigma
from ensemble.models.tls_chain.static_kernels import current_sq, diagonalize, sigma_histogram
from ensemble.models.tls_chain.static import MODEL


def _params(**kw):
    p = {q.name: q.default for q in MODEL.params}
    p.update(kw)
    return p


def _seeds(n, seed=3):
    return [np.random.SeedSequence(seed, spawn_key=(0, m)) for m in range(n)]


def test_histogram_against_dense_brute_force():
    """Dense H and J = i t sum (c+_{i+1} c_i - h.c.), all ordered pairs, explicit Kubo sum."""
    n, t, dw, nb = 9, 1.0, 0.05, 200
    eps = np.random.default_rng(0).choice([-1.0, 1.0], n)
    h = np.diag(eps)
    s = np.eye(n, k=-1)                  # s[i+1, i] = 1: c+_{i+1} c_i
    h -= t * (s + s.T)
    j = 1j * t * (s - s.T)
    e, v = np.linalg.eigh(h)
    jm = v.conj().T @ j @ v
    temps = [0.3, 2.0]
    ref = np.zeros((2, nb))
    for k, temp in enumerate(temps):
        pn = np.exp(-e / temp) / np.exp(-e / temp).sum()
        for a in range(n):
            for b in range(n):
                w = e[b] - e[a]
                if w <= 0:
                    continue
                ref[k, int(w / dw)] += np.pi * (1 - np.exp(-w / temp)) / w * pn[a] * abs(jm[a, b]) ** 2 / dw
    e2, v2 = diagonalize(eps, t)
    got = sigma_histogram(e2, current_sq(v2, t), temps, dw, nb)
    np.testing.assert_allclose(got, ref, atol=1e-10)


def test_f_sum_rule_and_shard_independence():
    p = _params(N=200, T=[0.5, 1.0], p=[0.05, 0.2])
    whole = MODEL.run_shard(p, np.arange(4), _seeds(4))
    parts = [MODEL.run_shard(p, np.arange(a, a + 2), _seeds(4)[a:a + 2]) for a in (0, 2)]
    for k in whole:
        np.testing.assert_allclose(whole[k], parts[0][k] + parts[1][k], rtol=1e-12)
    whole["members"] = 4
    est = MODEL.finalize(whole, p)
    # int_0^inf sigma = (pi/2) <-K>: current and kinetic operators are computed independently
    np.testing.assert_allclose(est["sw_total"].value, est["sum_rule"].value, rtol=1e-10)
    assert np.all(est["rta_sigma_dc"].value > 0)


def test_binary_weights():
    p = _params(N=4000, w=0.2, g=0.7)
    eps = MODEL.realization(p, _seeds(1)[0])
    assert set(np.unique(eps)) == {-0.7, 0.7}
    assert abs(np.mean(eps > 0) - 0.2) < 0.03


def test_rta_dc_reproduces_eq5_on_toy_model():
    """Eq. (4) on sigma_static = (pi/2) A |w| / (1 + w^2/wb^2) gives Eq. (5) exactly for T -> inf."""
    a, wb, dw = 0.7, 0.375, 1e-4
    w = (np.arange(int(400 / dw)) + 0.5) * dw
    toy = np.pi / 2 * a * w / (1 + (w / wb) ** 2)
    for p in (0.01, 0.05, 0.2, 0.6):
        got = rta_dc(toy, dw, 1e6, p)
        assert abs(got / eq5(p, a, wb) - 1) < 2e-3
    # Eq. (3) at w -> 0 is Eq. (4); Eq. (3) with small p returns sigma_static itself
    assert abs(rta_sigma(toy[:50000], dw, 1.0, 0.1, [0.0])[0] / rta_dc(toy[:50000], dw, 1.0, 0.1) - 1) < 1e-10
    sm = rta_sigma(toy[:50000], dw, 1.0, 0.002, [0.3, 0.5])
    np.testing.assert_allclose(sm, np.pi / 2 * a * np.array([0.3, 0.5]) / (1 + (np.array([0.3, 0.5]) / wb) ** 2),
                               rtol=2e-2)


@pytest.mark.parametrize("delta", [0.04, 0.01, 0.0])
def test_model_rta_keeps_the_low_frequency_dip(delta):
    """The model's Eqs. (3)-(5) on an analytic sigma_static with a |w| dip, fed as the raw histogram.

    Eq. (4) must give Eq. (5) (T -> inf) at p = 0.02 < delta, and the fitted omega_bar must not depend
    on the display filter delta.  (Eq. (4) on the delta = 0.04 Gaussian-smoothed toy is 37 % too large
    at p = 0.02 and 11 % at p = 0.05.)
    """
    a, wb = 1.0, 0.375
    p = _params(T=[1e6], p=[0.02, 0.05, 0.2, 0.5], delta=delta)
    w = MODEL._omega(p)
    toy = np.pi / 2 * a * w / (1 + (w / wb) ** 2)
    est = MODEL.finalize({"sigma_hist": toy[None, :], "kinetic": np.zeros(1), "members": 1}, p)
    np.testing.assert_allclose(est["rta_sigma_dc"].value[0], eq5(np.array(p["p"]), a, wb), rtol=5e-3)
    assert abs(est["eq5_omega_bar"].value[0] / wb - 1) < 1e-2


def test_fit_eq5_recovers_parameters():
    p = np.array([0.02, 0.05, 0.1, 0.2, 0.3, 0.5])
    a, wb = fit_eq5(p, eq5(p, 3.0, 0.375))
    assert abs(a - 3.0) < 1e-4 and abs(wb - 0.375) < 1e-4


def test_static_chain_has_displaced_drude_peak():
    """g = t, T = t, w = 1/2: localized carriers, sigma_static peaks at finite w ~ 0.5t (seed Fig. 3a)."""
    p = _params(N=400, T=[1.0], p=[0.05], omega_out=2.0)
    sums = MODEL.run_shard(p, np.arange(6), _seeds(6))
    sums["members"] = 6
    est = MODEL.finalize(sums, p)
    s = est["sigma_static"].value[0]
    om = est["sigma_static"].coords["omega"]
    peak = om[np.argmax(s)]
    assert 0.3 < peak < 0.8
    assert s[0] < 0.3 * s.max()


def test_spec_errors():
    with pytest.raises(SpecError):
        MODEL.param_map()["w"].validate(1.5)
    with pytest.raises(SpecError):
        MODEL.check(_params(omega_out=0.001, d_omega=0.01))
    with pytest.raises(SpecError):
        MODEL.check(_params(g=3.0))
