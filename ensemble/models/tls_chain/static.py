"""Static-TLS limit of the electron-TLS chain (seed 001, Sec. II, omega0 = 0) and the RTA of Sec. IV (Eqs. 3-5).

At omega0 = 0 the TLS are frozen along x and the electron sees binary site energies: eps_i = +g with
probability w, -g otherwise (w = 1/2 for omega0 = 0 at any T>0; set w from Eq. (A8) to mimic thermal
defects).  Each ensemble member is one disorder realization of an open chain of N sites, diagonalized
exactly (tridiagonal solver); the Kubo formula per particle (Boltzmann weights, ``static_kernels``)
gives sigma_static(w, T), binned with step d_omega; the reported ``sigma_static`` is smoothed by a
Gaussian of width ``delta`` for display, while the RTA below acts on the raw histogram.

The RTA (``rta``) then gives, for each relaxation rate p (the seed takes p = omega0):
sigma_RTA(w, T) by Eq. (3), sigma_dc by Eq. (4), rho = 1/sigma_dc, and a fit of sigma_dc(p) to the
analytic Eq. (5) (parameters A(T), omega_bar(T); seed: omega_bar = 0.375 t at T = 1).
Units t = e = a = hbar = k_B = 1.
"""
from __future__ import annotations

import numpy as np

from ensemble.engine.model import Accumulator, Estimate, Model, Param, SpecError
from ensemble.models.tls_chain.common import gaussian_smooth
from ensemble.models.tls_chain.rta import fit_eq5, rta_dc, rta_sigma
from ensemble.models.tls_chain.static_kernels import (current_sq, diagonalize, kinetic_diag, sigma_histogram,
                                           thermal_kinetic)


