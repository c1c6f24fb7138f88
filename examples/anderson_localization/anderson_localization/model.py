"""1D Anderson model, H psi_i = -(psi_{i+1} + psi_{i-1}) + eps_i psi_i with eps_i uniform in [-W/2, W/2]
(energies in units of the hopping t).  At energy E the ratio r_i = psi_{i+1}/psi_i obeys
r_i = eps_i - E - 1/r_{i-1}, so gamma(E) = lim (1/N) sum_i ln|r_i| is the Lyapunov exponent of the
transfer-matrix product: the inverse localization length 1/xi, in 1/sites."""
from math import gamma as Gamma

import numpy as np
from numba import njit

from ensemble.engine.model import Accumulator, Estimate, Model, Param

KAPPUS_WEGNER = 8 * (Gamma(3 / 4) / Gamma(1 / 4)) ** 2   # gamma / gamma_Thouless at E = 0, weak disorder


@njit(cache=True)
def log_growth(eps, energies, r0):
    """sum_i ln|r_i| along one chain, per energy, from the starting ratio r0 = psi_1/psi_0."""
    out = np.zeros(energies.size)
    for k in range(energies.size):
        r = r0
        for e in eps:
            r = e - energies[k] - 1.0 / r
            out[k] += np.log(abs(r))
    return out


class AndersonChain(Model):
    name = "anderson_1d"
    description = "1D Anderson model: Lyapunov exponent gamma(E) = 1/xi by transfer matrices"
    params = (
        Param("W", float, 1.0, "t", "box disorder: eps_i uniform in [-W/2, W/2]", low=0.0, low_open=True, high=100.0),
        Param("N", int, 100_000, "sites", "chain length of one realization", low=10, high=10**9),
        Param("E", float, [0.0, 0.5, 1.3], "t", "energies inside the band", low=-2.0, high=2.0,
              low_open=True, high_open=True, array=True),
    )

    def accumulators(self, p):
        return [Accumulator("log_growth", (len(p["E"]),), ("E",), {"E": np.asarray(p["E"])}, doc="sum of ln|r_i|"),
                Accumulator("sites", doc="sites summed over")]

    def _sums(self, p, chains):
        """Sums over chains, each (potential, generator of its random starting ratio)."""
        energies = np.asarray(p["E"], dtype=float)
        growth = sum(log_growth(eps, energies, np.tan(np.pi * (rng.random() - 0.5))) for eps, rng in chains)
        return {"log_growth": growth, "sites": float(len(chains) * p["N"])}

    def _potential(self, p, rng):
        return rng.uniform(-p["W"] / 2, p["W"] / 2, p["N"])

    def run_shard(self, p, member_ids, seeds):          # flat: a member is one chain and its start
        rngs = [np.random.default_rng(seed) for seed in seeds]
        return self._sums(p, [(self._potential(p, rng), rng) for rng in rngs])

    def prepare(self, p, seed):                          # two-level: a realization is one potential ...
        return self._potential(p, np.random.default_rng(seed))

    def run_vectors(self, p, eps, vector_ids, seeds):   # ... and its vectors are random starting ratios
        return self._sums(p, [(eps, np.random.default_rng(seed)) for seed in seeds])

    def finalize(self, totals, p):
        energies = np.asarray(p["E"], dtype=float)
        gamma = totals["log_growth"] / totals["sites"]   # a ratio of sums; the jackknife gives its error
        thouless = p["W"] ** 2 / (24 * (4 - energies ** 2))
        on_e = {"dims": ("E",), "coords": {"E": energies}}
        return {"gamma": Estimate(gamma, unit="1/site", **on_e),
                "xi": Estimate(1 / gamma, unit="sites", **on_e),
                "gamma_over_thouless": Estimate(gamma / thouless, **on_e)}

    def memory_bytes(self, p, shard_size):
        return 8 * p["N"] + (160 << 20)                 # the potential; interpreter, numpy and numba

    def plot(self, points, fig):
        ax = fig.add_subplot()
        for pt in points:
            r = pt.estimates["gamma_over_thouless"]
            ax.errorbar(r.coords["E"], r.mean, r.stderr, marker="o", ls="none", label=f"W = {pt.params['W']:g} t")
        ax.axhline(1.0, color="k", lw=0.8, label="Thouless: W²/(24(4-E²))")
        ax.axhline(KAPPUS_WEGNER, color="k", ls="--", lw=0.8, label="Kappus–Wegner, E = 0")
        ax.set(xlabel="E [t]", ylabel="γ / γ_Thouless")
        ax.legend()


MODEL = AndersonChain()
