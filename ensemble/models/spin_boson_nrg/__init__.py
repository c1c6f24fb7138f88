"""Equilibrium dynamics of the ohmic spin-boson model, 0 < α < 1, by fermionic NRG on the equivalent
interacting resonant-level model (irlm.py): the scaling function f_α(x, T/h_R) = ω Imχ(ω, T) of seed 000,
Eq. (9).

A member is one NRG run at discretization offset z (van der Corput order, solver.py); the ensemble
average over members is the z-average, and the engine's jackknife over shards is the error of that
average.  Each member stores its raw full-density-matrix weights binned in log|ω| (fdm.py); finalize
broadens the z-averaged weights (broadening.py) and scales them by h_R = 4/(π χ0) (spectra.py).
"""
from __future__ import annotations

import numpy as np

from ensemble.engine.model import Accumulator, Estimate, Model, Param, SpecError

from . import broadening, solver, spectra


class SpinBosonNRG(Model):
    name = "spin_boson_nrg"
    description = "ohmic spin-boson χ(ω, T) by NRG (IRLM, full density matrix); members = discretization offsets z"
    params = (
        Param("alpha", float, 0.5, "", "spin-boson coupling α", low=0.0, high=1.0, low_open=True, high_open=True),
        Param("v", float, 0.0, "D", "IRLM tunnelling V/D (∝ Δ/ω_c); 0: aimed at h_target", low=0.0, high=0.5),
        Param("h_target", float, 1e-6, "D", "h_R/D aimed at when v = 0", low=1e-14, high=1e-2),
        Param("bias", float, 0.0, "D", "bias ε/D (σ^z field)", low=-0.5, high=0.5),
        Param("lam", float, 2.0, "", "discretization Λ", low=1.5, high=4.0),
        Param("keep", int, 400, "", "most NRG states kept per shell", low=16, high=2000),
        Param("e_cut", float, 10.0, "", "keep states below about e_cut × the shell's energy scale", low=2.0, high=100.0),
        Param("shells", int, 80, "", "Wilson chain sites", low=10, high=400),
        Param("broadening", float, 0.1, "", "log-Gaussian width b (in ln ω)", low=0.02, high=1.0),
        Param("t_over_hr", float, [0.0], "h_R", "temperatures T/h_R, starting with 0 (h_R of the member's own T = 0 run)", low=0.0, array=True),
        Param("x_min", float, 1e-2, "h_R", "lowest x = ω/h_R of the output grid", low=1e-8, low_open=True),
        Param("x_max", float, 1e3, "h_R", "highest x of the output grid", low=0.0, low_open=True),
        Param("n_x", int, 481, "", "log-spaced x points (≥ 3 per broadening width b)", low=4, high=10**4),
        Param("shiba_x", float, 1e-2, "h_R", "x at which Imχ/ω stands for its ω → 0 limit", low=1e-8, low_open=True),
        Param("tail_lo", float, 30.0, "h_R", "lower end of the large-x power-law fit", low=1.0),
        Param("tail_hi", float, 300.0, "h_R", "upper end of the large-x power-law fit", low=1.0),
    )

    def check(self, p):
        if p["x_min"] >= p["x_max"]:
            raise SpecError("params.x_min must be below params.x_max")
        if p["tail_lo"] >= p["tail_hi"]:
            raise SpecError("params.tail_lo must be below params.tail_hi")
        if p["t_over_hr"][0] != 0.0:
            raise SpecError("params.t_over_hr must start with 0 (the T = 0 spectrum carries the Shiba and tail checks)")

    def _x(self, p):
        return np.logspace(np.log10(p["x_min"]), np.log10(p["x_max"]), p["n_x"])

    def accumulators(self, p):
        edges = solver.log_edges(p)
        nt, nb = len(p["t_over_hr"]), len(edges) - 1
        tc = {"t_over_hr": np.asarray(p["t_over_hr"], dtype=float)}
        bc = {"log10_omega": 0.5 * (edges[1:] + edges[:-1]), "sign": np.array([1.0, -1.0])}
        return [
            Accumulator("weights", (nt, 2, nb), ("t_over_hr", "sign", "log10_omega"), {**tc, **bc},
                        doc="Σ_z FDM weights W_j binned in log10|ω_j| (ω > 0, ω < 0)"),
            Accumulator("zero_weight", (nt,), ("t_over_hr",), tc, doc="Σ_z weight of the peaks at ω = 0"),
            Accumulator("chi0", (nt,), ("t_over_hr",), tc, doc="Σ_z 2 Σ_j W_j/ω_j"),
            Accumulator("total", (nt,), ("t_over_hr",), tc, doc="Σ_z Σ_j W_j (= Σ_z ⟨σ²⟩)"),
            Accumulator("balance_defect", (nt,), ("t_over_hr",), tc, doc="Σ_z Σ_bins |W₋ − Σ W₊e^{−βω}|"),
            Accumulator("chi0_ground", doc="Σ_z χ0 at T = 0"),
            Accumulator("lowest_scale", doc="Σ_z energy scale of the last shell"),
        ]

    def run_shard(self, p, member_ids, seeds):
        out = None
        for m in member_ids:
            one = solver.run_member(p, solver.van_der_corput_offset(int(m)))
            out = one if out is None else {k: out[k] + one[k] for k in out}
        return out

    def memory_bytes(self, p, shard_size):
        dim = 2 * p["keep"]
        return int(2 * 8 * dim * dim * (p["shells"] + 2) + 40 * len(solver.log_edges(p)) * len(p["t_over_hr"])) + (96 << 20)

    def finalize(self, totals, p):
        n = totals["members"]
        edges = solver.log_edges(p)
        weights = totals["weights"] / n
        h = spectra.h_r(totals["chi0_ground"] / n)
        x = self._x(p)
        tg = np.asarray(p["t_over_hr"], dtype=float)
        zero = totals["zero_weight"] / n
        f = np.array([x * h * broadening.im_chi(w, edges, x * h, p["broadening"], t * h, z0)
                      for w, t, z0 in zip(weights, tg, zero)])
        xs = np.array([p["shiba_x"]])
        f_shiba = float((xs * h * broadening.im_chi(weights[0], edges, xs * h, p["broadening"]))[0])
        shiba = spectra.shiba_ratio(f_shiba, p["shiba_x"], p["alpha"])
        tail = spectra.power_law_slope(x, f[0], p["tail_lo"], p["tail_hi"])
        coords = {"t_over_hr": tg, "x": x}
        total = totals["total"] / n
        return {
            "f": Estimate(f, ("t_over_hr", "x"), coords),
            "h_R": Estimate(h, unit="D"),
            "chi0": Estimate(totals["chi0"] / n * h, ("t_over_hr",), {"t_over_hr": tg}, "1/h_R"),
            "sum_rule": Estimate(total, ("t_over_hr",), {"t_over_hr": tg}),
            "detailed_balance_defect": Estimate(totals["balance_defect"] / n / total, ("t_over_hr",), {"t_over_hr": tg}),
            "shiba_ratio": Estimate(shiba),
            "tail_exponent": Estimate(tail),
            "tail_exponent_guinea": Estimate(2.0 * p["alpha"] - 2.0, jackknife=False),
            "tail_exponent_app_b": Estimate(-(4.0 - 2.0 * p["alpha"]), jackknife=False),
            "lowest_scale_over_h_R": Estimate(totals["lowest_scale"] / n / h),
            "V": Estimate(solver.tunnelling(p), jackknife=False, unit="D"),
        }

    def plot(self, points, fig):
        from .plotting import plot_points

        plot_points(points, fig)


MODEL = SpinBosonNRG()
