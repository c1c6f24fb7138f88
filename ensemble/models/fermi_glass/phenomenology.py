"""Model fermi_glass_phenomenology: seed 003's parameter estimates and transport, in CGS.

Eq. (8)   xi = Lambda / (c_t H), m_gl = hbar H / (2 Lambda), H from Eqs. (6)-(7): H = sqrt(hbar rho c_t)
          (the printed H = sqrt(hbar rho) c_t is not a mass rate; Eqs. (6)-(7) solve to this one).
Eq. (16)  k_F = (6 eps_F rho (C/T) / k_B^2)^(1/3)     (spin-1/2 Fermi gas: k_F^3 = 2 pi^2 eps_F nu)
Eq. (17)  m_gl as printed, hbar^2 (3/(2 eps_F) (rho C/T / k_B^2)^2)^(1/3), and the Fermi-gas mass
          hbar^2 k_F^2 / (2 eps_F) that Eq. (16) implies (they differ by 3^(1/3)).
Eq. (18)  E_F / E_xi = (k_F xi)^2 with E_xi = hbar c_t / xi.
nu(eps_F) per volume from C/T = (pi^2/3) nu k_B^2; the lattice DOS of fermi_glass_dos (one KPM
realization here) then fixes the glasson site spacing a_s that reproduces C/T.
Eqs. (14)-(15): Q_t^-1 = pi nu lambda^2 / (rho c_t^2) c_t / v_F and K_Q (k_F a)^3 c_t / v_F.
With nu = k_F^3 / (2 pi^2 eps_F) and rho = M/a^3, K_F-s = nu lambda^2/(rho c_t^2) is
(k_F a)^3 lambda^2 / (2 pi^2 eps_F M c_t^2); the paper's identity has no 1/(2 pi^2), and with its
lambda^2 = eps_F M c_t^2 it reads K_F-s = (k_F a)^3.  Both are reported, each with both v_F.
Eqs. (9)-(12): kappa = sum_branches (1/3) int C(omega) c_s^2 tau(omega) d omega with Debye phonons and
the dominant Eq. (12) rate 1/tau = Q^-1 omega tanh(hbar omega / 2 k_B T) r(hbar omega), where
r(E) = [nu(eps_F + E) + nu(eps_F - E)] / (2 nu(eps_F)) carries the glasson band of the lattice model
(r = 1 at low T: kappa ~ T^2; phonons above the band edge are not scattered, where kappa bends up
to the boundary-limited value set by the mean free path l_b).
"""
from __future__ import annotations

import numpy as np
from scipy.integrate import quad

from ensemble.engine.model import Accumulator, Estimate, Model, Param

from .dos import MODEL as DOS

HBAR = 1.054571817e-27     # erg s
H_PLANCK = 6.62607015e-27  # erg s
K_B = 1.380649e-16         # erg / K
EV = 1.602176634e-12       # erg
ANGSTROM = 1e-8            # cm


def scaling_estimates(rho, c_t, lambda_eV, hbar=HBAR):
    """Eq. (8): (H, xi, m_gl) with H = sqrt(hbar rho c_t)."""
    lam = lambda_eV * EV
    H = np.sqrt(hbar * rho * c_t)
    return H, lam / (c_t * H), hbar * H / (2 * lam)


def fermi_estimates(rho, cv_over_T, eps_F_K):
    """Eqs. (16)-(17): k_F, m_gl as printed, the Fermi-gas mass, nu per erg per cm^3."""
    eps_F = eps_F_K * K_B
    nu_q = rho * cv_over_T / K_B ** 2                       # rho C/T in 1/(erg cm^3)
    k_F = (6 * eps_F * nu_q) ** (1 / 3)
    m_printed = HBAR ** 2 * (1.5 / eps_F * nu_q ** 2) ** (1 / 3)
    m_fermi = HBAR ** 2 * k_F ** 2 / (2 * eps_F)
    return k_F, m_printed, m_fermi, 3 * nu_q / np.pi ** 2


def kappa_integral() -> float:
    """I = int_0^inf x^3 e^x / (e^x - 1)^2 coth(x/2) dx (low-T kappa coefficient)."""
    return quad(lambda x: x ** 3 * np.exp(-x) / (-np.expm1(-x)) ** 2 / np.tanh(x / 2) if x > 0 else 2.0,
                0, 200, limit=200)[0]


