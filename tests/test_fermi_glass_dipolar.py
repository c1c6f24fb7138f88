"""fermi_glass_dipolar (seed 003, Eq. 13): kernels against brute-force energy differences, stability
of every returned state, U0 = 0 limits, and the Metropolis chain against exact enumeration."""
import itertools

import numpy as np
import pytest

from ensemble.engine.model import SpecError
from ensemble.engine.spec import spec_from_dict
from ensemble.models.fermi_glass import dipolar_kernels as K
from ensemble.models.fermi_glass.dipolar import MODEL, bare_heat_capacity, simulate


def params(**kw):
    return MODEL.default_point(**kw)


def seed(m, s=5):
    return np.random.SeedSequence(s, spawn_key=(0, m))


def test_coupling_symmetric_bounded_and_uniform():
    g = K.geometry(6, 2.0, 12345)
    n = 6 ** 3
    U = np.array([[K.coupling(i, j, g) for j in range(n)] for i in range(n)])
    np.testing.assert_array_equal(U, U.T)
    assert np.all(np.diag(U) == 0) and np.abs(U).max() <= 2.0
    c = np.array([K.angular_factor(7, i, j) for i in range(300) for j in range(i)])
    assert abs(c.mean()) < 0.01 and c.var() == pytest.approx(1 / 3, rel=0.02)     # uniform on [-1, 1]
    assert np.mean(np.maximum(c, 0)) == pytest.approx(0.25, rel=0.02)              # <c_+> of alpha_dd


def test_site_energies_and_move_cost_are_energy_differences():
    L, nu, U0 = 3, 0.4, 0.8
    rng = np.random.default_rng(0)
    n = L ** 3
    eps = rng.uniform(-0.5, 0.5, n)
    g = K.geometry(L, U0, 99)
    occ = (rng.random(n) < nu).astype(np.int64)
    E = K.site_energies(occ, eps, nu, g)
    for i in range(n):
        up, down = occ.copy(), occ.copy()
        up[i], down[i] = 1, 0
        assert E[i] == pytest.approx(K.total_energy(up, eps, nu, g) - K.total_energy(down, eps, nu, g), abs=1e-12)
    i, j = np.nonzero(occ)[0][0], np.nonzero(occ == 0)[0][0]
    h0 = K.total_energy(occ, eps, nu, g)
    cost = E[j] - E[i] - K.coupling(i, j, g)
    K.apply_move(occ, E, i, j, g)
    assert K.total_energy(occ, eps, nu, g) - h0 == pytest.approx(cost, abs=1e-12)
    np.testing.assert_allclose(E, K.site_energies(occ, eps, nu, g), atol=1e-12)


