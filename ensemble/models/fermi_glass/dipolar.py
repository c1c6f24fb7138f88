"""Model fermi_glass_dipolar: the dipolar gap of seed 003, Eq. (13), by Monte Carlo.

Strongly localized limit of the Fermi glass (t -> 0) with elastic-dipole interactions (kernels in
dipolar_kernels.py): eps_i uniform in [-W/2, W/2] on the L^3 lattice (spacing a = 1), filling nu,
U_ij = U0 c_ij / R_ij^3 with c_ij uniform in [-1, 1].  A flat member is one realization and one run on
it, from one stream.  Two-level: a realization (eps_i and the c_ij, ``prepare``) is shared by its vectors,
each an independent run (search order and Metropolis streams, ``run_vectors``), so that the spread of the
relaxed states of one sample (run to run) separates from the spread between samples.  A run:
  - zero temperature: start from the K lowest eps_i (or K random sites, ``start``), apply single-particle
    moves until every move i -> j costs E_j - E_i - U_ij >= 0 (checked by a full scan); histogram the
    single-particle energies E_i - mu (mu = midpoint of the gap between occupied and empty E_i).  The search
    (``search``) takes improving moves as found, in site order ("first") or in a random order drawn
    each pass ("random"); the states reached differ by collective rearrangements, and so does the
    slope of the gap;
  - finite T: Metropolis with particle-conserving moves, heating from that state through the T grid or
    parallel tempering over it (protocol);
    C_v = Var(H) / (N T^2) per realization, and the exact C_v of the bare levels eps_i for comparison.

alpha_dd of Eq. (13) for this U: an empty state at eps (occupied at -eps') is destroyed by any
partner with U_ij > eps + eps'; with one site per unit volume the expected number of such partners
is int deps' nu(eps') (4 pi/3) U0 <c_+> / (eps + eps'), <c_+> = E[max(c, 0)] = 1/4.  Taking the
survival probability exp(-that) and differentiating in ln(1/eps) gives d nu / d ln(1/eps) =
-alpha nu^2, i.e. 1/nu(eps) = 1/nu0 + alpha ln(E_Q / eps): Eq. (13) with alpha_dd = (pi/3) U0
(nu per site per energy, lengths in lattice spacings).  U0, T and every output energy are in units
of W (nu in 1/(W site)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.engine.model import Accumulator, Estimate, Model, Param, SpecError

from . import dipolar_kernels as K

TOL = 1e-12


def alpha_dd(U0: float) -> float:
    return np.pi / 3 * U0


def log_edges(p):
    return p["W"] * np.geomspace(p["eps_min"], 1.0, p["bins"] + 1)


def lin_edges(p):
    return np.linspace(-p["W"], p["W"], p["bins_lin"] + 1)


def fit_inverse_dos(eps, nu, counts, lo, hi):
    """Weighted line 1/nu = b + slope ln(1/eps) over lo <= eps <= hi; (slope, b) or None."""
    sel = (eps >= lo) & (eps <= hi) & (counts > 0)
    if sel.sum() < 2:
        return None
    w = np.sqrt(counts[sel].astype(float)) * nu[sel]       # var(1/nu) ~ 1/(nu^2 counts)
    slope, icpt = np.polyfit(np.log(1 / eps[sel]), 1 / nu[sel], 1, w=w)
    return slope, icpt


def bare_heat_capacity(eps: np.ndarray, K_: int, T: float) -> float:
    """Non-interacting levels at fixed mean particle number K (mu from sum f = K), per site."""
    from scipy.optimize import brentq

    def count(mu):
        return np.sum(0.5 * (1 - np.tanh(0.5 * (eps - mu) / T))) - K_

    mu = brentq(count, eps.min() - 50 * T, eps.max() + 50 * T, xtol=1e-14)
    g = 1.0 / (4 * T * np.cosh(0.5 * (eps - mu) / T) ** 2)
    d = eps - mu
    return float(((g * d * d).sum() - (g * d).sum() ** 2 / g.sum()) / T / len(eps))


def tempering(occ, E, h, Ts, sweeps_eq, sweeps, per_swap, g, rng):
    """Parallel tempering: one replica per temperature (ascending Ts), all started from the pseudo-ground
    state; every ``per_swap`` Metropolis sweeps, neighbouring temperatures exchange configurations with
    probability min(1, exp((1/T_k - 1/T_k+1)(H_k - H_k+1))).  Returns the total energy of each temperature
    slot after every round of the measuring part, shape (len(Ts), sweeps // per_swap), and the
    Metropolis acceptance per temperature."""
    R = len(Ts)
    occs = [occ.copy() for _ in range(R)]
    Es = [E.copy() for _ in range(R)]
    hs = np.full(R, h)
    n_eq, n_meas = sweeps_eq // per_swap, max(sweeps // per_swap, 1)
    samples = np.zeros((R, n_meas))
    accepted = np.zeros(R)
    none = np.zeros(0)
    for rnd in range(n_eq + n_meas):
        for k in range(R):
            hs[k], a = K.metropolis(occs[k], Es[k], hs[k], Ts[k], per_swap, g, int(rng.integers(2 ** 31)), none)
            if rnd >= n_eq:
                accepted[k] += a
        for k in range(rnd % 2, R - 1, 2):
            d = (1 / Ts[k] - 1 / Ts[k + 1]) * (hs[k] - hs[k + 1])
            if d >= 0 or rng.random() < np.exp(d):
                occs[k], occs[k + 1] = occs[k + 1], occs[k]
                Es[k], Es[k + 1] = Es[k + 1], Es[k]
                hs[k], hs[k + 1] = hs[k + 1], hs[k]
        if rnd >= n_eq:
            samples[:, rnd - n_eq] = hs
    return samples, accepted / (n_meas * per_swap * len(E))


@dataclass
class Realization:
    """The disorder of one member: site energies, the coupling geometry (its pair key fixes every c_ij),
    for start = "lowest" the starting state (the K lowest eps_i occupied) with its single-particle
    energies, and the bare-level C_v per T (a function of eps alone)."""

    eps: np.ndarray
    geometry: tuple
    n_part: int
    occ: np.ndarray
    E: np.ndarray
    c_bare: np.ndarray


def build_realization(p, rng) -> Realization:
    """Draws, in this order: eps_i (N uniforms), the pair key of the c_ij."""
    L, W = p["L"], p["W"]
    n = L ** 3
    n_part = int(round(p["filling"] * n))
    eps = rng.uniform(-W / 2, W / 2, n)
    g = K.geometry(L, p["U0"] * W, int(rng.integers(0, 2 ** 62)))   # U0 is given in units of W
    occ = E = None
    if p["start"] == "lowest":
        occ = np.zeros(n, np.int64)
        occ[np.argsort(eps)[:n_part]] = 1
        E = K.site_energies(occ, eps, n_part / n, g)
    c_bare = np.array([bare_heat_capacity(eps, n_part, T) for T in np.asarray(p["T"], float) * W])
    return Realization(eps, g, n_part, occ, E, c_bare)


def relax_and_sample(p, real: Realization, rng) -> dict:
    """One run on a realization: relax to a pseudo-ground state, histogram it, then Metropolis.  Draws,
    in this order: the starting occupation (start = "random" only), the search-order seed (search =
    "random" only), then the Metropolis seeds."""
    W = p["W"]
    n = len(real.eps)
    nu_exact = real.n_part / n
    g = real.geometry
    if p["start"] == "random":
        occ = np.zeros(n, np.int64)
        occ[rng.choice(n, real.n_part, replace=False)] = 1
        E = K.site_energies(occ, real.eps, nu_exact, g)
    else:
        occ, E = real.occ.copy(), real.E.copy()
    order_seed = int(rng.integers(2 ** 31)) if p["search"] == "random" else -1   # no draw otherwise
    moves = K.relax(occ, E, g, g[2], TOL, order_seed)
    worst = K.worst_move(occ, E, g)
    mu = 0.5 * (E[occ == 1].max() + E[occ == 0].min())
    out = {
        "sites": n,
        "gs_hist": np.histogram(np.abs(E - mu), log_edges(p))[0],
        "gs_hist_lin": np.histogram(E - mu, lin_edges(p))[0],
        "gs_gap": (E[occ == 0].min() - E[occ == 1].max()) / W,
        "gs_unstable": int(worst < -1e-9),
        "relax_moves": moves,
    }
    Ts = np.asarray(p["T"], float) * W
    h = K.total_energy(occ, real.eps, nu_exact, g)
    out["gs_energy"] = h / (n * W)
    c_mc, e_mc, acc = np.zeros(len(Ts)), np.zeros(len(Ts)), np.zeros(len(Ts))
    if p["sweeps"] > 0 and p["protocol"] == "heating":
        for k, T in enumerate(Ts):          # heating from the pseudo-ground state
            warm = np.zeros(0)
            h, _ = K.metropolis(occ, E, h, T, p["sweeps_eq"], g, int(rng.integers(2 ** 31)), warm)
            samples = np.zeros(p["sweeps"])
            h, a = K.metropolis(occ, E, h, T, p["sweeps"], g, int(rng.integers(2 ** 31)), samples)
            c_mc[k] = samples.var() / (n * T * T)
            e_mc[k] = samples.mean() / (n * W)
            acc[k] = a / (p["sweeps"] * n)
    elif p["sweeps"] > 0:
        samples, acc = tempering(occ, E, h, Ts, p["sweeps_eq"], p["sweeps"], p["sweeps_per_swap"], g, rng)
        c_mc = samples.var(axis=1) / (n * Ts * Ts)
        e_mc = samples.mean(axis=1) / (n * W)
    out["c_mc"], out["e_mc"], out["acceptance"] = c_mc, e_mc, acc
    out["c_bare"] = real.c_bare
    return out


def simulate(p, seed):
    """One flat member: a realization and one run on it, both from the member's single stream."""
    rng = np.random.default_rng(seed)
    return relax_and_sample(p, build_realization(p, rng), rng)


class FermiGlassDipolar(Model):
    name = "fermi_glass_dipolar"
    description = "dipolar gap of localized glassons (seed 003 Eq. 13): pseudo-ground states and Metropolis C_v"
    setup_cost = "expensive"   # the O(N^2) starting energies and the bare C_v; a few N-arrays to ship
    params = (
        Param("L", int, 22, "a", "lattice side (L^3 sites)", low=2, high=80),
        Param("W", float, 1.0, "energy", "site energies uniform in [-W/2, W/2]; U0, T and all outputs are in W", low=0.0, low_open=True, high=1e9),
        Param("U0", float, 0.5, "W", "dipolar coupling at R = a (U_ij = U0 c_ij / R^3, c uniform in [-1, 1])",
              low=0.0, high=1e6),
        Param("filling", float, 0.5, "", "particles per site", low=0.0, high=1.0, low_open=True, high_open=True),
        Param("T", float, [0.01, 0.02, 0.03, 0.05, 0.07, 0.1], "W", "Metropolis temperatures (heating order)",
              low=0.0, low_open=True, high=1e9, array=True),
        Param("sweeps_eq", int, 200, "", "equilibration sweeps per temperature (N attempts each)", low=0, high=10**7),
        Param("sweeps", int, 1000, "", "measuring sweeps per temperature (0: ground states only)", low=0, high=10**7),
        Param("protocol", str, "heating", "", "finite T: heat from the pseudo-ground state through T, or "
              "parallel tempering over the T grid (ascending)", choices=("heating", "tempering")),
        Param("sweeps_per_swap", int, 10, "", "tempering: Metropolis sweeps between replica-exchange attempts",
              low=1, high=10**6),
        Param("search", str, "first", "", "pseudo-ground-state search: improving single-particle moves taken "
              "as found, in site order or in a random order drawn each pass", choices=("first", "random")),
        Param("start", str, "lowest", "", "state the relaxation starts from: the K lowest eps_i occupied, or K "
              "sites drawn at random per run (a quench from infinite temperature)", choices=("lowest", "random")),
        Param("bins", int, 40, "", "log bins of |E - mu| on [eps_min W, W]", low=2, high=10**4),
        Param("eps_min", float, 1e-4, "W", "lowest |E - mu| binned", low=1e-12, high=0.5, low_open=True),
        Param("bins_lin", int, 100, "", "linear bins of E - mu on [-W, W]", low=2, high=10**5),
        Param("fit_lo", float, 1e-3, "W", "lower end of the 1/nu vs ln(1/eps) fit window", low=0.0, low_open=True),
        Param("fit_hi", float, 0.05, "W", "upper end of the fit window", low=0.0, low_open=True, high=1.0),
    )

    def check(self, p):
        n = p["L"] ** 3
        k = int(round(p["filling"] * n))
        if not 1 <= k <= n - 1:
            raise SpecError(f"params.filling = {p['filling']}: gives {k} particles on {n} sites; need 1..{n - 1}")
        if p["protocol"] == "tempering" and np.any(np.diff(p["T"]) <= 0):
            raise SpecError("params.T: parallel tempering needs strictly ascending temperatures")
        if not p["eps_min"] <= p["fit_lo"] < p["fit_hi"]:
            raise SpecError(f"params.fit_lo = {p['fit_lo']}: need eps_min <= fit_lo < fit_hi = {p['fit_hi']}")

    def memory_bytes(self, p, shard_size):
        return 8 * 12 * p["L"] ** 3 + (64 << 20)

    def accumulators(self, p):
        le, li = log_edges(p) / p["W"], lin_edges(p) / p["W"]
        eb = {"eps": np.sqrt(le[1:] * le[:-1])}
        Ts = {"T": np.asarray(p["T"], float)}
        nT = len(p["T"])
        return [
            Accumulator("sites", dtype="int64", doc="sites summed"),
            Accumulator("gs_hist", (p["bins"],), ("eps",), eb, dtype="int64", doc="histogram of |E_i - mu|"),
            Accumulator("gs_hist_lin", (p["bins_lin"],), ("E",), {"E": 0.5 * (li[1:] + li[:-1])}, dtype="int64",
                        doc="histogram of E_i - mu"),
            Accumulator("gs_gap", unit="W", doc="sum of min_empty E - max_occupied E"),
            Accumulator("gs_energy", unit="W", doc="sum of ground-state energy per site"),
            Accumulator("gs_unstable", dtype="int64", doc="realizations whose final state has a lowering move"),
            Accumulator("relax_moves", dtype="int64", doc="single-particle moves made while relaxing"),
            Accumulator("c_mc", (nT,), ("T",), Ts, doc="sum of Var(H)/(N T^2)"),
            Accumulator("e_mc", (nT,), ("T",), Ts, unit="W", doc="sum of <H>/N"),
            Accumulator("acceptance", (nT,), ("T",), Ts, doc="sum of Metropolis acceptance rates"),
            Accumulator("c_bare", (nT,), ("T",), Ts, doc="sum of the bare-level C_v per site"),
        ]

    def _sum(self, p, runs):
        out = self.zero_sums(p)
        for run in runs:
            for k, v in run.items():
                out[k] += v
        return out

    def run_shard(self, p, member_ids, seeds):
        return self._sum(p, (simulate(p, seed) for seed in seeds))

    def prepare(self, p, seed):
        return build_realization(p, np.random.default_rng(seed))

    def run_vectors(self, p, realization, vector_ids, seeds):
        return self._sum(p, (relax_and_sample(p, realization, np.random.default_rng(s)) for s in seeds))

    def finalize(self, t, p):
        m = float(t["members"])
        sites = float(t["sites"])
        le, li = log_edges(p) / p["W"], lin_edges(p) / p["W"]     # energies in units of W
        eps = np.sqrt(le[1:] * le[:-1])
        nu = t["gs_hist"] / (2 * sites * np.diff(le))
        nu_lin = t["gs_hist_lin"] / (sites * np.diff(li))
        Ts = np.asarray(p["T"], float)
        out = {
            "nu": Estimate(nu, ("eps",), {"eps": eps}, "1/(W site)"),
            "inv_nu": Estimate(1 / np.where(nu > 0, nu, np.nan), ("eps",), {"eps": eps}, "W site"),
            "nu_lin": Estimate(nu_lin, ("E",), {"E": 0.5 * (li[1:] + li[:-1])}, "1/(W site)"),
            "alpha_dd_theory": Estimate(alpha_dd(p["U0"]), unit="W site", jackknife=False),
            "gap_mean": Estimate(float(t["gs_gap"]) / m, unit="W"),
            "gs_energy": Estimate(float(t["gs_energy"]) / m, unit="W/site"),
            "unstable_states": Estimate(float(t["gs_unstable"]), jackknife=False),
            "relax_moves_per_site": Estimate(float(t["relax_moves"]) / sites),
            "C_mc": Estimate(t["c_mc"] / m, ("T",), {"T": Ts}, "k_B/site"),
            "C_bare": Estimate(t["c_bare"] / m, ("T",), {"T": Ts}, "k_B/site"),
            "E_mc": Estimate(t["e_mc"] / m, ("T",), {"T": Ts}, "W/site"),
            # d<E>/dT: equals Var(H)/(N T^2) in equilibrium; a mismatch flags runs that did not equilibrate
            "C_from_energy": Estimate(np.gradient(t["e_mc"] / m, Ts) if len(Ts) > 1 else np.zeros(len(Ts)),
                                      ("T",), {"T": Ts}, "k_B/site"),
            "acceptance": Estimate(t["acceptance"] / m, ("T",), {"T": Ts}),
        }
        # C_v(T) as one scalar (for the variance split): at the highest T, the best equilibrated
        out["C_mc_at_T_max"] = Estimate(float(t["c_mc"][np.argmax(Ts)]) / m, unit="k_B/site")
        window = (eps >= p["fit_lo"]) & (eps <= p["fit_hi"])
        # the gap DOS as one scalar (for the variance split): mean nu over the bins of the fit window
        out["nu_fit_window"] = Estimate(float(t["gs_hist"][window].sum()) / (2 * sites * np.diff(le)[window].sum())
                                        if window.any() else np.nan, unit="1/(W site)")
        fit = fit_inverse_dos(eps, nu, t["gs_hist"], p["fit_lo"], p["fit_hi"])
        decades = np.arange(np.floor(np.log10(p["eps_min"])), 0)
        slopes = [fit_inverse_dos(eps, nu, t["gs_hist"], 10.0 ** d, 10.0 ** (d + 1)) for d in decades]
        out["slope_by_decade"] = Estimate(np.array([f[0] if f else np.nan for f in slopes]), ("decade",),
                                          {"decade": 10.0 ** decades}, "W site")
        # nan when the data (a jackknife block, one shard) has too few states in the window
        slope, icpt = fit if fit is not None else (np.nan, np.nan)
        nu0 = 1.0                                     # bare DOS 1/W, in units of 1/W
        out["alpha_fit"] = Estimate(slope, unit="W site")
        out["alpha_fit_over_theory"] = Estimate(slope / alpha_dd(p["U0"]) if p["U0"] > 0 else np.nan)
        out["E_Q_fit"] = Estimate(np.exp((1 / nu0 - icpt) / slope) if slope > 0 else np.nan, unit="W")
        nu_T = 1 / (icpt + slope * np.log(1 / Ts))
        out["C_eq13"] = Estimate(np.pi ** 2 / 3 * nu_T * Ts, ("T",), {"T": Ts}, "k_B/site")
        nu_at_T = np.interp(np.log(Ts), np.log(eps), nu)
        out["C_from_gs_dos"] = Estimate(np.pi ** 2 / 3 * nu_at_T * Ts, ("T",), {"T": Ts}, "k_B/site")
        return out

    def plot(self, points, fig):
        from .plot import plot_dipolar

        plot_dipolar(points, fig)


MODEL = FermiGlassDipolar()
