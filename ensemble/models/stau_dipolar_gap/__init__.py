"""S-tau dipolar-gap Monte Carlo (seed 002, Schechter & Stamp, Appendix B2-B3; Figs. 2(b)-(d), 4).

Impurities occupy a fraction x of the fcc substitutional sublattice of an L^3-cell periodic box
(4 sites per cubic cell; L = 18, x = 0.2 gives 4666 TLSs).  Each carries an S and a tau spin;
U_ij = c_ij J_stau / (R_ij^3 + a_tilde^3) with c_ij unit Gaussians, E_tau_j = h_j + sum_i U_ij,
tau spins with E_tau < 0 are flipped, and E_S^min_i = max_j (2 U_ij - E_tau_j) (see kernels.py).

Units: L counts cubic cells; R and a_tilde are in r_unit, by default the cubic-cell side a0 = 1
(fcc nearest-neighbour distance 1/sqrt 2), or "nn" = the nearest-neighbour distance (the paper's
"interatomic distance" a_o may mean either); energies in J_stau.  Energy grids (coordinates
E_over_rms, Ebin_over_rms) are in units of E_rms, the exact ensemble rms of the field-free E_tau
(lattice.rms_e_tau, estimator E_tau_rms), so one grid fits every a_tilde of a sweep.

P_S(E): App. B2 defines P_S(E) = N(E_S^min < E)/N(S), a cumulative fraction.  It is also the DOS
ratio n_S(E)/n_S(E_bar) of the Fig. 2 caption: an S spin at energy E survives iff E > E_S^min, so
the fraction of S spins that can sit at E is the cumulative fraction (the bare S DOS, of width
J_o >> g J_o, being flat on this scale).  We give P_S (the paper's algorithm) and P_S_ratio =
P_S(E)/P_S(E_bar), E_bar = e_bar <E_tau>.  T_U is the E where P_S(E) = 5 g (Fig. 2 caption);
T_U_ratio uses P_S_ratio instead (they differ by the tiny 1 - P_S(E_bar)).
<E_tau> is the field-free |E_tau| of the tau spins, as mean, median and typical (exp <ln>) value;
the random-field width h_tau is in units of the realization's field-free mean (sample.py).
Two-level runs: a realization is the disorder (positions, c_ij, field normals), a vector a random frozen
S configuration s_i = +-1 on it (sample.py); a flat member is one realization with s absorbed into c_ij.
"""
from __future__ import annotations

import numpy as np

from ensemble.engine.model import Accumulator, Estimate, Model, Param, SpecError

from .lattice import n_impurities, rms_e_tau
from .plot import plot_points
from .sample import disorder, s_configuration, simulate

MAX_IMPURITIES = 20000  # the n^2 coupling matrix is 3.2 GB there


def _crossing(edges, cum, level):
    """First E where the nondecreasing piecewise-linear cum(E) reaches level (nan if never)."""
    k = int(np.searchsorted(cum, level, side="left"))
    if k >= len(cum):
        return np.nan
    if k == 0:
        return float(edges[0])
    c0, c1 = cum[k - 1], cum[k]
    return float(edges[k - 1] + (edges[k] - edges[k - 1]) * (level - c0) / (c1 - c0))


