"""Large-N electrons coupled to TLSs (Bashan, Tulipman, Schmalian, Berg; seed 000).

A member is a batch of ``fields`` bare TLS fields h drawn from P_β(h) ∝ h^β on (0, h_c) (or
log-importance-sampled, see selfenergy.py).  Each field is renormalised by the ohmic spin-boson flow
(rg.py), giving h_R or freezing; accumulators are weighted sums over fields of a log-binned
histogram of h_R, of Imχ(ω) = f_α(ω/h_R)/ω and of the cumulative weight W(ω) on a fixed ω grid.
finalize turns them into P_R(h_R), Imχ̄(ω), −ImΣ(ω, T), ρ(T), σ(Ω) and fitted exponents.

Units: energies in E_F (ρ_F = 1/E_F); α = g²ρ_F²/π²; rates/ImΣ in E_F; see the submodules.
"""
from __future__ import annotations

import numpy as np

from ensemble.engine.model import Accumulator, Estimate, Model, Param, SpecError

from . import rg, scaling, selfenergy as se, transport


def _grid(lo, hi, n):
    return np.logspace(np.log10(lo), np.log10(hi), n)


class LargeNTLS(Model):
    name = "large_n_tls"
    description = "electrons + TLS ensemble: spin-boson RG, renormalised field distribution, Σ(ω,T), ρ(T), σ(Ω)"
    params = (
        Param("alpha", float, 0.5, "", "dimensionless coupling α = g²ρ_F²/π²", low=0.01, high=3.0),
        Param("beta", float, 1.0, "", "exponent of the bare field distribution P(h) ∝ h^β", low=0.0, high=5.0),
        Param("h_c", float, 0.4, "E_F", "bare cutoff h_c/E_F", low=0.0, high=1.0, low_open=True, high_open=True),
        Param("fields", int, 2000, "", "TLS fields per member", low=1, high=10**7),
        Param("sampling", str, "mixture", "", "'mixture': ½ P_β + ½ log-uniform, weighted; 'direct': from P_β", choices=("mixture", "direct")),
        Param("h_min", float, 1e-12, "h_c", "lower end of the log-uniform half, relative to h_c", low=1e-300, high=1.0, low_open=True, high_open=True),
        Param("m_over_n", float, 1.0, "", "TLS flavours per electron flavour M/N", low=0.0, low_open=True),
        Param("gamma0", float, 1.0, "E_F", "potential-scattering rate Γ0 (ρ0 = 2Γ0)", low=0.0),
        Param("omega_min", float, 1e-16, "E_F", "lowest ω (and T) of the grids", low=1e-300, low_open=True),
        Param("omega_max", float, 10.0, "E_F", "highest ω of the grid", low=0.0, low_open=True),
        Param("n_omega", int, 161, "", "log-spaced ω grid points", low=8, high=10**4),
        Param("n_temp", int, 61, "", "log-spaced T grid points (omega_min .. 1)", low=4, high=10**4),
        Param("hr_min", float, 1e-40, "E_F", "lower edge of the h_R histogram", low=1e-300, high=1e-3),
        Param("n_bins", int, 200, "", "log bins of the h_R histogram", low=4, high=10**5),
        Param("fit_lo", float, 1e-12, "h_cR", "fit window lower end, relative to h_cR", low=0.0, low_open=True),
        Param("fit_hi", float, 1e-6, "h_cR", "fit window upper end, relative to h_cR", low=0.0, low_open=True),
        Param("dipole2", float, [0.0, 0.01, 0.1], "", "TLS dipole strengths d² for σ_TLS", low=0.0, array=True),
        Param("scaling_function", str, scaling.DEFAULT_SOURCE, "", "f_α(x): 'nrg' (NRG table, 0.05 ≤ α ≤ 0.9) or 'interpolated' (closed form)", choices=scaling.SOURCES,
              stored_default="interpolated"),  # stores from before the NRG table ran with the closed form
    )

    # ----- grids -----
    def _omega(self, p):
        return _grid(p["omega_min"], p["omega_max"], p["n_omega"])

    def _edges(self, p):
        return np.linspace(np.log10(p["hr_min"]), 0.0, p["n_bins"] + 1)

    def _temps(self, p):
        return _grid(p["omega_min"], 1.0, p["n_temp"])

    def check(self, p):
        if p["omega_min"] >= p["omega_max"]:
            raise SpecError("params.omega_min must be below params.omega_max")
        if p["fit_lo"] >= p["fit_hi"]:
            raise SpecError("params.fit_lo must be below params.fit_hi")
        if p["scaling_function"] == "nrg" and p["alpha"] < 1.0:
            lo, hi = scaling.nrg_alpha_range()
            if not lo <= p["alpha"] <= hi:
                raise SpecError(f"params.alpha = {p['alpha']}: scaling_function = 'nrg' covers {lo} ≤ alpha ≤ {hi} (and alpha ≥ 1); use 'interpolated'")

    def accumulators(self, p):
        om = {"omega": self._omega(p)}
        e = self._edges(p)
        hb = {"log10_hR": 0.5 * (e[1:] + e[:-1])}
        n, nb = p["n_omega"], p["n_bins"]
        return [
            Accumulator("weight", doc="sum of field weights (≈ fields·members)"),
            Accumulator("frozen", doc="weight of frozen fields"),
            Accumulator("below", doc="weight of dynamical fields with h_R below hr_min"),
            Accumulator("hist", (nb,), ("log10_hR",), hb, doc="weighted counts of log10 h_R"),
            Accumulator("chi", (n,), ("omega",), om, doc="Σ w Imχ(ω)"),
            Accumulator("cum", (n,), ("omega",), om, doc="Σ w ∫_0^ω Imχ"),
        ]

    def run_shard(self, p, member_ids, seeds):
        om = self._omega(p)
        edges = self._edges(p)
        out = {"weight": 0.0, "frozen": 0.0, "below": 0.0, "hist": np.zeros(p["n_bins"]),
               "chi": np.zeros(p["n_omega"]), "cum": np.zeros(p["n_omega"])}
        a_f = se.effective_alpha(p["alpha"])
        for s in seeds:  # one member = one batch of fields (bounded memory)
            rng = np.random.default_rng(s)
            h, w = se.sample_fields(rng, p["fields"], p["h_c"], p["beta"], p["h_min"] * p["h_c"], p["sampling"])
            ln_hr, _, frozen = rg.flow(h, p["alpha"])
            lg = ln_hr[~frozen] / np.log(10.0)
            wd = w[~frozen]
            out["weight"] += w.sum()
            out["frozen"] += w[frozen].sum()
            out["below"] += wd[lg < edges[0]].sum()
            out["hist"] += np.histogram(lg, edges, weights=wd)[0]
            chi, cum = se.field_spectra(ln_hr, frozen, w, a_f, om, p["scaling_function"])
            out["chi"] += chi
            out["cum"] += cum
        return out

    def memory_bytes(self, p, shard_size):
        return int(4 * 8 * p["fields"] * p["n_omega"]) + (96 << 20)

    # ----- estimators -----
    def finalize(self, totals, p):
        # self-normalised (ratio) estimator: divide by the summed weights, so the sampled
        # distribution is exactly normalised on (h_min, h_c); mean_weight checks the sampling.
        n = totals["weight"]
        om = self._omega(p)
        edges = self._edges(p)
        hb = 0.5 * (edges[1:] + edges[:-1])
        alpha, beta = p["alpha"], p["beta"]
        C = np.pi**2 * alpha * p["m_over_n"]
        frozen = totals["frozen"] / n
        chi = totals["chi"] / n
        cum = totals["cum"] / n
        ln_hcr, _, fr_c = rg.flow([p["h_c"]], alpha)
        h_cr = 0.0 if fr_c[0] else float(np.exp(ln_hcr[0]))
        # P_R(h_R) as a density in h_R (weights / N / bin width in h_R)
        width = 10.0 ** edges[1:] - 10.0 ** edges[:-1]
        p_r = totals["hist"] / n / width
        rate0 = C * (np.pi * frozen + cum)  # −ImΣ(ω, T=0)
        gamma_th = (1.0 + beta) * (1.0 - alpha) if alpha < 1 else np.nan
        lo, hi = p["fit_lo"] * h_cr, p["fit_hi"] * h_cr
        power = alpha < 1.0 and h_cr > 0
        g_sig = se.fit_power(om, cum, lo, hi) if power else np.nan
        g_chi = se.fit_power(om, chi, lo, hi) + 1.0 if power else np.nan
        g_pr = se.fit_power(10.0**hb, p_r, lo, hi) + 1.0 if power else np.nan
        # finite T
        temps = self._temps(p)
        elastic = np.pi * frozen

        def excess(omega, T):  # −ImΣ beyond the elastic (frozen) part
            return se.scattering_rate(cum, 0.0, om, omega, T, C)

        rho, drho = transport.dc_resistivity(excess, p["gamma0"] + C * elastic, temps)
        rate_t = np.array([se.scattering_rate(cum, elastic, om, 0.0, T, C) for T in temps])
        g_rho = se.fit_power(temps, drho, lo, hi) if power else np.nan
        lnom = np.log(om)

        def rate0_fn(w):
            lw = np.log(np.maximum(w, 1e-300))
            return p["gamma0"] + np.interp(lw, lnom, rate0, left=rate0[0])

        s_el = transport.optical_el(rate0_fn, om)
        d2 = np.asarray(p["dipole2"], dtype=float)
        s_tls = d2[:, None] * (om * chi)[None, :]
        oc = {"omega": om}
        return {
            "P_R": Estimate(p_r, ("log10_hR",), {"log10_hR": hb}, "1/E_F"),
            "mean_weight": Estimate(totals["weight"] / (totals["members"] * p["fields"])),
            "below_hr_min": Estimate(totals["below"] / n),
            "frozen_fraction": Estimate(frozen),
            "Im_chi": Estimate(chi, ("omega",), oc, "1/E_F"),
            "minus_Im_Sigma": Estimate(rate0, ("omega",), oc, "E_F"),
            "minus_Im_Sigma_omega0_T": Estimate(rate_t, ("T",), {"T": temps}, "E_F"),
            "rho": Estimate(rho, ("T",), {"T": temps}, "2Γ units"),
            "rho_minus_rho0": Estimate(drho, ("T",), {"T": temps}, "2Γ units"),
            "sigma_el": Estimate(s_el, ("omega",), oc),
            "sigma_tls": Estimate(s_tls, ("dipole2", "omega"), {"dipole2": d2, "omega": om}),
            "sigma_total": Estimate(s_el[None, :] + s_tls, ("dipole2", "omega"), {"dipole2": d2, "omega": om}),
            "gamma_sigma": Estimate(g_sig),
            "gamma_chi": Estimate(g_chi),
            "gamma_P_R": Estimate(g_pr),
            "gamma_rho": Estimate(g_rho),
            "gamma_theory": Estimate(gamma_th, jackknife=False),
            "alpha_MFL": Estimate(beta / (1.0 + beta), jackknife=False),
            "h_cR": Estimate(h_cr, jackknife=False, unit="E_F"),
            "Sigma_inf": Estimate(np.pi**3 * alpha * p["m_over_n"], jackknife=False, unit="E_F"),
        }

    def plot(self, points, fig):
        from .plotting import plot_points

        plot_points(points, fig)


MODEL = LargeNTLS()
