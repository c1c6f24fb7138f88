"""fermi_glass_dos (seed 003, Eq. 2): KPM moments against exact traces, nu(E) against dense
eigvalsh of the same realizations, the clean cubic lattice, Fermi-glass thermodynamics against
independent quadrature, the localization diagnostic, seeding and spec errors."""
import numpy as np
import pytest
from numpy.polynomial import chebyshev as C
from scipy.integrate import quad
from scipy.optimize import brentq

from ensemble.engine.execute import check_memory
from ensemble.engine.model import SpecError
from ensemble.engine.spec import spec_from_dict
from ensemble.models.fermi_glass import kpm, lattice, thermo
from ensemble.models.fermi_glass.dos import MODEL


def params(**kw):
    return MODEL.default_point(**kw)


def realization_seed(r, seed=11):
    return np.random.SeedSequence(seed, spawn_key=(0, r))


def vector_seeds(r, n, seed=11):
    return [np.random.SeedSequence(seed, spawn_key=(0, r, v)) for v in range(n)]


def exact_moments(h, n_moments):
    ev = np.linalg.eigvalsh(lattice.dense_hamiltonian(h))
    return kpm.chebyshev_matrix(ev / h.scale, n_moments).mean(axis=1), ev


@pytest.mark.parametrize("kw", [dict(W=100.0, t=1.0), dict(W=5.0, t=1.0, t_spread=0.5),
                                dict(W=3.0, t=1.0, distribution="gaussian")])
def test_unit_vector_moments_sum_to_exact_trace(kw):
    p = params(L=4, moments=64, **kw)
    h = MODEL.prepare(p, realization_seed(0))
    exact, ev = exact_moments(h, 64)
    assert np.abs(ev).max() < lattice.spectral_bound(p["W"], p["t"], p["t_spread"], p["distribution"]) + 1e-12
    total = sum(kpm.moments(h, np.eye(h.n_sites)[i], 64) for i in range(h.n_sites)) / h.n_sites
    np.testing.assert_allclose(total, exact, atol=1e-12)


def test_stochastic_moments_unbiased_within_error():
    p = params(L=6, moments=32, W=8.0, t=1.0)
    h = MODEL.prepare(p, realization_seed(1))
    exact, _ = exact_moments(h, 32)
    rng = np.random.default_rng(5)
    for kind in ("rademacher", "phase"):
        per = np.array([sum(kpm.moments(h, r, 32) for r in kpm.random_vector(rng, h.n_sites, kind)) / h.n_sites
                        for _ in range(60)])
        z = (per.mean(0) - exact)[1:] / (per.std(0, ddof=1)[1:] / np.sqrt(len(per)))
        assert np.abs(z).max() < 4.5, kind
        assert per[:, 0] == pytest.approx(1.0)     # mu_0 = <r|r>/N = 1 exactly


def test_kpm_nu_matches_dense_eigvalsh_of_same_realizations():
    """L = 8: per realization, the KPM nu(E) of each of 8 random vectors against nu(E) built from the
    exact eigenvalues with the same kernel; and the counting function against eigenvalue counts."""
    p = params(L=8, moments=96, W=12.0, t=1.0, n_energies=61, ldos_sites=0)
    E, _ = MODEL._grid(p)
    g = kpm.kernel(96, "jackson")
    diffs = []
    for r in range(4):
        h = MODEL.prepare(p, realization_seed(r))
        exact, ev = exact_moments(h, 96)
        nu_exact = kpm.density_on(E, exact, g, h.scale)
        for v, s in enumerate(vector_seeds(r, 8)):
            diffs.append(MODEL.run_vectors(p, h, np.array([v]), [s])["nu_vec"] - nu_exact)
        dos = kpm.ChebDOS(exact, g, h.scale)
        for e in (-4.0, -1.0, 0.0, 2.5):      # flat part of the band: kernel smearing is harmless
            assert dos.counting(e)[0] == pytest.approx(np.mean(ev < e), abs=0.004)
    diffs = np.array(diffs)
    se = diffs.std(0, ddof=1) / np.sqrt(len(diffs)) + 1e-12
    inside = np.abs(E) < 6.0
    z = diffs.mean(0)[inside] / se[inside]
    assert np.abs(z).max() < 5
    assert np.mean(z ** 2) < 2.0            # chi^2 per point ~ 1: no bias beyond the stochastic error


