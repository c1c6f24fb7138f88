"""chain_dmft: DMFT of the electron-TLS chain (seed 001, App. A) against exact limits."""
import numpy as np
import pytest

from ensemble.engine.model import Estimate, SpecError
from ensemble.models.tls_chain.common import bubble_kernel, lattice_green
from ensemble.models.tls_chain.dmft_solver import kubo, make_grid, solve_dmft
from ensemble.models.tls_chain.dmft import MODEL

T_ = 1.0


def _params(**kw):
    p = {q.name: q.default for q in MODEL.params}
    p.update(kw)
    return p


@pytest.mark.parametrize("lattice", ["chain", "bethe"])
def test_free_band_at_g0(lattice):
    grid = make_grid(T_, 0.0, 1.0, 0.01, 0.0025)
    sig, gloc, _ = solve_dmft(grid, T_, 0.0, 1.0, 0.5, 0.01, lattice)
    assert np.max(np.abs(sig)) < 1e-12
    z = grid.omega + 0.01j
    if lattice == "chain":
        exact = 1.0 / (np.sqrt(z - 2) * np.sqrt(z + 2))
    else:   # semicircle of half-width 2t
        exact = (z - np.sqrt(z - 2) * np.sqrt(z + 2)) / 2
    np.testing.assert_allclose(gloc, exact, atol=1e-12)
    # the 1D DOS 1/(pi sqrt(4t^2 - w^2)) inside the band, away from the edges
    inside = np.abs(grid.omega) < 1.5
    if lattice == "chain":
        np.testing.assert_allclose(-gloc.imag[inside] / np.pi, 1 / (np.pi * np.sqrt(4 - grid.omega[inside] ** 2)),
                                   rtol=2e-3)


@pytest.mark.parametrize("lattice", ["chain", "bethe"])
def test_hilbert_transform_and_bubble_against_quadrature(lattice):
    """Analytic eps-integrals against brute-force quadrature on broad spectral functions."""
    # eps = 2 cos(theta) tames the 1D edge singularity: N(eps) d eps = d theta / pi (chain),
    # = 2 sin^2(theta) d theta / pi (semicircle of half-width 2)
    th = np.linspace(0, np.pi, 200001)
    e = 2 * np.cos(th)
    meas = np.ones_like(th) if lattice == "chain" else 2 * np.sin(th) ** 2
    quad = lambda f: np.trapezoid(meas * f, th) / np.pi
    z1, z2 = 0.3 + 0.4j, -0.5 + 0.3j
    a1, a2 = (-np.imag(1 / (z - e)) / np.pi for z in (z1, z2))
    assert abs(quad(np.ones_like(e)) - 1) < 1e-8
    assert abs(quad(1 / (z1 - e)) - lattice_green(z1, 1.0, lattice)[0]) < 1e-8
    assert abs(quad((4 - e**2) * a1 * a2) - bubble_kernel(z1, z2, 1.0, lattice)) < 1e-8
    assert abs(quad((4 - e**2) * a1**2) - bubble_kernel(z1, z1, 1.0, lattice)) < 1e-8


def test_t0_coherent_window_has_no_scattering():
    """Fig. 5a: at T = 0 Gamma vanishes in [E0, E0 + w0] (E0: ground state) and not above."""
    g, w0, eta = 1.0, 1.0, 1e-6
    grid = make_grid(T_, g, w0, 0.01, 0.0025)
    sig, gloc, _ = solve_dmft(grid, T_, g, w0, 0.0, eta, "chain")
    dos = -gloc.imag / np.pi
    e0 = grid.omega[np.argmax(dos > 1e-2)]   # onset of the spectrum
    gam = -sig.imag
    win = (grid.omega > e0 + 0.02) & (grid.omega < e0 + w0 - 0.02)
    above = (grid.omega > e0 + w0 + 0.05) & (grid.omega < e0 + w0 + 0.5)
    assert -2.6 < e0 < -2.0
    assert gam[win].max() < 1e-4
    assert gam[above].min() > 0.05


@pytest.mark.parametrize("lattice", ["chain", "bethe"])
def test_omega0_to_zero_is_cpa_of_binary_disorder(lattice):
    """w0 -> 0 (T >> w0): Sigma solves the CPA equation of +-g binary disorder, Eq. (A7)."""
    g, eta = 0.8, 0.02
    for w0, temp, tol in [(0.0, 1.0, 1e-8), (0.0025, 50.0, 2e-2)]:
        grid = make_grid(T_, g, w0, eta, 0.0025)
        sig, _, _ = solve_dmft(grid, T_, g, w0, temp, eta, lattice)
        z = grid.omega + 1j * eta
        gl = lattice_green(z - sig, T_, lattice)[0]
        tmat = [(e - sig) / (1 - (e - sig) * gl) for e in (g, -g)]   # single-site T-matrices
        resid = 0.5 * (tmat[0] + tmat[1])
        assert np.max(np.abs(resid)) < tol
        assert np.max(np.abs(sig)) > 0.1


def test_low_temperature_mobility_eq_a21():
    """Small constant Gamma* at the band edge: mu = c/(2 Gamma*) with c_{-1/2} = 2t.

    The seed prints mu = c/(2 T Gamma*); doing its integrals (int x^{a+1} e^{-x/T} / int x^a e^{-x/T}
    = (a+1) T) gives mu = c/(2 Gamma*), T-independent -- the printed 1/T is a typo (dimensions too).
    The nu grid starts at the edge, as in the derivation (no Lorentzian tail below it).
    """
    gam = 1e-7
    for temp in (0.001, 0.002):
        omega = np.arange(-2.0, -2.0 + 40 * temp, 1e-7)
        mu, _, _ = kubo(omega, np.full(len(omega), -1j * gam), T_, temp, "chain")
        assert abs(mu * 2 * gam - 2.0) < 0.02


