"""Model fermi_glass_dos: the non-interacting Fermi glass of seed 003, Eq. (2), by KPM.

An ensemble member is a (disorder realization, random vector) pair.  A realization (site energies,
bonds) is built once by ``prepare`` and reused by ``run_vectors`` for all its vectors.  Per vector:
the stochastic-trace Chebyshev moments of one random vector and the moments of ``ldos_sites``
local densities of states <i|T_n|i> at random sites (for the typical DOS exp<ln rho_i(E)>).
All accumulators are sums over vectors, so the kernel and the number of moments used for nu(E) are
finalize-time choices, and between/within-realization variance components can be formed from them.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ensemble.engine.model import Accumulator, Estimate, Model, Param, SpecError

from . import kpm, thermo
from .lattice import build, kpm_scale, memory_bytes, spectral_bound

LDOS_FLOOR = 1e-10   # rho_i below floor/a counts as floor/a in ln rho_i (Jackson rho_i >= 0)


def resolutions(n_moments: int) -> np.ndarray:
    """Moment counts at which the typical DOS is recorded (localization shows as rho_typ ~ 1/N)."""
    return np.array([m for m in (n_moments // 8, n_moments // 4, n_moments // 2, n_moments) if m >= 2])


@lru_cache(maxsize=8)
def _tables(n_moments: int, n_energies: int, bound: float, scale: float):
    E = np.linspace(-bound, bound, n_energies)
    return E, kpm.chebyshev_matrix(E / scale, n_moments)


class FermiGlassDOS(Model):
    name = "fermi_glass_dos"
    description = "Fermi glass (Anderson model, seed 003 Eq. 2): KPM nu(E), typical DOS, C_v(T) fermions vs TLSs"
    setup_cost = "cheap"
    params = (
        Param("L", int, 20, "sites", "linear size of the periodic simple-cubic lattice (L^3 sites)", low=2, high=4000),
        Param("W", float, 100.0, "K", "disorder width (in t when energy_unit = 't'): eps_i uniform in [-W/2, W/2] (Gaussian: same variance)",
              low=0.0, low_open=True, high=1e9),
        Param("t", float, 1.0, "K", "nearest-neighbour hopping", low=0.0, high=1e9),
        Param("t_spread", float, 0.0, "", "random hopping: t_ij uniform in t*[1-s, 1+s]", low=0.0, high=1.0,
              high_open=True),
        Param("distribution", str, "uniform", "", "site-energy distribution", choices=("uniform", "gaussian")),
        Param("energy_unit", str, "K", "", "unit of W, t, T, E: kelvin (k_B = 1) or the hopping t (then t = 1)",
              choices=("K", "t")),
        Param("moments", int, 1024, "", "Chebyshev moments computed (even)", low=2, high=1 << 20),
        Param("kernel", str, "jackson", "", "KPM kernel used by finalize", choices=("jackson", "lorentz")),
        Param("lorentz_lambda", float, 4.0, "", "Lorentz kernel parameter", low=0.5, high=100.0),
        Param("kernel_moments", int, 0, "", "moments used by finalize for nu(E) (0: all)", low=0),
        Param("vector_kind", str, "rademacher", "", "random vector entries", choices=("rademacher", "phase")),
        Param("ldos_sites", int, 1, "", "local-DOS sites per vector (typical DOS)", low=0, high=10**4),
        Param("n_energies", int, 801, "", "energy grid points on [-bound, bound]", low=16, high=10**5),
        Param("filling", float, 0.5, "", "particles per site", low=0.0, high=1.0, low_open=True, high_open=True),
        Param("T", float, [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0], "K", "temperatures for C_v",
              low=0.0, low_open=True, high=1e9, array=True),
    )

    # ----- helpers -----
    def _scale(self, p):
        return kpm_scale(p["W"], p["t"], p["t_spread"], p["distribution"])

    def _bound(self, p):
        return spectral_bound(p["W"], p["t"], p["t_spread"], p["distribution"])

    def _grid(self, p):
        return _tables(p["moments"], p["n_energies"], self._bound(p), self._scale(p))

    def check(self, p):
        if p["moments"] % 2:
            raise SpecError(f"params.moments = {p['moments']}: must be even")
        if p["kernel_moments"] > p["moments"] or (0 < p["kernel_moments"] < 2):
            raise SpecError(f"params.kernel_moments = {p['kernel_moments']}: allowed 0 (all) or 2..moments")
        if p["energy_unit"] == "t" and p["t"] != 1.0:
            raise SpecError(f"params.t = {p['t']}: energy_unit = 't' measures energies in t, so t must be 1")

    def memory_bytes(self, p, shard_size):
        n_res = len(resolutions(p["moments"]))
        tables = 8 * p["moments"] * p["n_energies"] * 2 + 8 * 4 * n_res * p["n_energies"]
        return memory_bytes(p["L"], p["t_spread"]) + tables + (96 << 20)

    def accumulators(self, p):
        M, nE = p["moments"], p["n_energies"]
        E, _ = self._grid(p)
        res = resolutions(M)
        n = {"n": np.arange(M)}
        e = {"E": E}
        return [
            Accumulator("mu", (M,), ("n",), n, doc="sum over vectors of <r|T_n(H/a)|r>/L^3"),
            Accumulator("mu_sq", (M,), ("n",), n, doc="sum over vectors of the squared per-vector moments"),
            Accumulator("mu_ldos", (M,), ("n",), n, doc="sum over LDOS sites of <i|T_n(H/a)|i>"),
            Accumulator("ldos_count", dtype="int64", doc="number of LDOS sites summed"),
            Accumulator("nu_vec", (nE,), ("E",), e, unit="1/energy", doc="sum of per-vector nu(E) (Jackson, all moments)"),
            Accumulator("nu_vec_sq", (nE,), ("E",), e, unit="1/energy^2", doc="sum of squared per-vector nu(E)"),
            Accumulator("log_ldos", (len(res), nE), ("resolution", "E"), {"resolution": res, **e},
                        doc="sum over LDOS sites of ln(a rho_i(E)), Jackson kernel with `resolution` moments"),
            Accumulator("ldos_sum", (len(res), nE), ("resolution", "E"), {"resolution": res, **e}, unit="1/energy",
                        doc="sum over LDOS sites of rho_i(E), same kernels"),
        ]

    # ----- two-level members -----
    def prepare(self, p, seed):
        return build(np.random.default_rng(seed), p["L"], p["W"], p["t"], p["t_spread"], p["distribution"])

    def run_vectors(self, p, h, vector_ids, seeds):
        M = p["moments"]
        E, tn = self._grid(p)
        res = resolutions(M)
        g_full = kpm.kernel(M, "jackson")
        g_res = [kpm.kernel(m, "jackson") for m in res]
        out = self.zero_sums(p)
        n = h.n_sites
        for seed in seeds:
            rng = np.random.default_rng(seed)
            mu = sum(kpm.moments(h, r, M) for r in kpm.random_vector(rng, n, p["vector_kind"])) / n
            out["mu"] += mu
            out["mu_sq"] += mu * mu
            nu = kpm.density_on(E, mu, g_full, h.scale, tn)
            out["nu_vec"] += nu
            out["nu_vec_sq"] += nu * nu
            for site in rng.integers(0, n, p["ldos_sites"]):
                unit = np.zeros(n)
                unit[site] = 1.0
                mu_i = kpm.moments(h, unit, M)
                out["mu_ldos"] += mu_i
                out["ldos_count"] += 1
                for k, (m, g) in enumerate(zip(res, g_res)):
                    rho = kpm.density_on(E, mu_i[:m], g, h.scale, tn[:m])
                    out["ldos_sum"][k] += rho
                    out["log_ldos"][k] += np.log(np.maximum(rho * h.scale, LDOS_FLOOR))
        return out

    def run_shard(self, p, member_ids, seeds):
        """Flat members: one realization per member, its vector 0 (seeded as vector 0 of that
        realization in a two-level run)."""
        out = None
        for seed in seeds:
            h = self.prepare(p, seed)
            part = self.run_vectors(p, h, np.array([0]), [np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key + (0,))])
            out = part if out is None else {k: out[k] + part[k] for k in out}
        return out

    # ----- estimators -----
    def dos(self, totals, p) -> kpm.ChebDOS:
        M = p["kernel_moments"] or p["moments"]
        mu = np.asarray(totals["mu"], dtype=float)[:M] / float(totals["members"])
        return kpm.ChebDOS(mu, kpm.kernel(M, p["kernel"], p["lorentz_lambda"]), self._scale(p))

    def finalize(self, t, p):
        members = float(t["members"])
        E, _ = self._grid(p)
        scale = self._scale(p)
        res = resolutions(p["moments"])
        dos = self.dos(t, p)
        nu = dos.density(E)
        nu_vec_mean = t["nu_vec"] / members
        nu_member_var = np.maximum(t["nu_vec_sq"] / members - nu_vec_mean ** 2, 0.0)
        eps_F = dos.energy_at_count(p["filling"])
        nu_F = float(dos.density(eps_F))
        Ts = np.asarray(p["T"], dtype=float)
        C_f, mu_T = np.array([thermo.fermion_heat_capacity(dos, p["filling"], T) for T in Ts]).T
        C_tls = np.array([thermo.tls_heat_capacity(dos, eps_F, T) for T in Ts])
        unit = p["energy_unit"]
        eE = ("E",)
        cE = {"E": E}
        rT = {"resolution": res, "E": E}
        out = {
            "nu": Estimate(nu, eE, cE, f"1/({unit} site)"),
            "nu_member_sd": Estimate(np.sqrt(nu_member_var), eE, cE, f"1/({unit} site)"),
            "moments": Estimate(t["mu"] / members, ("n",), {"n": np.arange(p["moments"])}),
            "eps_F": Estimate(eps_F, unit=unit),
            "nu_F": Estimate(nu_F, unit=f"1/({unit} site)"),
            "resolution_width": Estimate(kpm.resolution(p["kernel_moments"] or p["moments"], scale, p["kernel"],
                                                        p["lorentz_lambda"]), unit=unit, jackknife=False),
            "T": Estimate(Ts, ("T",), {"T": Ts}, unit, jackknife=False),
            "C_fermion": Estimate(C_f, ("T",), {"T": Ts}, "k_B/site"),
            "C_tls": Estimate(C_tls, ("T",), {"T": Ts}, "k_B/site"),
            "C_ratio": Estimate(C_f / np.where(C_tls > 0, C_tls, np.nan), ("T",), {"T": Ts}),
            "C_sommerfeld": Estimate(thermo.SOMMERFELD * nu_F * Ts, ("T",), {"T": Ts}, "k_B/site"),
            "mu_T": Estimate(mu_T, ("T",), {"T": Ts}, unit),
        }
        n_ldos = float(t["ldos_count"])
        if n_ldos > 0:
            typ = np.exp(t["log_ldos"] / n_ldos) / scale
            avg = t["ldos_sum"] / n_ldos
            out["rho_typ"] = Estimate(typ, ("resolution", "E"), rT, f"1/({unit} site)")
            out["rho_avg"] = Estimate(avg, ("resolution", "E"), rT, f"1/({unit} site)")
            out["typ_over_avg"] = Estimate(typ / np.where(avg > 0, avg, np.nan), ("resolution", "E"), rT)
            i_F = int(np.argmin(np.abs(E - eps_F)))
            out["typ_over_avg_F"] = Estimate(typ[:, i_F] / avg[:, i_F], ("resolution",), {"resolution": res})
        return out

    def plot(self, points, fig):
        from .plot import plot_dos

        plot_dos(points, fig)


MODEL = FermiGlassDOS()