def test_clean_cubic_lattice_closed_walks_and_dispersion():
    """W -> 0: LDOS power moments <0|H^k|0> = t^k x (closed walks on the cubic lattice:
    1, 6, 90, 1860, 44730), and stochastic moments against the exact dispersion eigenvalues."""
    L, t = 12, 0.7
    p = params(L=L, W=1e-12, t=t, moments=16)
    h = MODEL.prepare(p, realization_seed(0))
    mu = kpm.moments(h, np.eye(1, h.n_sites, 0).ravel(), 16)
    for k, walks in zip((0, 2, 4, 6, 8), (1, 6, 90, 1860, 44730)):
        power = C.poly2cheb(np.eye(k + 1)[k])              # x^k in Chebyshev components
        assert (power @ mu[:k + 1]) * h.scale ** k == pytest.approx(walks * t ** k, rel=1e-9)
    L = 10
    p = params(L=L, W=1e-12, t=t, moments=24)
    h = MODEL.prepare(p, realization_seed(0))
    k = 2 * np.pi * np.arange(L) / L
    ev = -2 * t * (np.cos(k)[:, None, None] + np.cos(k)[None, :, None] + np.cos(k)[None, None, :]).ravel()
    exact = kpm.chebyshev_matrix(ev / h.scale, 24).mean(axis=1)
    rng = np.random.default_rng(2)
    per = np.array([kpm.moments(h, kpm.random_vector(rng, h.n_sites, "rademacher")[0], 24) / h.n_sites
                    for _ in range(30)])
    z = (per.mean(0) - exact)[1:] / (per.std(0, ddof=1)[1:] / np.sqrt(30) + 1e-15)
    assert np.abs(z).max() < 4.5


class BoxDOS:
    """nu = 1/W on [-W/2, W/2]: an exactly known density for the thermodynamics."""

    def __init__(self, W):
        self.W, self.lo, self.hi = W, -W / 2, W / 2

    def density(self, E):
        return np.where(np.abs(np.asarray(E)) <= self.W / 2, 1 / self.W, 0.0)

    def counting(self, E):
        return np.atleast_1d(np.clip((np.asarray(E, float) + self.W / 2) / self.W, 0, 1))


def box_reference_C(W, filling, T):
    """Fixed-N heat capacity of the box by finite differences of U(T) with scipy quad."""
    def mu_of(T):
        return brentq(lambda m: quad(lambda e: 1 / W / (np.exp((e - m) / T) + 1), -W / 2, W / 2,
                                     epsabs=1e-13, limit=200)[0] - filling, -W - 50 * T, W + 50 * T, xtol=1e-14)

    def U(T):
        m = mu_of(T)
        return quad(lambda e: e / W / (np.exp((e - m) / T) + 1), -W / 2, W / 2, epsabs=1e-13, limit=200)[0]

    d = 1e-4 * T
    return (U(T + d) - U(T - d)) / (2 * d)


@pytest.mark.parametrize("filling,T", [(0.5, 0.02), (0.5, 1.0), (0.3, 0.2), (0.3, 3.0)])
def test_fermion_heat_capacity_against_quadrature(filling, T):
    dos = BoxDOS(1.0)
    C, mu = thermo.fermion_heat_capacity(dos, filling, T)
    assert C == pytest.approx(box_reference_C(1.0, filling, T), rel=2e-5)


def test_sommerfeld_limit_and_fermion_tls_ratio():
    dos = BoxDOS(100.0)
    for T in (0.01, 0.1, 1.0):
        C, mu = thermo.fermion_heat_capacity(dos, 0.5, T)
        assert C == pytest.approx(np.pi ** 2 / 3 * 0.01 * T, rel=1e-9)
        C_tls = thermo.tls_heat_capacity(dos, 0.0, T)
        assert C_tls == pytest.approx(np.pi ** 2 / 6 * 0.01 * T, rel=1e-9)
    T = 40.0     # TLS side against quad where the band edge matters
    ref = quad(lambda e: 0.01 * (e / 2 / T) ** 2 / np.cosh(e / 2 / T) ** 2, 0, 50)[0]
    assert thermo.tls_heat_capacity(dos, 0.0, T) == pytest.approx(ref, rel=1e-9)


def test_model_sommerfeld_on_kpm_dos():
    """Paper regime W = 100 K, t = 1 K: C_v = (pi^2/3) nu(eps_F) T and C_F/C_TLS = 2 at T well below
    the KPM resolution (2.6 K here), where nu is flat on the thermal scale."""
    p = params(L=8, moments=128, W=100.0, t=1.0, ldos_sites=0, T=[0.01, 0.03, 0.1])
    h = MODEL.prepare(p, realization_seed(0))
    tot = MODEL.run_vectors(p, h, np.arange(2), vector_seeds(0, 2))
    tot["members"] = 2
    est = MODEL.finalize(tot, p)
    np.testing.assert_allclose(est["C_fermion"].value, est["C_sommerfeld"].value, rtol=2e-3)
    np.testing.assert_allclose(est["C_ratio"].value, 2.0, rtol=3e-3)
    E = est["nu"].coords["E"]
    flat = np.abs(E) < 30.0                         # box of width W: nu = 1/W inside, 300 levels here
    assert np.mean(est["nu"].value[flat]) == pytest.approx(1 / 100, rel=0.1)


