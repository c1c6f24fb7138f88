"""Figures: P_R(h_R) (Fig. 2 main), −ImΣ(ω) (Fig. 2 inset), γ(α) phase diagram (Fig. 1, regions
classified from the measured exponents and frozen fractions), ρ(T) − ρ0 and σ(Ω) (Fig. 3).

Conductivities are in units of σ0 = e²ρ_F v_F²/d, resistivities in 1/σ0, energies in E_F."""
from __future__ import annotations

import numpy as np

from ensemble.engine.plotting import legend, param_units, point_label, swept_names

_PHASES = {"FL": "#9ecae1", "MFL": "#fdae6b", "NFL": "#fc9272", "frozen/log": "#bdbdbd"}
SIGMA = "σ(Ω) [σ0 = e²ρ_F v_F²/d]"


def classify(gamma, gamma_err, frozen, alpha):
    """Phase of one point from measured quantities: frozen if any TLS froze, else by γ vs 1."""
    if frozen > 0 or alpha >= 1.0 or not np.isfinite(gamma):
        return "frozen/log"
    if abs(gamma - 1.0) <= max(2 * gamma_err, 0.02):
        return "MFL"
    return "FL" if gamma > 1.0 else "NFL"


def _val(pt, name):
    r = pt.estimates.get(name)
    return (np.nan, np.nan) if r is None else (float(np.asarray(r.mean)), float(np.asarray(r.stderr)))


SYMBOLS = {"alpha": "α", "beta": "β", "h_c": "h_c", "gamma0": "Γ0", "m_over_n": "M/N"}


def _labeler(points):
    """Label maker: α, β and whatever else the run sweeps, with units."""
    from . import MODEL

    units = param_units(MODEL.params)
    keys = ["alpha", "beta"] + [k for k in swept_names(points) if k not in ("alpha", "beta", "dipole2")]
    return lambda pt: point_label(pt.params, keys, units, SYMBOLS)


def plot_points(points, fig):
    axs = fig.subplots(2, 3).ravel()
    fig.set_size_inches(16, 9)
    analytic = False
    _label = _labeler(points)
    for pt in points:
        est = pt.estimates
        if "P_R" in est:
            r = est["P_R"]
            x = 10.0 ** r.coords["log10_hR"]
            ok = r.mean > 0
            line, = axs[0].loglog(x[ok], r.mean[ok], label=_label(pt))
            g, _ = _val(pt, "gamma_theory")
            h, _ = _val(pt, "h_cR")
            if np.isfinite(g) and h > 0:  # analytic h_R^{γ−1}, normalised as γ h^{γ−1}/h_cR^γ
                xs = x[(x < h) & ok]
                axs[0].loglog(xs, g * xs ** (g - 1) / h**g, "--", color=line.get_color(), lw=0.8)
                analytic = True
        if "minus_Im_Sigma" in est:
            r = est["minus_Im_Sigma"]
            axs[1].loglog(r.coords["omega"], r.mean, label=_label(pt))
        if "rho_minus_rho0" in est:
            r = est["rho_minus_rho0"]
            ok = r.mean > 0
            axs[3].loglog(r.coords["T"][ok], r.mean[ok], label=_label(pt))
    axs[0].set(xlabel="h_R / E_F", ylabel="P_R(h_R) [1/E_F]", title="renormalised field distribution")
    axs[1].set(xlabel="ω / E_F", ylabel="−ImΣ(ω) / E_F", title="T = 0 self-energy")
    axs[3].set(xlabel="T / E_F", ylabel="ρ − ρ0 [1/σ0]", title="resistivity (Kubo, no vertex corr.)")
    _plot_phases(axs[2], points)
    _plot_sigma(axs[4], points[0], _label(points[0]))
    for pt in points:
        if "Im_chi" in pt.estimates:
            r = pt.estimates["Im_chi"]
            axs[5].loglog(r.coords["omega"], r.mean * r.coords["omega"], label=_label(pt))
    axs[5].set(xlabel="ω / E_F", ylabel="ω·Imχ̄(ω) (dimensionless)", title="averaged TLS spectrum")
    key = [("-", "measured"), ("--", "analytic γ h^(γ−1)/h_cR^γ")] if analytic else None
    legend(axs[0], key=key, fontsize="x-small")
    for ax in (axs[1], axs[3], axs[5]):
        legend(ax, fontsize="x-small")
    fig.tight_layout()


def _plot_phases(ax, points):
    """Phase of each point from its measured exponent, on the analytic γ(α) line."""
    al = np.array([pt.params["alpha"] for pt in points])
    for i in np.argsort(al):
        pt = points[i]
        g, ge = _val(pt, "gamma_sigma")
        fr, _ = _val(pt, "frozen_fraction")
        ph = classify(g, ge, fr, pt.params["alpha"])
        ax.axvspan(al[i] - 0.025, al[i] + 0.025, color=_PHASES[ph], alpha=0.6, lw=0)
        if np.isfinite(g):
            ax.errorbar(al[i], g, yerr=ge if np.isfinite(ge) else None, fmt="ko", ms=4)
        if fr > 0:
            ax.plot(al[i], fr, "ks", mfc="none", ms=5)
    a = np.linspace(0, 1, 101)
    for k, b in enumerate(sorted({pt.params["beta"] for pt in points})):
        ax.plot(a, (1 + b) * (1 - a), "k-", lw=0.8, label="γ = (1+β)(1−α)" if k == 0 else None)
        ax.axvline(b / (1 + b), color="k", ls=":", lw=0.8, label="α_MFL = β/(1+β)" if k == 0 else None)
    ax.axhline(1.0, color="gray", lw=0.5, label="γ = 1")
    for name, c in _PHASES.items():
        ax.plot([], [], "s", color=c, label=name)
    ax.plot([], [], "ko", label="fitted γ (ImΣ)")
    ax.plot([], [], "ks", mfc="none", label="frozen fraction")
    ax.set(xlabel="α (dimensionless coupling)", ylabel="γ (dimensionless), frozen fraction",
           title="phase diagram from the measured exponents")
    legend(ax, fontsize="x-small")


def _plot_sigma(ax, pt, label):
    """Optical conductivity of the first point: electrons alone, TLS part and total per dipole strength."""
    if "sigma_total" not in pt.estimates:
        ax.set_axis_off()
        return
    r = pt.estimates["sigma_total"]
    om = r.coords["omega"]
    for k, d2 in enumerate(r.coords["dipole2"]):
        line, = ax.loglog(om, r.mean[k], label=f"σ total, d² = {d2:g}")
        if d2 > 0:
            ax.loglog(om, pt.estimates["sigma_tls"].mean[k], ":", color=line.get_color(), label=f"σ_TLS, d² = {d2:g}")
    # drawn last, on top: the totals at small d² lie on it
    ax.loglog(om, pt.estimates["sigma_el"].mean, "k--", lw=1.2, zorder=5, label="σ_el (electrons only)")
    ax.set(xlabel="Ω / E_F", ylabel=SIGMA, title=f"optical conductivity, {label}")
    legend(ax, fontsize="x-small")
