"""Electron-TLS chain by finite-temperature Lanczos or dynamical typicality (seed 001, Rammal, Ciuchi, Fratini).

H = -t sum_<ij> c+_i c_j + (w0/2) sum_i sigma^z_i - g sum_i n_i sigma^x_i, one electron on a ring
of N sites.  Units t = e = a = hbar = k_B = 1.  Sign of the current: J = -dH/dA with Peierls
phase e^{iA} on forward hops (J = i t sum_x (c+_{x+1} c_x - h.c.)); sigma does not depend on it.

Conventions of the outputs (all thermal averages are FTLM ratio estimates over the members):
  sigma(w, T)  optical conductivity PER PARTICLE, pi (1 - e^{-w/T})/w * C(w), C(w) the current
               spectrum of the total J; the degenerate (w = 0) pairs carry the thermal weight
               (pi/T) <J_nn^2>; Gaussian filter of standard deviation ``delta``.
  rho(T)       1/sigma_delta(w = 0) at delta = sqrt(delta_dc_min * delta_dc_max) (the paper reads
               sigma(w -> 0) of the filtered spectrum); ``rho_delta`` gives it for 5 log-spaced
               delta in [delta_dc_min, delta_dc_max], the paper's error band.
  Ekin, E, J2  <H_kin>, <H>, <J^2> (static FTLM); C_int = int C(w) dw from the dynamical data
               (current sum rule: equals J2); fsum = (pi/2) <-H_kin>.
  sw_total, sw_partial   SW(inf) and SW(sw_cutoff) of Eq. (2), from the unfiltered spectrum.
  omega_L, L   peak of sigma_delta(w) above ``peak_min`` and L/a = sqrt(2t/omega_L).
``method``: "ftlm" (default; Lanczos basis kept, 16 D M bytes, M^2 D cross-matrix work) or "dqt"
(``typicality``: imaginary- then real-time Chebyshev propagation of each start vector, ~14 vectors
of memory, no M; same outputs except ``drude_thermal``, and SW(Lambda) of sigma_delta).
Members are start vectors: member m uses sector K = 2 pi (m mod N)/N (``boundary = "pbc"``, all
sectors equally often when members is a multiple of N) or K uniform in [0, 2 pi) drawn from its
own stream (``"twist"``: twisted-boundary averaging); the random vector is complex Gaussian.
``members_per_T`` (dqt) spends fewer members on the T that need fewer (typically the high T): each T
is propagated on its own, so a member simply skips the T it is not counted at (with pbc, keep the
counts multiples of N so every sector enters equally).
Two-level runs (``realizations`` x ``vectors``): a realization is a sector, ``prepare`` draws the twist
K from the realization's stream (``"twist"``; the same K as flat member r) or takes sector r mod N
(``"pbc"``: strata, see ``strata``); its vectors are start vectors from their own streams (in a
two-level run ``members_per_T`` counts vector ids).  H is matrix-free, so a sector costs nothing to
build: ``setup_cost`` is "cheap".
``rho_at_T_min`` and ``Ekin_at_T_min`` repeat rho and Ekin at the lowest T of the grid as scalars, so
``ensemble show`` can split their variance between and within realizations.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ensemble.engine.model import Accumulator, Estimate, Model, Param, SpecError
from ensemble.engine.seeding import realization_of

from . import spectra, typicality
from .ftlm import BLOCK, tally
from .typicality_estimates import delta_min as _delta_min, dqt_accumulators, dqt_finalize, dqt_memory_bytes

N_DC = 5
SCALARS = ("Z", "E", "Ekin", "J2", "C0")


def _grid(params):
    h = params["omega_bin"]
    nb = int(round(params["omega_max"] / h)) + 1
    return h, nb


@dataclass(frozen=True)
class Sector:
    """One realization of a two-level run: a momentum sector K (a random twist, or PBC sector ``index``)."""

    k: float
    index: int | None = None


def _pbc_momentum(n, index):
    return 2 * np.pi * (int(index) % n) / n


def _random_twist(rng):
    return float(rng.uniform(0.0, 2 * np.pi))


def _sector(params, member_id, rng):
    if params["boundary"] == "pbc":
        return _pbc_momentum(params["N"], member_id)
    return _random_twist(rng)


def random_start_vector(n, rng):
    """The complex Gaussian start vector of one member (the next 2 x 2^n normals of its stream)."""
    d = 1 << n
    return rng.standard_normal(d) + 1j * rng.standard_normal(d)


def add_lowest_temperature_scalars(est, temps):
    """rho and Ekin at the lowest T as scalar estimators (the engine splits only scalar variances)."""
    coldest = int(np.argmin(temps))
    est["rho_at_T_min"] = Estimate(np.asarray(est["rho"].value)[coldest])
    est["Ekin_at_T_min"] = Estimate(np.asarray(est["Ekin"].value)[coldest])
    return est


def _temperatures_of_member(params, member_id):
    """Indices of the T that member ``member_id`` contributes to (``members_per_T``; dqt only).

    A member left out of a T adds zero to both the numerator and Z there, so every ratio estimate,
    and the jackknife over shards, stays valid (the jackknife error is then slightly conservative).
    """
    n_temps = len(params["T"])
    per_t = list(params["members_per_T"])
    if per_t == [0]:
        return np.arange(n_temps)
    return np.array([i for i, cap in enumerate(per_t) if cap == 0 or member_id < cap], dtype=int)


class ChainFTLM(Model):
    name = "chain_ftlm"
    description = "one electron + TLS chain: sigma(w,T), rho(T) by finite-temperature Lanczos or typicality"
    params = (
        Param("N", int, 12, doc="chain length N_s (sector dimension 2^N)", low=3, high=30),
        Param("g", float, 1.0, unit="t", doc="electron-TLS coupling", low=0.0),
        Param("omega0", float, 0.5, unit="t", doc="TLS splitting (Rabi frequency)", low=0.0),
        Param("T", float, [0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0], unit="t", array=True,
              doc="temperature grid", low=0.0, low_open=True),
        Param("M", int, 1200, doc="Lanczos steps per run (capped at the sector dimension)", low=2),
        Param("boundary", str, "pbc", choices=("pbc", "twist"), doc="all PBC sectors or random twist"),
        Param("delta", float, 0.04, unit="t", doc="Gaussian filter width (std) of sigma(w)", low=0.0, low_open=True),
        Param("delta_dc_min", float, 0.008, unit="t", doc="smallest filter width for rho", low=0.0, low_open=True),
        Param("delta_dc_max", float, 0.04, unit="t", doc="largest filter width for rho", low=0.0, low_open=True),
        Param("omega_bin", float, 0.001, unit="t", doc="histogram bin of the frequency grid", low=1e-5),
        Param("omega_max", float, 8.0, unit="t", doc="frequency grid end (weight beyond is kept in SW total)",
              low=0.0, low_open=True),
        Param("omega_out", float, 4.0, unit="t", doc="sigma(w) is reported on [0, omega_out]", low=0.0, low_open=True),
        Param("sw_cutoff", float, 0.25, unit="t", doc="Lambda of the partial spectral weight", low=0.0),
        Param("peak_min", float, 0.1, unit="t", doc="omega_L is the sigma maximum above this", low=0.0),
        Param("reorth", bool, False, doc="full reorthogonalization (exact-arithmetic checks only)"),
        Param("method", str, "ftlm", choices=("ftlm", "dqt"),
              doc="ftlm: Lanczos (memory 16 D M); dqt: Chebyshev typicality (memory ~14 D vectors)"),
        Param("members_per_T", int, [0], array=True, low=0,
              doc="dqt: members m < n_i contribute to the i-th T (one n per T; 0 or [0]: all members)"),
    )

    def check(self, params):
        h = params["omega_bin"]
        for key in ("delta", "delta_dc_min", "delta_dc_max"):
            if params[key] < 2 * h:
                raise SpecError(f"params.{key} = {params[key]}: must be >= 2 * omega_bin = {2 * h}")
        if params["delta_dc_min"] > params["delta_dc_max"]:
            raise SpecError("params.delta_dc_min: must not exceed delta_dc_max")
        if params["omega_max"] / h > 2e5:
            raise SpecError(f"params.omega_bin = {h}: more than 2e5 bins up to omega_max; use a coarser bin")
        tmin = min(params["T"])
        if tmin < params["g"] / 600.0:
            raise SpecError(f"params.T: {tmin} < g/600 underflows the Boltzmann weights; raise the lowest T")
        if params["omega_out"] > params["omega_max"]:
            raise SpecError("params.omega_out: must not exceed omega_max")
        per_t = params["members_per_T"]
        if list(per_t) != [0]:
            if params["method"] != "dqt":
                raise SpecError("params.members_per_T: only method dqt propagates each T on its own")
            if len(per_t) != len(params["T"]):
                raise SpecError(f"params.members_per_T: {len(per_t)} values for {len(params['T'])} temperatures")
        if params["method"] == "dqt" and tmin < 4 * _delta_min(params) / np.pi:
            # the Kubo kernel decays like the time window only for t < pi T/delta^2 (correlation.py)
            raise SpecError(f"params.T: {tmin} < 4 delta/pi = {4 * _delta_min(params) / np.pi:.4g} is too cold "
                            "for method dqt at this delta; raise the lowest T or delta")

    # ----- accumulators -----
    def accumulators(self, params):
        if params["method"] == "dqt":
            return dqt_accumulators(params)
        temps = np.asarray(params["T"], dtype=float)
        h, nb = _grid(params)
        tc = {"T": temps}
        accs = [Accumulator(s, (len(temps),), ("T",), tc, doc=f"sum_r of the {s} tally") for s in SCALARS]
        accs.append(Accumulator("sigma_over", (len(temps),), ("T",), tc, doc="sigma weight beyond omega_max"))
        accs.append(Accumulator("sigma_hist", (len(temps), nb), ("T", "omega_node"),
                                {"T": temps, "omega_node": np.arange(nb) * h},
                                doc="folded CIC histogram of sigma weights times Z"))
        return accs

    def start_vector_sums(self, params, starts):
        """Sums of the tallies of ``starts``, an iterable of (member or vector id, K, start vector r)."""
        n = params["N"]
        temps = np.asarray(params["T"], dtype=float)
        h, nb = _grid(params)
        totals = self.zero_sums(params)
        dqt = params["method"] == "dqt"
        if dqt:
            dt, n_t = typicality.time_grid(n, params["g"], params["omega0"], _delta_min(params),
                                           params["omega_max"])
        for mid, k, r in starts:
            if dqt:
                used = _temperatures_of_member(params, mid)
                if len(used) == 0:
                    continue
                part = typicality.tally(n, k, params["g"], params["omega0"], r, temps[used], dt, n_t)
                out = {key: np.zeros(totals[key].shape) for key in part}
                for key, val in part.items():
                    out[key][used] = val
            else:
                out = tally(n, k, params["g"], params["omega0"], r, params["M"], temps, h, nb,
                            reorth=params["reorth"])
            for key, val in out.items():
                totals[key] += val
        return totals

    def run_shard(self, params, member_ids, seeds):
        def starts():
            for mid, seed in zip(member_ids, seeds):
                rng = np.random.default_rng(seed)
                k = _sector(params, mid, rng)  # drawn before the vector: the flat stream's order
                yield mid, k, random_start_vector(params["N"], rng)

        return self.start_vector_sums(params, starts())

    # ----- two-level members: realization = sector, vectors = start vectors -----
    def prepare(self, params, seed):
        if params["boundary"] == "pbc":
            index = realization_of(seed) % params["N"]  # realization r of the run is sector r mod N
            return Sector(_pbc_momentum(params["N"], index), index)
        return Sector(_random_twist(np.random.default_rng(seed)))

    def strata(self, params):
        return params["N"] if params["boundary"] == "pbc" else 0

    def run_vectors(self, params, realization, vector_ids, seeds):
        starts = ((vid, realization.k, random_start_vector(params["N"], np.random.default_rng(seed)))
                  for vid, seed in zip(vector_ids, seeds))
        return self.start_vector_sums(params, starts)

    def memory_bytes(self, params, shard_size):
        if params["method"] == "dqt":
            return dqt_memory_bytes(params)
        d = 1 << params["N"]
        m = min(params["M"], d)
        # run-1 basis (+ run-2 basis with reorth), GEMM block and its conjugate copy, ~16 work vectors;
        # checked at N = 22 (M = 300: 25.5 GB est., 24.4 GB peak RSS) and N = 24 (M = 80: 42.9 vs 39.5 GB)
        vectors = m * (2 if params["reorth"] else 1) + 2 * BLOCK + 16
        small = 6 * m * m * 16  # X, Ritz products, eigenvectors
        h, nb = _grid(params)
        hist = 3 * len(params["T"]) * nb * 8
        return int(16 * d * vectors + small + hist + (64 << 20))

    # ----- estimators -----
    def finalize(self, totals, params):
        if params["method"] == "dqt":
            return add_lowest_temperature_scalars(dqt_finalize(totals, params), params["T"])
        temps = np.asarray(params["T"], dtype=float)
        h, nb = _grid(params)
        z = totals["Z"]
        weights = spectra.unfolded_weights(totals["sigma_hist"] / z[:, None])
        over = 0.5 * totals["sigma_over"] / z
        tc = {"T": temps}
        est = {}
        for key in ("E", "Ekin", "J2"):
            est[key] = Estimate(totals[key] / z, ("T",), tc)
        est["C_int"] = Estimate(totals["C0"] / z, ("T",), tc)
        est["fsum"] = Estimate(-0.5 * np.pi * totals["Ekin"] / z, ("T",), tc)
        est["sw_total"] = Estimate(spectra.spectral_weight(weights, h, np.inf) + over, ("T",), tc)
        est["sw_partial"] = Estimate(spectra.spectral_weight(weights, h, params["sw_cutoff"]), ("T",), tc)
        est["drude_thermal"] = Estimate(weights[:, 0].copy(), ("T",), tc)  # D of D delta(w)

        nout, stride, omega = spectra.output_omegas(h, params["delta"], params["omega_out"])
        sig_full = spectra.broadened(weights, h, params["delta"])
        est["sigma"] = Estimate(sig_full[:, :nout:stride], ("T", "omega"), {"T": temps, "omega": omega})
        wl = spectra.peak_position(sig_full[:, :nout], h, params["peak_min"])
        est["omega_L"] = Estimate(wl, ("T",), tc)
        est["L"] = Estimate(np.sqrt(2.0 / wl), ("T",), tc)

        deltas = np.geomspace(params["delta_dc_min"], params["delta_dc_max"], N_DC)
        sdc = np.stack([spectra.sigma_at_zero(weights, h, dl) for dl in deltas], axis=1)
        est["rho_delta"] = Estimate(1.0 / sdc, ("T", "delta_dc"), {"T": temps, "delta_dc": deltas})
        est["rho"] = Estimate(1.0 / sdc[:, N_DC // 2], ("T",), tc)
        return add_lowest_temperature_scalars(est, temps)

    def plot(self, points, fig):
        from .plot import plot_points

        plot_points(points, fig)


MODEL = ChainFTLM()