def test_typical_dos_separates_localized_from_extended():
    """typ/avg at eps_F falls with the number of moments where states are localized (W/t = 100,
    the paper's regime) and stays O(1) in the metal (W/t = 2)."""
    ratios = {}
    for W in (100.0, 2.0):
        p = params(L=12, moments=256, W=W, t=1.0, ldos_sites=6, n_energies=101, energy_unit="t")
        h = MODEL.prepare(p, realization_seed(3))
        tot = MODEL.run_vectors(p, h, np.arange(2), vector_seeds(3, 2))
        tot["members"] = 2
        r = MODEL.finalize(tot, p)["typ_over_avg_F"].value        # resolutions 32, 64, 128, 256
        ratios[W] = r[-1] / r[0]
    assert ratios[100.0] < 0.4
    assert ratios[2.0] > 0.7


def test_flat_member_is_vector_zero_of_its_realization_and_sums_are_additive():
    p = params(L=5, moments=32, W=10.0, t=1.0, ldos_sites=1, n_energies=33)
    seed = np.random.SeedSequence(11, spawn_key=(0, 3))
    flat = MODEL.run_shard(p, np.array([3]), [seed])
    h = MODEL.prepare(p, realization_seed(3))
    two = MODEL.run_vectors(p, h, np.array([0, 1]), vector_seeds(3, 2))
    one = MODEL.run_vectors(p, h, np.array([1]), vector_seeds(3, 2)[1:])
    for k in flat:
        np.testing.assert_allclose(flat[k] + one[k], two[k], rtol=1e-12, atol=1e-12)


def test_engine_nu_matches_dense_eigvalsh_of_the_same_realizations():
    """An engine run (4 realizations x 4 vectors, seed 11) against nu(E) from the exact eigenvalues of the
    same four realizations with the same Jackson kernel: only the stochastic trace differs, so the
    difference must sit within the run's own error bars (which also carry the realization spread)."""
    from ensemble.engine.inprocess import run_in_process

    prm = {"L": 6, "moments": 64, "W": 20.0, "t": 1.0, "n_energies": 201, "ldos_sites": 0, "T": [0.5]}
    res = run_in_process("fermi_glass_dos", prm, realizations=4, vectors=4, shard_size=2, seed=11)[0]
    p = params(**prm)
    E, _ = MODEL._grid(p)
    g = kpm.kernel(64, "jackson")
    exact = np.mean([kpm.density_on(E, exact_moments(MODEL.prepare(p, realization_seed(r)), 64)[0], g,
                                    MODEL.prepare(p, realization_seed(r)).scale) for r in range(4)], axis=0)
    nu = res.estimates["nu"]
    np.testing.assert_allclose(nu.coords["E"], E)
    inside = np.abs(E) < 10.0                        # the band: nu = 1/W = 0.05 with smooth edges
    diff = nu.mean[inside] - exact[inside]
    assert np.abs(diff / nu.stderr[inside]).max() < 4
    assert np.abs(diff).max() < 0.15 * exact[inside].max()
    # a 25 % error in the energy scale (band edges moved by 2.5 W/20) is far outside those error bars
    wrong = np.mean([kpm.density_on(E, exact_moments(MODEL.prepare(p, realization_seed(r)), 64)[0], g,
                                    1.25 * MODEL.prepare(p, realization_seed(r)).scale) for r in range(4)], axis=0)
    assert np.abs((nu.mean - wrong)[inside] / nu.stderr[inside]).max() > 4


@pytest.mark.parametrize("bad,msg", [({"W": 0.0}, "params.W"), ({"W": -1.0}, "params.W"),
                                     ({"filling": 1.0}, "params.filling"), ({"filling": 0.0}, "params.filling"),
                                     ({"moments": 33}, "params.moments"),
                                     ({"energy_unit": "t", "t": 0.5}, "params.t")])
def test_bad_parameters_one_line_spec_error(bad, msg):
    with pytest.raises(SpecError, match=msg) as e:
        spec_from_dict({"model": "fermi_glass_dos", "params": bad, "ensemble": {"members": 1}})
    assert "\n" not in str(e.value)


def test_too_large_lattice_refused_by_memory_estimate():
    spec = spec_from_dict({"model": "fermi_glass_dos", "params": {"L": 2000}, "ensemble": {"members": 1}})
    with pytest.raises(SpecError, match="shard needs about"):
        check_memory(spec, 8 * 2**30)
    spec = spec_from_dict({"model": "fermi_glass_dos", "params": {"L": 100}, "ensemble": {"members": 1}})
    check_memory(spec, 2 * 2**30)


