"""Figures: P_R(h_R) (Fig. 2 main), −ImΣ(ω) (Fig. 2 inset), γ(α) phase diagram (Fig. 1, regions
classified from the measured exponents and frozen fractions), ρ(T) − ρ0 and σ(Ω) (Fig. 3)."""
from __future__ import annotations

import numpy as np

_PHASES = {"FL": "#9ecae1", "MFL": "#fdae6b", "NFL": "#fc9272", "frozen/log": "#bdbdbd"}


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


def plot_points(points, fig):
    axs = fig.subplots(2, 3).ravel()
    fig.set_size_inches(16, 9)
    for pt in points:
        lab = f"α={pt.params['alpha']}, β={pt.params['beta']}"
        est = pt.estimates
        if "P_R" in est:
            r = est["P_R"]
            x = 10.0 ** r.coords["log10_hR"]
            ok = r.mean > 0
            line, = axs[0].loglog(x[ok], r.mean[ok], label=lab)
            g, _ = _val(pt, "gamma_theory")
            h, _ = _val(pt, "h_cR")
            if np.isfinite(g) and h > 0:  # analytic h_R^{γ−1}, normalised as γ h^{γ−1}/h_cR^γ
                xs = x[(x < h) & ok]
                axs[0].loglog(xs, g * xs ** (g - 1) / h**g, "--", color=line.get_color(), lw=0.8)
        if "minus_Im_Sigma" in est:
            r = est["minus_Im_Sigma"]
            axs[1].loglog(r.coords["omega"], r.mean, label=lab)
        if "rho_minus_rho0" in est:
            r = est["rho_minus_rho0"]
            ok = r.mean > 0
            axs[3].loglog(r.coords["T"][ok], r.mean[ok], label=lab)
    axs[0].set(xlabel="h_R / E_F", ylabel="P_R(h_R)", title="renormalised distribution (dashed: γ h^{γ-1}/h_cR^γ)")
    axs[1].set(xlabel="ω / E_F", ylabel="−ImΣ(ω) / E_F", title="T = 0 self-energy")
    axs[3].set(xlabel="T / E_F", ylabel="ρ − ρ0", title="resistivity (Kubo, no vertex corr.)")
    # phase diagram from the measured exponents
    ax = axs[2]
    al = np.array([pt.params["alpha"] for pt in points])
    order = np.argsort(al)
    for i in order:
        pt = points[i]
        g, ge = _val(pt, "gamma_sigma")
        fr, _ = _val(pt, "frozen_fraction")
        ph = classify(g, ge, fr, pt.params["alpha"])
        ax.axvspan(al[i] - 0.025, al[i] + 0.025, color=_PHASES[ph], alpha=0.6, lw=0)
        if np.isfinite(g):
            ax.errorbar(al[i], g, yerr=ge if np.isfinite(ge) else None, fmt="ko", ms=4)
        if fr > 0:
            ax.plot(al[i], fr, "ks", mfc="none", ms=5)
    bs = sorted({pt.params["beta"] for pt in points})
    a = np.linspace(0, 1, 101)
    for b in bs:
        ax.plot(a, (1 + b) * (1 - a), "k-", lw=0.8)
        ax.axvline(b / (1 + b), color="k", ls=":", lw=0.8)
    ax.axhline(1.0, color="gray", lw=0.5)
    for name, c in _PHASES.items():
        ax.plot([], [], "s", color=c, label=name)
    ax.plot([], [], "ko", label="fitted γ (ImΣ)")
    ax.plot([], [], "ks", mfc="none", label="frozen fraction")
    ax.set(xlabel="α", ylabel="γ", title="phase diagram: γ = (1+β)(1−α) (line), α_MFL dotted")
    ax.legend(fontsize="x-small")
    # optical conductivity for the first point
    pt = points[0]
    if "sigma_total" in pt.estimates:
        r = pt.estimates["sigma_total"]
        om = r.coords["omega"]
        ax = axs[4]
        ax.loglog(om, pt.estimates["sigma_el"].mean, "k--", label="σ_el")
        for k, d2 in enumerate(r.coords["dipole2"]):
            if d2 > 0:
                ax.loglog(om, pt.estimates["sigma_tls"].mean[k], ":", label=f"σ_TLS d²={d2}")
            ax.loglog(om, r.mean[k], label=f"σ total d²={d2}")
        ax.set(xlabel="Ω / E_F", ylabel="σ(Ω)", title=f"optical conductivity, α={pt.params['alpha']}, β={pt.params['beta']}")
        ax.legend(fontsize="x-small")
    pt_chi = [pt for pt in points if "Im_chi" in pt.estimates]
    for pt in pt_chi:
        r = pt.estimates["Im_chi"]
        axs[5].loglog(r.coords["omega"], r.mean * r.coords["omega"], label=f"α={pt.params['alpha']}")
    axs[5].set(xlabel="ω / E_F", ylabel="ω·Imχ̄(ω)", title="averaged TLS spectrum")
    for ax in (axs[0], axs[1], axs[3]):
        if len(points) > 1:
            ax.legend(fontsize="x-small")
    fig.tight_layout()