def test_spectral_weight_and_f_sum_rule():
    g, w0, temp = 1.0, 1.0, 1.0
    grid = make_grid(T_, g, w0, 0.01, 0.0025)
    sig, gloc, _ = solve_dmft(grid, T_, g, w0, temp, 0.01, "chain")
    norm = np.sum(-gloc.imag / np.pi) * grid.d
    assert abs(norm - 1) < 3e-3   # Lorentzian tails beyond the grid
    sig0, _, _ = solve_dmft(grid, T_, g, w0, temp, 1e-8, "chain")
    steps = np.arange(0, int(6.5 / grid.d))
    mu, sopt, eps = kubo(grid.omega, sig0, T_, temp, "chain", steps)
    sw = np.trapezoid(sopt, steps * grid.d)
    assert abs(sw - np.pi / 2 * (-eps)) < 0.01 * abs(sw)
    assert sopt[0] == mu


def test_model_run_and_resistivity():
    p = _params(g=1.0, omega0=1.0, T=[0.0, 0.3, 0.5, 1.0, 2.0], omega_max=1.0, opt_step=0.05)
    MODEL.check(p)
    seeds = [np.random.SeedSequence(1, spawn_key=(0, m)) for m in range(2)]
    sums = MODEL.run_shard(p, np.arange(2), seeds)
    for a in MODEL.accumulators(p):
        assert np.shape(sums[a.name]) == a.shape
    sums["members"] = 2
    est = MODEL.finalize(sums, p)
    rho = est["resistivity"].value
    assert np.isnan(rho[0])
    assert np.all(np.diff(rho[1:]) > 0)   # activated then linear rise
    assert np.all(est["resistivity_eta_spread"].value[1:] < 1e-3 * rho[1:])
    # exponential suppression below T ~ w0 (thermal defects n_i, Eq. A8)
    assert rho[1] / rho[3] < 0.1


def test_spec_errors():
    with pytest.raises(SpecError):
        MODEL.check(_params(eta=0.004, d_omega=0.0025))
    with pytest.raises(SpecError):
        MODEL.param_map()["lattice"].validate("square")


def test_frequency_window_converged_with_thermally_activated_weight():
    """At omega0 = 4, T = 1.6 the electron absorbs the energy of thermally excited TLS, which puts
    weight down to -2t - g - omega0.  The default window (following omega0 and T) must be converged:
    widening it by 4T more below and 4 t more above changes rho by < 1e-5; the former fixed window
    [-2t - g - 1.5, ...] is off by > 1 %.  At low T the narrower window keeps the eta-tails small."""
    g = 1.0

    def rho(w0, temp, eta=1e-8, **window):
        grid = make_grid(T_, g, w0, 0.01, 0.0025, temp=temp, **window)
        sig, _, _ = solve_dmft(grid, T_, g, w0, temp, eta, "chain", tol=1e-9)
        return 1.0 / kubo(grid.omega, sig, T_, temp, "chain")[0]

    ref = rho(4.0, 1.6, margin=5.5, thermal_margin=7.0)
    assert abs(rho(4.0, 1.6) / ref - 1) < 1e-5
    fixed = rho(4.0, 0.0 + 1.6, thermal_margin=(1.5 - 4.0) / 1.6)   # lower end at -2t - g - 1.5
    assert abs(fixed / ref - 1) > 1e-2
    # T = 0.1 omega0: rho(eta) is still linear in eta (spread of the eta -> 0 extrapolation < 1e-3)
    a, b = rho(0.5, 0.1), rho(0.5, 0.1, eta=1e-7)
    assert abs(a - b) < 1e-3 * a


@pytest.mark.parametrize("slope", [2.0, 3.0])
def test_t_star_rules_on_activated_form(slope):
    """rho = T exp(-w0/T) has log-slope w0/T + 1, so the rule 'log-slope = s' gives T* = w0/(s - 1)."""
    from ensemble.models.tls_chain.dmft import t_star

    w0 = 1.5
    temps = np.geomspace(0.1, 5.0, 200)
    rho = temps * np.exp(-w0 / temps)
    assert abs(t_star(temps, rho, np.zeros_like(rho), slope) / (w0 / (slope - 1)) - 1) < 1e-3


def test_figure_marks_t_star_under_both_rules():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from ensemble.engine.inprocess import point_result
    from ensemble.models.tls_chain.dmft import T_STAR_SLOPES, t_star
    from ensemble.models.tls_chain.plots import plot_dmft

    temps = np.geomspace(0.1, 3.0, 40)
    rho = temps * np.exp(-1.0 / temps)
    stars = np.array([t_star(temps, rho, np.zeros_like(rho), s) for s in T_STAR_SLOPES])
    est = {"resistivity": Estimate(rho, ("T",), {"T": temps}),
           "T_star": Estimate(stars, ("log_slope",), {"log_slope": np.array(T_STAR_SLOPES)})}
    fig = Figure()
    plot_dmft([point_result(_params(omega0=1.0), 1, est)], fig)
    marked = sorted(float(line.get_xdata()[0]) for line in fig.axes[0].lines if len(line.get_xdata()) == 1)
    np.testing.assert_allclose(marked, sorted(stars), rtol=1e-12)
    np.testing.assert_allclose(sorted(stars), [1 / 2, 1.0], rtol=1e-2)