def test_two_level_engine_run_equals_direct_sums():
    """realizations x vectors through the engine: the same moments as prepare/run_vectors by hand."""
    from ensemble.engine.inprocess import run_in_process

    p = params(L=5, moments=32, W=10.0, t=1.0, ldos_sites=1, n_energies=33, T=[1.0])
    res = run_in_process("fermi_glass_dos", {"L": 5, "moments": 32, "W": 10.0, "t": 1.0, "ldos_sites": 1,
                                             "n_energies": 33, "T": [1.0]},
                         realizations=3, vectors=2, shard_size=2, seed=11)[0]
    total = np.zeros(32)
    for r in range(3):
        h = MODEL.prepare(p, realization_seed(r))
        total += MODEL.run_vectors(p, h, np.arange(2), vector_seeds(r, 2))["mu"]
    assert res.members_done == 6
    np.testing.assert_allclose(res.estimates["moments"].mean, total / 6, rtol=1e-12, atol=1e-14)


def test_plots_label_every_mark():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ensemble.engine.inprocess import run_in_process

    for name, prm, kw in [("fermi_glass_dos", {"L": 5, "moments": 32, "W": [10.0, 20.0], "n_energies": 33,
                                                "T": [0.5, 2.0]}, dict(realizations=2, vectors=1)),
                          ("fermi_glass_dipolar", {"L": 4, "sweeps": 20, "sweeps_eq": 5, "T": [0.05, 0.1],
                                                    "fit_lo": 1e-3, "fit_hi": 0.3}, dict(members=2)),
                          ("fermi_glass_phenomenology", {"L": 6, "moments": 32, "T": [0.5, 1.0]}, dict(members=1))]:
        from ensemble.engine.registry import get_model

        pts = run_in_process(name, prm, **kw)
        fig = plt.figure()
        get_model(name).plot(pts, fig)
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel()
            labelled = {h.get_label() for h in ax.get_legend().legend_handles} if ax.get_legend() else set()
            for line in ax.get_lines():
                assert line.get_label() in labelled, (name, line.get_label())
        plt.close(fig)


def test_kernel_filling_and_temperatures_are_finalize_time_choices():
    """The same summed moments give nu(E) with either kernel and any number of moments up to those
    computed, and C_v at other fillings/temperatures: no rerun."""
    p = params(L=8, moments=128, W=20.0, t=1.0, ldos_sites=0, n_energies=401, T=[0.1])
    h = MODEL.prepare(p, realization_seed(0))
    tot = MODEL.run_vectors(p, h, np.arange(2), vector_seeds(0, 2))
    tot["members"] = 2
    E, _ = MODEL._grid(p)
    flat = np.abs(E) < 7.0
    nus = []
    ests = []
    for change in ({}, {"kernel": "lorentz"}, {"kernel_moments": 64}, {"filling": 0.3, "T": [0.2, 2.0]}):
        q = dict(p, **change)
        MODEL.check(q)
        ests.append(MODEL.finalize(tot, q))
        nus.append(ests[-1]["nu"].value)
    assert np.abs(nus[1][flat] - nus[0][flat]).mean() < 0.1 / 20       # same DOS, other smoothing
    # kernel_moments = 64: the same nu as a run that computed only 64 moments with 64 in the kernel ...
    short = dict(tot, mu=tot["mu"][:64])
    q64 = dict(p, moments=64)
    np.testing.assert_allclose(nus[2], MODEL.finalize(short, q64)["nu"].value, rtol=1e-12, atol=1e-15)
    # ... with the 64-moment resolution, and against the dense eigenvalues of this realization:
    assert ests[2]["resolution_width"].value == pytest.approx(2 * ests[0]["resolution_width"].value, rel=0.05)
    # with the exact moments of this realization in place of the stochastic ones, kernel_moments = 64 is
    # the 64-moment Jackson DOS of the dense eigenvalues, distinct from the 128-moment one at the edges
    exact, _ = exact_moments(h, 128)
    noiseless = dict(tot, mu=exact * tot["members"])
    ref = {n: kpm.density_on(E, exact[:n], kpm.kernel(n, "jackson"), h.scale) for n in (64, 128)}
    for n in (64, 128):
        got = MODEL.finalize(noiseless, dict(p, kernel_moments=n))["nu"].value
        np.testing.assert_allclose(got, ref[n], rtol=1e-3, atol=1e-6)     # ChebDOS tabulates on a grid
    assert np.abs(ref[64] - ref[128]).max() > 0.05 * ref[128].max()      # 50x the tolerance above
    # filling 0.3: eps_F is where the exact counting function reaches 0.3
    ev = np.linalg.eigvalsh(lattice.dense_hamiltonian(h))
    assert ests[3]["eps_F"].value == pytest.approx(np.quantile(ev, 0.3), abs=0.3)
    assert ests[3]["C_fermion"].value.shape == (2,)