def thermal_conductivity(T, branches, q_inv, T_D, ratio, boundary_cm, edges_K=()):
    """kappa(T) in erg/(s cm K) for branches [(c_s, multiplicity)]: Debye phonons with
    1/tau = Q^-1 omega tanh(x/2) r(hbar omega) + c_s / l_b (x = hbar omega / k_B T, r = ratio(E in K)):
    kappa = sum mult k_B / (6 pi^2 c_s) (k_B T / hbar)^3 int_0^{T_D/T} x^4 e^x / (e^x - 1)^2 tau dx."""
    total = 0.0
    xD = T_D / T
    w_T = K_B * T / HBAR
    for c_s, mult in branches:
        def integrand(x):
            rate = q_inv * w_T * x * np.tanh(x / 2) * ratio(x * T) + c_s / boundary_cm
            return x ** 4 * np.exp(-x) / (-np.expm1(-x)) ** 2 / rate
        pts = sorted({p for p in (1.0, 5.0, 20.0, *(e / T for e in edges_K)) if 0 < p < xD})
        I = quad(integrand, 1e-12, min(xD, 200.0), limit=500, points=[p for p in pts if p < 200.0] or None)[0]
        total += mult * K_B / (6 * np.pi ** 2 * c_s) * w_T ** 3 * I
    return total


