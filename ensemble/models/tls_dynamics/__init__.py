"""TLS-phonon dynamics of seed 004 (Artiago, Balducci, Scardicchio): concurrence and entanglement entropy.

Model ``tls_dynamics``.  A flat member is one disorder realization (positions, eps, Delta, dipole factors)
together with its random product initial state (uniform pure Bloch vectors), both from the member's stream.
A two-level run separates them: ``prepare`` draws the disorder from the realization's stream as a flat member
does (realization r has the disorder of flat member r) and each vector draws an initial state from its own
stream, so the engine splits sample-to-sample from state-to-state fluctuations.  The GKSL solution is exact:
an open-system run draws nothing else.  Units: energies in W = 1 eV, times in hbar/W = 0.658 fs, rates in
W/hbar.  GKSL Eq. (12) with dissipation strength ``eps_diss`` (the paper's epsilon) and phonon temperature
``T`` (Bose factors of Eq. (7)); see ``_factorized`` for the exact O(N) solution used for all N (unitary and
open), ``_dense`` for the 4^N reference.

Outputs per time t (log grid): C(t) = (1/N) sum_{i<j} C_ij(t) (Eq. 13, Wootters concurrence), its local slope
-d ln C/d ln t and resolution C_floor; decay exponents over the fixed window, of C - C(inf), and over the
paper's window [fit_tmin, t2(N)] (``_decay``); optionally the half-system entanglement entropy S_E(t)
averaged over the N "bubble" bipartitions (A = the N/2 sites nearest to site i, periodic distances), in nats.
Scalars for the variance split of a two-level run: C and S_E/N at the grid time nearest the middle of the
fit window (``C_window_mid``, ``S_E_window_mid``), the peak and late plateau of S_E/N.  ``mode = "haar"``
instead draws Haar-random N-qubit states and accumulates their pair-averaged concurrence (App. E, Fig. 11).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.engine.model import Accumulator, Estimate, Model, Param, SpecError

from . import _disorder
from . import _decay
from ._entangle import concurrence, pair_average_floor, vn_entropy
from ._factorized import pair_rhos, reduced_rho
from ._fits import power_law_exponent
from ._haar import haar_mean_concurrence


def time_grid(p: dict) -> np.ndarray:
    return np.logspace(np.log10(p["t_min"]), np.log10(p["t_max"]), p["n_t"])


def bubble_partitions(real: _disorder.Disorder) -> list[np.ndarray]:
    """Distinct sets A_i = the N/2 sites nearest to site i (i included), sorted."""
    N = len(real.nu)
    d = _disorder.min_image_dist(real.pos, real.box)
    sets = {tuple(sorted(np.argsort(d[i], kind="stable")[: N // 2])) for i in range(N)}
    return [np.array(s, dtype=np.int64) for s in sorted(sets)]


@dataclass
class PreparedDisorder:
    """One disorder realization with what all of its initial states share: rates and bipartitions."""

    disorder: _disorder.Disorder
    gup: np.ndarray
    gdn: np.ndarray
    partitions: list[np.ndarray] | None   # bubble sets A_i when the entropy is computed


def prepare_disorder(p: dict, rng: np.random.Generator) -> PreparedDisorder:
    dis = _disorder.draw_disorder(rng, p["N"], p["Delta_bar"], p["n_Delta"], p["R"], p["L0_nm"],
                                  p["J_projection"], p["dipole_factors"], p["rate_tunnelling"])
    gup, gdn = _disorder.rates(dis, p["eps_diss"], p["T"])
    return PreparedDisorder(dis, gup, gdn, bubble_partitions(dis) if p["entropy"] else None)


def state_curves(p: dict, prep: PreparedDisorder, rho0: np.ndarray):
    """C(t) (and S_E(t) if requested) for one realization started in the product state ``rho0``."""
    t = time_grid(p)
    dis = prep.disorder
    rho = pair_rhos(t, dis.J, dis.nu, prep.gup, prep.gdn, rho0)
    C = concurrence(rho).sum(0) / p["N"]
    S = None
    if prep.partitions is not None:
        S = np.zeros(len(t))
        for A in prep.partitions:
            S += vn_entropy(reduced_rho(A, t, dis.J, dis.nu, prep.gup, prep.gdn, rho0))
        S /= len(prep.partitions)
    return C, S


def window_middle_index(p: dict) -> int:
    """The grid time nearest (on a log axis) to the middle of the fit window, sqrt(fit_tmin fit_tmax)."""
    t = time_grid(p)
    return int(np.argmin(np.abs(np.log(t) - 0.5 * np.log(p["fit_tmin"] * p["fit_tmax"]))))


class TLSDynamics(Model):
    name = "tls_dynamics"
    description = "TLS ensemble in glasses (seed 004): pair concurrence C(t) and HSEE, unitary and GKSL, exact O(N)"
    # drawing the disorder costs < 1 % of evolving one initial state: every task builds its own realization
    setup_cost = "cheap"
    params = (
        Param("mode", str, "dynamics", "", "dynamics, or haar (random-state concurrence, App. E)",
              choices=("dynamics", "haar")),
        Param("N", int, 10, "", "number of TLSs", low=2, high=400),
        Param("Delta_bar", float, 0.1, "W", "typical tunnelling amplitude (Eq. 3)", low=0.0, low_open=True),
        Param("n_Delta", float, 2.0, "", "decades spanned by Delta (Eq. 3)", low=0.0, high=20.0),
        Param("R", float, 1e3, "", "interaction rescaling L0 -> L0/R", low=0.0, low_open=True),
        Param("L0_nm", float, 10.0, "nm", "cube side per TLS^(1/3)", low=0.0, low_open=True),
        Param("J_projection", str, "literal", "", "Eq. 8 factor per TLS: literal eps/(hbar nu), or sigma_z "
              "(2 eps/(hbar nu), the S^0 weight of sigma^z: J x 4)", choices=_disorder.J_PROJECTIONS),
        Param("dipole_factors", str, "independent", "", "L and T dipole averages of Eqs. 7-8: independent draws, "
              "or shared (one draw for both: J spread x sqrt 2)", choices=_disorder.DIPOLE_FACTORS),
        Param("rate_tunnelling", str, "ratio", "", "Eq. 7 'Delta^2' read as (Delta/hbar nu)^2 (ratio) or "
              "(Delta/W)^2 (W_units)", choices=_disorder.RATE_TUNNELLINGS),
        Param("eps_diss", float, 0.0, "", "dissipation strength epsilon of Eq. (12)", low=0.0, high=1e6),
        Param("T", float, 0.0, "K", "phonon temperature (Bose factors)", low=0.0, high=1e7),
        Param("t_min", float, 1e-7, "hbar/W", "first time of the log grid", low=0.0, low_open=True),
        Param("t_max", float, 1e5, "hbar/W", "last time of the log grid", low=0.0, low_open=True),
        Param("n_t", int, 97, "", "number of times", low=2, high=5000),
        Param("entropy", bool, False, "", "also compute the bubble half-system entanglement entropy"),
        Param("fit_tmin", float, 2e-3, "hbar/W", "power-law fit window start", low=0.0, low_open=True),
        Param("fit_tmax", float, 2e-2, "hbar/W", "power-law fit window end", low=0.0, low_open=True),
        Param("plateau_pts", int, 5, "", "last grid points averaged into C_late", low=1),
    )

    def check(self, p):
        if p["t_max"] <= p["t_min"]:
            raise SpecError(f"params.t_max = {p['t_max']} must exceed t_min = {p['t_min']}")
        if p["fit_tmax"] <= p["fit_tmin"]:
            raise SpecError(f"params.fit_tmax = {p['fit_tmax']} must exceed fit_tmin = {p['fit_tmin']}")
        if p["plateau_pts"] > p["n_t"]:
            raise SpecError(f"params.plateau_pts = {p['plateau_pts']} exceeds n_t = {p['n_t']}")
        if p["entropy"] and p["N"] > 20:
            raise SpecError(f"params.entropy needs N <= 20 (3^(N/2) sectors), got N = {p['N']}")
        if p["mode"] == "haar" and p["N"] > 24:
            raise SpecError(f"params.N = {p['N']}: mode haar stores 2^N amplitudes, allowed N <= 24")

    def accumulators(self, p):
        if p["mode"] == "haar":
            return [Accumulator("Ch_sum", doc="sum of pair-averaged Haar-state concurrence"),
                    Accumulator("Ch_sq", doc="sum of squares")]
        t = time_grid(p)
        accs = [Accumulator("C_sum", (p["n_t"],), ("t",), {"t": t}, doc="sum over members of C(t), Eq. 13"),
                Accumulator("C_sq", (p["n_t"],), ("t",), {"t": t}, doc="sum of C(t)^2")]
        if p["entropy"]:
            accs += [Accumulator("S_sum", (p["n_t"],), ("t",), {"t": t}, doc="sum of S_E(t) (nats)"),
                     Accumulator("S_sq", (p["n_t"],), ("t",), {"t": t}, doc="sum of S_E(t)^2")]
        return accs

    def run_shard(self, p, member_ids, seeds):
        """Flat members: the disorder, then the initial state, from the member's one stream."""
        out = self.zero_sums(p)
        for seed in seeds:
            rng = np.random.default_rng(seed)
            prep = None if p["mode"] == "haar" else prepare_disorder(p, rng)
            self._add_member(out, p, prep, rng)
        return out

    def prepare(self, p, seed):
        """The disorder of one realization (None in mode haar, which has none)."""
        return None if p["mode"] == "haar" else prepare_disorder(p, np.random.default_rng(seed))

    def run_vectors(self, p, prep, vector_ids, seeds):
        """Vectors of one realization: random product initial states (Haar states in mode haar)."""
        out = self.zero_sums(p)
        for seed in seeds:
            self._add_member(out, p, prep, np.random.default_rng(seed))
        return out

    def _add_member(self, out, p, prep, rng):
        """Draw one initial state from ``rng``, evolve it in ``prep`` and add its curves to ``out``."""
        if p["mode"] == "haar":
            c = haar_mean_concurrence(rng, p["N"])
            out["Ch_sum"] += c
            out["Ch_sq"] += c * c
            return
        C, S = state_curves(p, prep, _disorder.random_bloch_states(rng, p["N"]))
        out["C_sum"] += C
        out["C_sq"] += C * C
        if S is not None:
            out["S_sum"] += S
            out["S_sq"] += S * S

    def finalize(self, totals, p):
        n = totals["members"]
        if p["mode"] == "haar":
            m = totals["Ch_sum"] / n
            return {"C_haar": Estimate(m), "C_haar_spread": Estimate(np.sqrt(max(totals["Ch_sq"] / n - m * m, 0.0)))}
        t = time_grid(p)
        C = totals["C_sum"] / n
        C_err = np.sqrt(np.clip(totals["C_sq"] / n - C * C, 0.0, None) / max(n - 1, 1))
        C_late = C[-p["plateau_pts"]:].mean()
        floor = pair_average_floor(p["N"])
        t2 = _decay.paper_window_end(t, C, C_err, C_late, p["fit_tmin"], floor)
        est = {
            "C": Estimate(C, ("t",), {"t": t}),
            "C_floor": Estimate(floor),
            "C_late": Estimate(C_late),
            "C_max": Estimate(C.max()),
            "C_window_mid": Estimate(C[window_middle_index(p)]),
            "t_max_C": Estimate(t[np.argmax(C)], unit="hbar/W"),
            "beta": Estimate(power_law_exponent(t, C, p["fit_tmin"], p["fit_tmax"])),
            "beta_minus_plateau": Estimate(_decay.beta_of(
                _decay.fit_power_law(t, C, p["fit_tmin"], p["fit_tmax"], C_late))),
            "t2_paper": Estimate(t2, unit="hbar/W"),
            "beta_paper_window": Estimate(_decay.beta_of(
                _decay.fit_power_law(t, C, p["fit_tmin"], t2, C_late)) if np.isfinite(t2) else np.nan),
            "local_slope": Estimate(_decay.local_slopes(t, C), ("t",), {"t": t}),
            "rise_exponent": Estimate(-power_law_exponent(t, C, 0.0, min(t[np.argmax(C)] / 10, p["fit_tmin"]))),
        }
        if "S_sum" in totals:
            S = totals["S_sum"] / n / p["N"]
            est["S_E_per_N"] = Estimate(S, ("t",), {"t": t})
            est["S_E_window_mid"] = Estimate(S[window_middle_index(p)])
            est["S_E_max"] = Estimate(S.max())
            est["S_E_late"] = Estimate(S[-p["plateau_pts"]:].mean())
        return est

    def memory_bytes(self, p, shard_size):
        if p["mode"] == "haar":
            return 64 * 2 ** p["N"] + (64 << 20)
        P = p["N"] * (p["N"] - 1) // 2
        big = P * p["n_t"] * 16 * 16 * 4   # pair matrices + sqrt/SVD temporaries
        if p["entropy"]:
            big = max(big, p["n_t"] * 4 ** (p["N"] // 2) * 16 * 4)
        return int(big) + (96 << 20)

    def plot(self, points, fig):
        from ._plot import plot_points

        plot_points(points, fig)


MODEL = TLSDynamics()
