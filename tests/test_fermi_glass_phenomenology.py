"""fermi_glass_phenomenology (seed 003, Eqs. 8-18): the scaling relations solved exactly, the Fermi-gas
relations behind Eqs. (16)-(17), the paper's vitreous-silica numbers, and the kappa ~ T^2 limit."""
import numpy as np
import pytest

from ensemble.engine.inprocess import run_in_process
from ensemble.models.fermi_glass import phenomenology as ph


def test_eq8_solves_eqs_6_and_7():
    rho, c_t, lam = 2.2, 4e5, 10.0
    H, xi, m = ph.scaling_estimates(rho, c_t, lam)
    L = lam * ph.EV
    assert ph.HBAR * c_t / xi == pytest.approx(ph.HBAR ** 2 / (2 * m * xi ** 2), rel=1e-12)
    assert ph.HBAR * c_t / xi == pytest.approx(L ** 2 / (rho * c_t ** 2 * xi ** 3), rel=1e-12)


def test_eq16_is_the_spin_half_fermi_gas_with_the_measured_slope():
    rho, cvT, eF = 2.2, 10.0, 10.0
    k_F, m_printed, m_gas, nu = ph.fermi_estimates(rho, cvT, eF)
    # free spin-1/2 gas with k_F and m_gas: nu = m k_F / (pi^2 hbar^2), C/V = (pi^2/3) nu k_B^2 T
    nu_gas = m_gas * k_F / (np.pi ** 2 * ph.HBAR ** 2)
    assert nu_gas == pytest.approx(nu, rel=1e-12)
    assert np.pi ** 2 / 3 * nu_gas * ph.K_B ** 2 == pytest.approx(rho * cvT, rel=1e-12)
    assert ph.HBAR ** 2 * k_F ** 2 / (2 * m_gas) == pytest.approx(eF * ph.K_B, rel=1e-12)
    assert m_gas / m_printed == pytest.approx(3 ** (1 / 3), rel=1e-12)


def test_paper_silica_numbers():
    r = run_in_process("fermi_glass_phenomenology", {"L": 8, "moments": 64, "T": [0.5, 1.0]}, members=1)[0].estimates
    assert r["k_F"].mean == pytest.approx(2.1e6, rel=0.02)                     # paper: 2.1e6 1/cm
    assert r["xi_printed_H"].mean == pytest.approx(44, rel=0.02)                # paper: 44 A from H = 0.9e-10
    assert r["m_gl_eq17_planck_h"].mean == pytest.approx(5e-26, rel=0.02)       # paper: 5e-26 g (h, not hbar)
    assert r["v_F_printed_convention"].mean == pytest.approx(2.3e5, rel=0.03)   # paper: 2.3e5 cm/s


def test_kappa_reduces_to_the_T2_law():
    branches = [(4e5, 2), (5.8e5, 1)]
    q = 1e-4
    coeff = ph.kappa_integral() * sum(m * ph.K_B / (6 * np.pi ** 2 * c * q) for c, m in branches) * (ph.K_B / ph.HBAR) ** 2
    for T in (0.1, 1.0):
        k = ph.thermal_conductivity(T, branches, q, 1e6, lambda e: 1.0, 1e30)
        assert k == pytest.approx(coeff * T ** 2, rel=1e-6)
    # the integral itself: int x^3 e^x (e^x + 1) / (e^x - 1)^3 dx, by a different rule
    x = np.linspace(1e-6, 80, 400001)
    f = x ** 3 * np.exp(x) * (np.exp(x) + 1) / np.expm1(x) ** 3
    assert ph.kappa_integral() == pytest.approx(np.trapezoid(f, x), rel=1e-6)
    # no scatterers above the band: kappa grows faster than T^2 once thermal phonons reach the edge
    lo = ph.thermal_conductivity(1.0, branches, q, 300, lambda e: 1.0 if e < 10 else 0.0, 0.5)
    hi = ph.thermal_conductivity(8.0, branches, q, 300, lambda e: 1.0 if e < 10 else 0.0, 0.5)
    assert hi / lo > 3 * 64