class ChainStatic(Model):
    name = "chain_static"
    description = "binary-disorder chain (static TLS): exact Kubo sigma_static(w,T) and the RTA"
    params = (
        Param("N", int, 1000, "", "chain length (open boundaries)", low=4, high=6000),
        Param("t", float, 1.0, "t", "hopping", low=0.0, low_open=True),
        Param("g", float, 1.0, "t", "site energies are +-g", low=0.0),
        Param("w", float, 0.5, "", "probability of +g (Eq. A8 n_i; 1/2 at omega0 = 0)", low=0.0, high=1.0),
        Param("T", float, [0.25, 0.5, 1.0, 2.0], "t", "temperatures", low=0.0, low_open=True, array=True),
        Param("p", float, [0.02, 0.05, 0.1, 0.2, 0.3, 0.5], "t",
              "RTA relaxation rates (p = omega0 in the seed)", low=0.0, low_open=True, array=True),
        Param("d_omega", float, 0.005, "t", "frequency bin", low=1e-5, high=0.5),
        Param("delta", float, 0.04, "t", "Gaussian filter (std) of the reported sigma_static (RTA: raw bins)",
              low=0.0),
        Param("omega_span", float, 8.0, "t", "histogram range [0, omega_span]; must hold 4t + 2g",
              low=0.0, low_open=True, high=100.0),
        Param("omega_out", float, 3.0, "t", "sigma_static is reported on [0, omega_out]", low=0.0, low_open=True),
        Param("rta_step", float, 0.02, "t", "frequency step of sigma_RTA(w)", low=1e-4),
        Param("rta_max", float, 2.0, "t", "sigma_RTA(w) is reported on [0, rta_max]", low=0.0),
    )

    def check(self, params):
        if params["omega_span"] < 4 * params["t"] + 2 * params["g"]:
            raise SpecError(f"params.omega_span = {params['omega_span']} must be >= 4t + 2g = "
                            f"{4 * params['t'] + 2 * params['g']} (the spectrum width)")
        if params["omega_out"] < params["d_omega"]:
            raise SpecError("params.omega_out must be at least one frequency bin (d_omega)")

    # --- grids ---
    def _nbins(self, p):
        return int(np.ceil(p["omega_span"] / p["d_omega"])) + 1

    def _omega(self, p):
        return (np.arange(self._nbins(p)) + 0.5) * p["d_omega"]

    def _nout(self, p):
        return min(self._nbins(p), int(np.ceil(p["omega_out"] / p["d_omega"])))

    def _rta_omega(self, p):
        return np.arange(0, p["rta_max"] + 1e-12, p["rta_step"])

    def accumulators(self, params):
        temps = np.asarray(params["T"], float)
        return [
            Accumulator("sigma_hist", (len(temps), self._nbins(params)), ("T", "omega_bin"),
                        {"T": temps, "omega_bin": self._omega(params)}, doc="binned sigma_static per member"),
            Accumulator("kinetic", (len(temps),), ("T",), {"T": temps}, doc="<-K> per member"),
        ]

    def realization(self, params, seed):
        """Site energies of one member."""
        rng = np.random.default_rng(seed)
        return np.where(rng.random(params["N"]) < params["w"], params["g"], -params["g"])

    def run_shard(self, params, member_ids, seeds):
        p = params
        hist = np.zeros((len(p["T"]), self._nbins(p)))
        kin = np.zeros(len(p["T"]))
        for seed in seeds:   # one exact diagonalization per member
            e, v = diagonalize(self.realization(p, seed), p["t"])
            hist += sigma_histogram(e, current_sq(v, p["t"]), p["T"], p["d_omega"], self._nbins(p))
            kin += thermal_kinetic(e, kinetic_diag(v, p["t"]), p["T"])
        return {"sigma_hist": hist, "kinetic": kin}

    def finalize(self, totals, params):
        p = params
        n = totals["members"]
        temps = np.asarray(p["T"], float)
        pv = np.asarray(p["p"], float)
        dw = p["d_omega"]
        raw = totals["sigma_hist"] / n
        smooth = gaussian_smooth(raw, dw, p["delta"], axis=-1)   # for display only
        wr = self._rta_omega(p)
        # Eqs. (3)-(4) act on the raw histogram: their Lorentzian of half-width p already smooths it, and a
        # Gaussian with delta >~ p would fill the |w| dip of sigma_static at w -> 0 and inflate sigma_dc
        dc = np.array([[rta_dc(s, dw, tt, pp) for pp in pv] for s, tt in zip(raw, temps)])
        opt = np.array([[rta_sigma(s, dw, tt, pp, wr) for pp in pv] for s, tt in zip(raw, temps)])
        fits = np.array([fit_eq5(pv, row) for row in dc]).reshape(len(temps), 2)
        nout = self._nout(p)
        om = self._omega(p)[:nout]
        tc, tp = {"T": temps}, {"T": temps, "p": pv}
        return {
            "sigma_static": Estimate(smooth[:, :nout], ("T", "omega"), {"T": temps, "omega": om}),
            "sw_total": Estimate(raw.sum(axis=1) * dw, ("T",), tc),
            "sum_rule": Estimate(np.pi / 2 * totals["kinetic"] / n, ("T",), tc),
            "rta_sigma_dc": Estimate(dc, ("T", "p"), tp),
            "rta_resistivity": Estimate(1.0 / dc, ("T", "p"), tp),
            "rta_sigma": Estimate(opt, ("T", "p", "omega_rta"), {"T": temps, "p": pv, "omega_rta": wr}),
            "eq5_A": Estimate(fits[:, 0], ("T",), tc),
            "eq5_omega_bar": Estimate(fits[:, 1], ("T",), tc, "t"),
        }

    def memory_bytes(self, params, shard_size):
        n = params["N"]
        return 8 * n * n * 8 + 16 * len(params["T"]) * self._nbins(params) + (64 << 20)

    def plot(self, points, fig):
        from ensemble.models.tls_chain.plots import plot_static

        plot_static(points, fig)


MODEL = ChainStatic()