@pytest.mark.parametrize("order_seed", [-1, 17])
@pytest.mark.parametrize("U0", [0.3, 2.0])
def test_every_returned_state_is_stable_against_single_moves(U0, order_seed):
    L, nu = 4, 0.5
    n = L ** 3
    rng = np.random.default_rng(3)
    eps = rng.uniform(-0.5, 0.5, n)
    g = K.geometry(L, U0, 4242)
    occ = np.zeros(n, np.int64)
    occ[np.argsort(eps)[: n // 2]] = 1
    E = K.site_energies(occ, eps, nu, g)
    assert K.relax(occ, E, g, U0, 1e-12, order_seed) > 0
    h = K.total_energy(occ, eps, nu, g)
    for i in np.nonzero(occ)[0]:            # brute force: no move lowers the total energy
        for j in np.nonzero(occ == 0)[0]:
            trial = occ.copy()
            trial[i], trial[j] = 0, 1
            assert K.total_energy(trial, eps, nu, g) >= h - 1e-12
    p = params(L=8, U0=U0, sweeps=0, T=[0.1], search="first" if order_seed < 0 else "random")
    for m in range(3):
        assert simulate(p, seed(m))["gs_unstable"] == 0


def test_search_order_changes_the_state_reached_and_nothing_else():
    """The random order reaches another stable state of the same realization (same eps_i and couplings:
    identical bare histogram at U0 = 0), and the default search draws no extra random numbers."""
    p_first, p_random = params(L=8, U0=1.0, sweeps=0, T=[0.1]), params(L=8, U0=1.0, sweeps=0, T=[0.1], search="random")
    a, b = simulate(p_first, seed(1)), simulate(p_random, seed(1))
    assert a["gs_unstable"] == b["gs_unstable"] == 0
    assert a["gs_energy"] != b["gs_energy"] and abs(a["gs_energy"] - b["gs_energy"]) < 0.01
    z_first, z_random = params(L=6, U0=0.0, sweeps=0, T=[0.1]), params(L=6, U0=0.0, sweeps=0, T=[0.1], search="random")
    np.testing.assert_array_equal(simulate(z_first, seed(2))["gs_hist"], simulate(z_random, seed(2))["gs_hist"])
    # the default search draws nothing extra: the numbers of the model before the option existed, bit for bit
    r = simulate(params(L=4, U0=0.5, sweeps=20, sweeps_eq=5, T=[0.05, 0.1]), seed(3))
    assert r["relax_moves"] == 39 and r["gs_energy"] == -0.1968293969825599
    assert r["e_mc"].tolist() == [-0.1968293969825599, -0.19028511348751764]


def test_zero_coupling_gives_bare_dos_and_bare_heat_capacity():
    p = params(L=8, U0=0.0, sweeps=0, T=[0.05], bins_lin=10)
    out = simulate(p, seed(0))
    assert out["relax_moves"] == 0
    rng = np.random.default_rng(seed(0))
    eps = rng.uniform(-0.5, 0.5, 512)
    mu = 0.5 * (np.sort(eps)[255] + np.sort(eps)[256])
    np.testing.assert_array_equal(out["gs_hist_lin"], np.histogram(eps - mu, np.linspace(-1, 1, 11))[0])
    tot = MODEL.run_shard(params(L=10, U0=0.0, sweeps=0, bins_lin=8), np.arange(4), [seed(m) for m in range(4)])
    tot["members"] = 4
    nu = MODEL.finalize(tot, params(L=10, U0=0.0, sweeps=0, bins_lin=8))["nu_lin"].value
    np.testing.assert_allclose(nu[2:6], 1.0, rtol=0.08)          # box of width W = 1 (1000 sites per bin)
    # Metropolis at U0 = 0 against the exact fixed-N heat capacity of the same levels
    p = params(L=6, U0=0.0, T=[0.05, 0.15], sweeps_eq=200, sweeps=4000)
    res = [simulate(p, seed(m)) for m in range(2)]
    c_mc = np.mean([r["c_mc"] for r in res], axis=0)
    c_bare = np.mean([r["c_bare"] for r in res], axis=0)
    np.testing.assert_allclose(c_mc, c_bare, rtol=0.08)


def test_metropolis_against_exact_enumeration():
    """N = 8 sites (L = 2), 4 particles, strong coupling: sampled state frequencies against
    Boltzmann weights (detailed balance), <H> and C_v against the exact thermal averages."""
    L, nu, U0, T = 2, 0.5, 0.7, 0.15
    n = 8
    rng = np.random.default_rng(11)
    eps = rng.uniform(-0.5, 0.5, n)
    g = K.geometry(L, U0, 777)
    states = [np.array([1 if k in c else 0 for k in range(n)], np.int64) for c in itertools.combinations(range(n), 4)]
    H = np.array([K.total_energy(s, eps, nu, g) for s in states])
    w = np.exp(-(H - H.min()) / T)
    w /= w.sum()
    e_exact = (w * H).sum()
    c_exact = ((w * H * H).sum() - e_exact ** 2) / T ** 2
    occ = states[0].copy()
    E = K.site_energies(occ, eps, nu, g)
    samples = np.zeros(200000)
    K.metropolis(occ, E, H[0], T, len(samples), g, 3, samples)
    idx = np.argmin(np.abs(samples[:, None] - H[None, :]), axis=1)
    assert np.abs(samples - H[idx]).max() < 1e-9        # every sample is one of the 70 states
    freq = np.bincount(idx, minlength=len(H)) / len(samples)
    big = w > 0.001
    tau = 5.0                                   # generous autocorrelation (sweeps) of state indicators
    z = (freq[big] - w[big]) / np.sqrt(w[big] * (1 - w[big]) * tau / len(samples))
    assert np.abs(z).max() < 5 and np.mean(z ** 2) < 3
    assert samples.mean() == pytest.approx(e_exact, abs=0.01 * abs(e_exact) + 0.002)
    assert samples.var() / T ** 2 == pytest.approx(c_exact, rel=0.06)


def test_bare_heat_capacity_sommerfeld():
    eps = np.linspace(-0.5, 0.5, 20001)
    assert bare_heat_capacity(eps, 10000, 0.005) == pytest.approx(np.pi ** 2 / 3 * 0.005, rel=1e-3)


@pytest.mark.parametrize("bad,msg", [({"W": 0.0}, "params.W"), ({"filling": 1.0}, "params.filling"),
                                     ({"L": 2, "filling": 0.01}, "params.filling"),
                                     ({"fit_lo": 0.1, "fit_hi": 0.05}, "params.fit_lo")])
def test_bad_parameters(bad, msg):
    with pytest.raises(SpecError, match=msg):
        spec_from_dict({"model": "fermi_glass_dipolar", "params": bad, "ensemble": {"members": 1}})


def test_parallel_tempering_against_exact_enumeration():
    """N = 8, strong coupling: <H> and C_v of every temperature slot against exact thermal averages."""
    from ensemble.models.fermi_glass.dipolar import tempering

    L, nu, U0 = 2, 0.5, 0.7
    rng = np.random.default_rng(12)
    eps = rng.uniform(-0.5, 0.5, 8)
    g = K.geometry(L, U0, 4321)
    states = [np.array([1 if k in c else 0 for k in range(8)], np.int64) for c in itertools.combinations(range(8), 4)]
    H = np.array([K.total_energy(s, eps, nu, g) for s in states])
    Ts = np.array([0.05, 0.1, 0.2, 0.4])
    occ = states[0].copy()
    E = K.site_energies(occ, eps, nu, g)
    samples, acc = tempering(occ, E, H[0], Ts, 1000, 200000, 2, g, np.random.default_rng(1))
    for k, T in enumerate(Ts):
        w = np.exp(-(H - H.min()) / T)
        w /= w.sum()
        e_exact = (w * H).sum()
        c_exact = ((w * H * H).sum() - e_exact ** 2) / T ** 2
        assert samples[k].mean() == pytest.approx(e_exact, abs=0.01 * abs(e_exact) + 0.003), T
        assert samples[k].var() / T ** 2 == pytest.approx(c_exact, rel=0.08, abs=0.02), T
    with pytest.raises(SpecError, match="ascending"):
        spec_from_dict({"model": "fermi_glass_dipolar", "params": {"protocol": "tempering", "T": [0.2, 0.1]},
                        "ensemble": {"members": 1}})