class FermiGlassPhenomenology(Model):
    name = "fermi_glass_phenomenology"
    description = "glasson parameters (Eqs. 8, 16-18), Q^-1 (Eqs. 14-15), kappa(T) (Eqs. 9-12) in CGS"
    params = (
        Param("rho", float, 2.2, "g/cm^3", "mass density (vitreous silica)", low=0.0, low_open=True),
        Param("c_t", float, 4.0e5, "cm/s", "transverse sound velocity", low=0.0, low_open=True),
        Param("c_l", float, 5.8e5, "cm/s", "longitudinal sound velocity", low=0.0, low_open=True),
        Param("Lambda_eV", float, 10.0, "eV", "chemical bonding energy Lambda", low=0.0, low_open=True),
        Param("cv_over_T", float, 10.0, "erg/(g K^2)", "linear specific-heat slope C_v/T", low=0.0, low_open=True),
        Param("eps_F", float, 10.0, "K", "glasson Fermi energy", low=0.0, low_open=True),
        Param("a", float, 2.5, "Angstrom", "interatomic distance", low=0.0, low_open=True),
        Param("lambda_gl_ph", float, 1.0e3, "K", "glasson-phonon coupling lambda (Eq. 14)", low=0.0, low_open=True),
        Param("K_Q", float, 1.0, "", "order-one constant of Eq. (15)", low=0.0, low_open=True),
        Param("v_F_paper", float, 2.3e5, "cm/s", "the paper's printed v_F (Sec. 4.1), for the Q^-1 variants",
              low=0.0, low_open=True),
        Param("T_D", float, 342.0, "K", "Debye temperature", low=0.0, low_open=True),
        Param("boundary", float, 0.5, "cm", "boundary mean free path (caps kappa where glassons stop scattering)",
              low=0.0, low_open=True),
        Param("states_per_site", int, 2, "", "glasson states per lattice orbital (2: spin 1/2)", low=1, high=2),
        Param("W", float, 100.0, "K", "lattice-model disorder width", low=0.0, low_open=True),
        Param("filling", float, 0.1, "", "lattice-model filling (0.1: eps_F = 10 K above the bottom of W = 100 K)",
              low=0.0, high=1.0, low_open=True, high_open=True),
        Param("t", float, 1.0, "K", "lattice-model hopping", low=0.0),
        Param("L", int, 24, "sites", "lattice side of the DOS realization", low=4, high=200),
        Param("moments", int, 512, "", "Chebyshev moments of the DOS realization", low=16, high=1 << 16),
        Param("T", float, [0.03, 0.1, 0.3, 1.0, 2.0, 4.0, 7.0, 10.0, 15.0, 20.0, 30.0, 50.0], "K",
              "temperatures for kappa(T)", low=0.0, low_open=True, array=True),
    )

    def _dos_params(self, p):
        d = {q.name: q.default for q in DOS.params}
        d.update(L=p["L"], W=p["W"], t=p["t"], moments=p["moments"], ldos_sites=0, n_energies=64, T=[1.0])
        return d

    def accumulators(self, p):
        return [Accumulator("mu", (p["moments"],), ("n",), {"n": np.arange(p["moments"])},
                            doc="KPM moments of the glasson lattice DOS")]

    def run_shard(self, p, member_ids, seeds):
        d = self._dos_params(p)
        out = np.zeros(p["moments"])
        for seed in seeds:
            h = DOS.prepare(d, seed)
            out += DOS.run_vectors(d, h, np.array([0]), [np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key + (0,))])["mu"]
        return {"mu": out}

    def memory_bytes(self, p, shard_size):
        return DOS.memory_bytes(self._dos_params(p), shard_size)

    def finalize(self, tot, p):
        rho, c_t, c_l = p["rho"], p["c_t"], p["c_l"]
        H, xi, m8 = scaling_estimates(rho, c_t, p["Lambda_eV"])
        k_F, m17, m_fermi, nu_exp = fermi_estimates(rho, p["cv_over_T"], p["eps_F"])
        v_F = HBAR * k_F / m_fermi
        eps_F = p["eps_F"] * K_B
        E_xi = HBAR * c_t / xi
        dp = self._dos_params(p)                                  # lattice DOS per site per K
        dos = DOS.dos({"mu": tot["mu"], "members": tot["members"]}, dp)
        e0 = dos.energy_at_count(p["filling"])
        nu_site = float(dos.density(e0)) / K_B                   # per erg per orbital
        spacing = (p["states_per_site"] * nu_site / nu_exp) ** (1 / 3)
        K_Fs = nu_exp * (p["lambda_gl_ph"] * K_B) ** 2 / (rho * c_t ** 2)
        q14 = np.pi * K_Fs * c_t / v_F
        kFa3 = (k_F * p["a"] * ANGSTROM) ** 3
        q15 = p["K_Q"] * kFa3 * c_t / v_F
        v_paper = p["v_F_paper"]
        nu_F_K = float(dos.density(e0))

        def ratio(E_K):
            return 0.5 * float(dos.density(e0 + E_K) + dos.density(e0 - E_K)) / nu_F_K

        Ts = np.asarray(p["T"], float)
        branches = [(c_t, 2), (c_l, 1)]
        edges = (p["W"] / 2 - abs(e0), p["W"] / 2 + abs(e0))     # phonon energies where r(E) drops
        kappa = np.array([thermal_conductivity(T, branches, q14, p["T_D"], ratio, p["boundary"], edges) for T in Ts])
        low_T = kappa_integral() * sum(m * K_B / (6 * np.pi ** 2 * c * q14) for c, m in branches) * (K_B / HBAR) ** 2
        kappa_T2 = low_T * Ts ** 2
        slope = np.gradient(np.log(kappa), np.log(Ts))
        cT = {"T": Ts}
        return {
            "H": Estimate(H, unit="g/s", jackknife=False),
            "H_with_h": Estimate(np.sqrt(H_PLANCK * rho * c_t), unit="g/s", jackknife=False),
            "xi": Estimate(xi / ANGSTROM, unit="Angstrom", jackknife=False),
            "xi_printed_H": Estimate(p["Lambda_eV"] * EV / (c_t * 0.9e-10) / ANGSTROM, unit="Angstrom", jackknife=False),
            "m_gl_eq8": Estimate(m8, unit="g", jackknife=False),
            "k_F": Estimate(k_F, unit="1/cm", jackknife=False),
            "m_gl_eq17": Estimate(m17, unit="g", jackknife=False),
            "m_gl_eq17_planck_h": Estimate(m17 * (H_PLANCK / HBAR) ** 2, unit="g", jackknife=False),
            "m_gl_fermi_gas": Estimate(m_fermi, unit="g", jackknife=False),
            "v_F": Estimate(v_F, unit="cm/s", jackknife=False),
            "v_F_printed_convention": Estimate(np.sqrt(2 * eps_F / (m17 * (H_PLANCK / HBAR) ** 2)), unit="cm/s",
                                               jackknife=False),
            "k_F_xi": Estimate(k_F * xi, jackknife=False),
            "E_xi": Estimate(E_xi / K_B, unit="K", jackknife=False),
            "E_F_over_E_xi": Estimate(eps_F / E_xi, jackknife=False),
            "E_F_over_E_xi_eq18": Estimate((k_F * xi) ** 2, jackknife=False),
            "nu_eps_F": Estimate(nu_exp, unit="1/(erg cm^3)", jackknife=False),
            "nu_site": Estimate(nu_F_K, unit="1/(K orbital)"),
            "lattice_eps_F": Estimate(e0, unit="K"),
            "site_spacing": Estimate(spacing / ANGSTROM, unit="Angstrom"),
            "K_Fs": Estimate(K_Fs, jackknife=False),
            "Q_inv_eq14": Estimate(q14, jackknife=False),
            "Q_inv_eq15": Estimate(q15, jackknife=False),
            "kFa_cubed": Estimate(kFa3, jackknife=False),
            "Q_inv_eq14_paper_v_F": Estimate(q14 * v_F / v_paper, jackknife=False),
            "Q_inv_eq15_paper_v_F": Estimate(q15 * v_F / v_paper, jackknife=False),
            # Eq. (14) with the paper's K_F-s = (k_F a)^3 (no 1/(2 pi^2), lambda^2 = eps_F M c_t^2)
            "Q_inv_printed_chain": Estimate(np.pi * kFa3 * c_t / v_paper, jackknife=False),
            "kappa": Estimate(kappa, ("T",), cT, "erg/(s cm K)"),
            "kappa_T2_law": Estimate(kappa_T2, ("T",), cT, "erg/(s cm K)", jackknife=False),
            "kappa_T2_coefficient": Estimate(low_T, unit="erg/(s cm K^3)", jackknife=False),
            "kappa_log_slope": Estimate(slope, ("T",), cT),
        }

    def plot(self, points, fig):
        from .plot import plot_phenomenology

        plot_phenomenology(points, fig)


MODEL = FermiGlassPhenomenology()