class StauDipolarGap(Model):
    name = "stau_dipolar_gap"
    description = "S-spin dipolar gap P_S(E) from S-tau correlations (seed 002, App. B)"
    # building U (n^2 Gaussians and distances) costs ~14 vectors (n^2 comparisons each): build once per realization
    setup_cost = "expensive"
    params = (
        Param("L", int, 8, "a0", "box side in cubic cells (4 fcc sites per cell)", low=1, high=60),
        Param("x", float, 0.2, "", "impurity concentration on the fcc sublattice", low=0.0, high=1.0, low_open=True),
        Param("a_tilde", float, 0.0, "r_unit", "short-distance cutoff of U_ij", low=0.0, high=1e3),
        Param("r_unit", str, "cell", "", "length unit of R and a_tilde: cubic-cell side or nn distance",
              choices=("cell", "nn")),
        Param("J_stau", float, 1.0, "energy", "S-tau coupling scale (energy unit)", low=0.0, low_open=True, high=1e12),
        Param("g", float, 0.02, "", "gamma_tau/gamma_S; T_U is where P_S = 5 g", low=0.0, high=0.2, low_open=True),
        Param("h_tau", float, 0.0, "<E_tau>", "Gaussian random-field width on tau, per field-free mean |E_tau|",
              low=0.0, high=1e3),
        Param("e_max", float, 4.0, "E_rms", "top of the energy grid", low=0.0, high=1e3, low_open=True),
        Param("bins", int, 800, "", "energy bins on [0, e_max]", low=10, high=10**6),
        Param("e_bar", float, 3.0, "<E_tau>", "normalizing energy E_bar of P_S_ratio, in mean <E_tau>",
              low=0.0, low_open=True, high=1e3),
    )

    # ----- grid -----
    def _e_rms(self, p):
        return rms_e_tau(p["L"], p["x"], p["a_tilde"], p["J_stau"], p["r_unit"])

    def _edges(self, p):
        return np.linspace(0.0, p["e_max"], p["bins"] + 1)

    def check(self, p):
        n = n_impurities(p["L"], p["x"])
        if not 2 <= n <= MAX_IMPURITIES:
            raise SpecError(f"params: x*4*L^3 = {n} impurities; allowed 2..{MAX_IMPURITIES} (change L or x)")
        if p["e_bar"] >= p["e_max"]:
            raise SpecError(f"params.e_bar = {p['e_bar']}: must be below e_max = {p['e_max']} "
                            "(<E_tau>_mean <= E_rms, so e_bar < e_max keeps E_bar on the grid)")

    def accumulators(self, p):
        e = self._edges(p)
        mid = {"Ebin_over_rms": 0.5 * (e[1:] + e[:-1])}
        b, dim = p["bins"], ("Ebin_over_rms",)
        return [
            Accumulator("n_spins", dtype="int64", doc="number of S (= tau) spins"),
            Accumulator("emin_below", dtype="int64", doc="S spins with E_S^min <= 0"),
            Accumulator("emin_hist", (b,), dim, mid, dtype="int64", doc="histogram of E_S^min/E_rms"),
            Accumulator("etau_hist", (b,), dim, mid, dtype="int64", doc="histogram of field-free |E_tau|/E_rms"),
            Accumulator("etau_sum", unit="J_stau", doc="sum of field-free |E_tau|"),
            Accumulator("etau_sq_sum", unit="J_stau^2", doc="sum of field-free E_tau^2"),
            Accumulator("etau_log_sum", doc="sum of ln(|E_tau|/J_stau), field-free"),
        ]

    def _sum(self, p, members):
        edges = self._edges(p) * self._e_rms(p)
        out = self.zero_sums(p)
        for m in members:
            out["n_spins"] += len(m.e_min)
            out["emin_below"] += int(np.count_nonzero(m.e_min <= 0.0))
            out["emin_hist"] += np.histogram(m.e_min[m.e_min > 0.0], edges)[0]
            out["etau_hist"] += np.histogram(m.e_tau0, edges)[0]
            out["etau_sum"] += m.e_tau0.sum()
            out["etau_sq_sum"] += (m.e_tau0**2).sum()
            out["etau_log_sum"] += np.log(m.e_tau0 / p["J_stau"]).sum()
        return out

    def run_shard(self, p, member_ids, seeds):
        # one n x n realization per member: the pair work is inside numba
        return self._sum(p, (simulate(seed, p["L"], p["x"], p["a_tilde"], p["J_stau"], p["h_tau"], p["r_unit"])
                             for seed in seeds))

    def prepare(self, p, seed):
        return disorder(np.random.default_rng(seed), p["L"], p["x"], p["a_tilde"], p["J_stau"], p["r_unit"])

    def run_vectors(self, p, realization, vector_ids, seeds):
        return self._sum(p, (s_configuration(realization, seed, p["h_tau"]) for seed in seeds))

    def finalize(self, t, p):
        n = float(t["n_spins"])
        rms = self._e_rms(p)
        edges = self._edges(p)                     # units of E_rms
        P = (t["emin_below"] + np.concatenate([[0], np.cumsum(t["emin_hist"])])) / n
        tau_cum = np.concatenate([[0], np.cumsum(t["etau_hist"])]) / n
        mean = float(t["etau_sum"]) / n
        median = _crossing(edges, tau_cum, 0.5) * rms
        typical = float(np.exp(t["etau_log_sum"] / n)) * p["J_stau"]
        t_u = _crossing(edges, P, 5 * p["g"]) * rms
        p_bar = np.interp(p["e_bar"] * mean / rms, edges, P)
        t_u_ratio = _crossing(edges, P / p_bar, 5 * p["g"]) * rms
        E = {"E_over_rms": edges}
        mid = {"Ebin_over_rms": 0.5 * (edges[1:] + edges[:-1])}
        return {
            "P_S": Estimate(P, ("E_over_rms",), E, "fraction"),
            "P_S_ratio": Estimate(P / p_bar, ("E_over_rms",), E, "n_S(E)/n_S(E_bar)"),
            "n_tau": Estimate(t["etau_hist"] / (n * np.diff(edges)), ("Ebin_over_rms",), mid, "1/E_rms"),
            "T_U": Estimate(t_u, unit="J_stau"),
            "T_U_ratio": Estimate(t_u_ratio, unit="J_stau"),
            "T_U_over_E_tau_mean": Estimate(t_u / mean),
            "T_U_over_E_tau_median": Estimate(t_u / median),
            "T_U_over_E_tau_typical": Estimate(t_u / typical),
            "E_tau_mean": Estimate(mean, unit="J_stau"),
            "E_tau_median": Estimate(median, unit="J_stau"),
            "E_tau_typical": Estimate(typical, unit="J_stau"),
            "E_tau_rms_sampled": Estimate(np.sqrt(float(t["etau_sq_sum"]) / n), unit="J_stau"),
            "E_tau_rms": Estimate(rms, unit="J_stau", jackknife=False),
        }

    def memory_bytes(self, p, shard_size):
        n = n_impurities(p["L"], p["x"])
        return int(8 * n * n * 1.5 + 400 * n + 8 * 4 * 4 * p["L"] ** 3 + (96 << 20))

    def plot(self, points, fig):
        plot_points(points, fig)


MODEL = StauDipolarGap()
