"""chain_ftlm with method = "dqt": accumulators, memory estimate and estimators from summed C(t) tallies.

Outputs match the FTLM ones (same names, T grid and reported w) so specs and plots are shared:
sigma_delta(w) and rho from the Gaussian-filtered Kubo formula of ``correlation`` (anticommutator
form: Re C(t) only, whose typicality noise is beta-suppressed at high T);
omega_L from sigma_delta on a grid of delta/10 refined by a parabola; SW(Lambda) = int_0^Lambda
sigma_delta (the filtered spectrum: within ~delta sigma(Lambda) of the unfiltered FTLM number);
C_int = int C_delta(w) dw (current sum rule, equals J2 to round-off).  No ``drude_thermal``:
the w = 0 weight is inside sigma_delta and not separable at finite t_max.
Kernels depend on the parameters only and are cached, so jackknife replicas cost matrix products.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ensemble.engine.model import Accumulator, Estimate

from . import correlation, spectra
from .typicality import current_bandwidth, time_grid

N_DC = 5
SCALARS = ("Z", "E", "Ekin", "J2", "C0")
VECTORS_IN_FLIGHT = 14  # psi, left, right, work, r and 2 x (2 + substeps) propagator vectors, + slack


def delta_min(params) -> float:
    return min(params["delta"], params["delta_dc_min"])


def _grid(params):
    return time_grid(params["N"], params["g"], params["omega0"], delta_min(params), params["omega_max"])


def dqt_accumulators(params):
    temps = np.asarray(params["T"], dtype=float)
    dt, n_t = _grid(params)
    tc = {"T": temps}
    accs = [Accumulator(s, (len(temps),), ("T",), tc, doc=f"sum_r of the {s} tally") for s in SCALARS]
    tcoords = {"T": temps, "time": dt * np.arange(n_t + 1)}
    for part in ("re", "im"):
        accs.append(Accumulator(f"corr_{part}", (len(temps), n_t + 1), ("T", "time"), tcoords,
                                doc=f"{part} of sum_r <psi_b(t)|J|J psi_b(t)> (Z-weighted C(t))"))
    return accs


def dqt_memory_bytes(params) -> int:
    d = 1 << params["N"]
    dt, n_t = _grid(params)
    tallies = 2 * 16 * (n_t + 1) * len(params["T"])
    return int(16 * d * VECTORS_IN_FLIGHT + tallies + (64 << 20))


@lru_cache(maxsize=8)
def _kernels(temps, delta, dt, n_t, omegas, fine, deltas_dc):
    t = dt * np.arange(n_t + 1)
    out = []
    for temp in temps:
        beta = 1.0 / temp
        entry = {
            "sigma": correlation.sigma_kernel(np.asarray(omegas), t, beta, delta),
            "fine": correlation.sigma_kernel(np.asarray(fine), t, beta, delta),
            "dc": np.concatenate([correlation.sigma_kernel(np.zeros(1), t, beta, dl) for dl in deltas_dc]),
        }
        out.append(entry)
    return out


def dqt_finalize(totals, params):
    temps = np.asarray(params["T"], dtype=float)
    dt, n_t = _grid(params)
    delta = params["delta"]
    z = totals["Z"]
    corr = (totals["corr_re"] + 1j * totals["corr_im"]) / z[:, None]
    _, _, omega = spectra.output_omegas(params["omega_bin"], delta, params["omega_out"])
    w_end = min(params["omega_max"], current_bandwidth(params["g"], params["omega0"]) + 5 * delta)
    hf = delta / 10
    fine = np.arange(int(np.ceil(w_end / hf)) + 1) * hf
    deltas = np.geomspace(params["delta_dc_min"], params["delta_dc_max"], N_DC)
    kers = _kernels(tuple(temps), delta, dt, n_t, tuple(omega), tuple(fine), tuple(deltas))
    def apply(name):
        return np.stack([k[name] @ c.real for k, c in zip(kers, corr)])

    sig, sig_fine, sdc = apply("sigma"), apply("fine"), apply("dc")

    tc = {"T": temps}
    est = {}
    for key in ("E", "Ekin", "J2"):
        est[key] = Estimate(totals[key] / z, ("T",), tc)
    est["C_int"] = Estimate(correlation.spectrum_integral(corr, dt, delta), ("T",), tc)
    est["fsum"] = Estimate(-0.5 * np.pi * totals["Ekin"] / z, ("T",), tc)
    est["sw_total"] = Estimate(np.trapezoid(sig_fine, fine, axis=1), ("T",), tc)
    cut = fine <= params["sw_cutoff"] + 1e-12
    part = np.trapezoid(sig_fine[:, cut], fine[cut], axis=1)
    rest = params["sw_cutoff"] - fine[cut][-1]  # the cutoff between two fine nodes: linear piece
    if rest > 0 and cut.sum() < len(fine):
        j = cut.sum()
        s_end = sig_fine[:, j - 1] + (sig_fine[:, j] - sig_fine[:, j - 1]) * rest / hf
        part += 0.5 * rest * (sig_fine[:, j - 1] + s_end)
    est["sw_partial"] = Estimate(part, ("T",), tc)
    est["sigma"] = Estimate(sig, ("T", "omega"), {"T": temps, "omega": omega})
    out_mask = fine <= params["omega_out"] + 1e-12
    wl = correlation.peak_position(fine[out_mask], sig_fine[:, out_mask], params["peak_min"])
    est["omega_L"] = Estimate(wl, ("T",), tc)
    est["L"] = Estimate(np.sqrt(2.0 / wl), ("T",), tc)
    est["rho_delta"] = Estimate(1.0 / sdc, ("T", "delta_dc"), {"T": temps, "delta_dc": deltas})
    est["rho"] = Estimate(1.0 / sdc[:, N_DC // 2], ("T",), tc)
    return est
