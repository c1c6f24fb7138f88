"""Figures of the seed-003 models (every mark in a legend, units on every axis)."""
from __future__ import annotations

import numpy as np

from ensemble.engine.plotting import point_label, swept_names
from ensemble.engine.registry import get_model

ENERGY_PARAMS = ("W", "t", "T")     # fermi_glass_dos energies follow energy_unit (K or t)


def _units(pt, model_name):
    units = {q.name: q.unit for q in get_model(model_name).params if q.unit}
    if "energy_unit" in pt.params:
        units.update({k: pt.params["energy_unit"] for k in ENERGY_PARAMS})
    return units


def _label(pt, swept, model_name, extra=""):
    shown = swept or [k for k in ("W", "t", "U0") if k in pt.params]     # no sweep: name the model's scales
    base = point_label(pt.params, shown, _units(pt, model_name))
    return f"{base}{extra}"


def _band(ax, x, r, label, **kw):
    line, = ax.plot(x, r.mean, label=label, **kw)
    if np.isfinite(r.stderr).any() and np.nanmax(r.stderr) > 0:
        ax.fill_between(x, r.mean - r.stderr, r.mean + r.stderr, alpha=0.25, color=line.get_color())
    return line


def plot_dos(points, fig):
    swept = swept_names(points)
    axs = fig.subplots(2, 2)
    fig.set_size_inches(11, 8.5)
    has_typ = False
    for pt in points:
        if "nu" not in pt.estimates:
            continue
        e = pt.estimates
        lab = _label(pt, swept, 'fermi_glass_dos')
        E = e["nu"].coords["E"]
        _band(axs[0, 0], E, e["nu"], f"nu(E), {lab}")
        axs[0, 0].axvline(e["eps_F"].mean, ls=":", color="k", label=f"eps_F, {lab}")
        if "typ_over_avg_F" in e:
            r = e["typ_over_avg_F"]
            N = r.coords["resolution"]
            axs[0, 1].errorbar(N, r.mean, r.stderr, fmt="o-", capsize=3, label=f"at eps_F, {lab}")
            has_typ = True
        T = e["C_fermion"].coords["T"]
        line = _band(axs[1, 0], T, type(e["C_fermion"])(e["C_fermion"].mean / T, e["C_fermion"].stderr / T,
                                                        ("T",), {"T": T}), f"fermions, {lab}", marker="o")
        axs[1, 0].plot(T, e["C_tls"].mean / T, "s--", color=line.get_color(), label=f"TLSs, same level density, {lab}")
        axs[1, 0].plot(T, e["C_sommerfeld"].mean / T, ":", color="k", label=f"(pi^2/3) nu(eps_F), {lab}")
        _band(axs[1, 1], T, e["C_ratio"], f"C_fermion / C_TLS, {lab}", marker="o")
    axs[1, 1].axhline(2.0, color="k", ls=":", label="2 (low-T limit)")
    u = points[0].params["energy_unit"] if points else "K"
    if has_typ:
        axs[0, 1].set(xlabel="Chebyshev moments N [1]", ylabel="rho_typ / rho_avg at eps_F [1]", xscale="log",
                      yscale="log", title="typical/average local DOS")
        N = np.array([axs[0, 1].get_xlim()[0] * 1.2, axs[0, 1].get_xlim()[1] / 1.2])
        axs[0, 1].plot(N, 0.3 * N[0] / N, "k:", label="~ 1/N (localized)")
    else:           # no LDOS sites: show instead how flat nu(E) is around eps_F
        for pt in points:
            e = pt.estimates
            if "nu" in e:
                E = e["nu"].coords["E"]
                win = np.abs(E - e["eps_F"].mean) < 20 * e["resolution_width"].mean
                sub = type(e["nu"])(e["nu"].mean[win], e["nu"].stderr[win], ("E",), {})
                _band(axs[0, 1], E[win] - e["eps_F"].mean, sub, f"nu(E), {_label(pt, swept, 'fermi_glass_dos')}")
        axs[0, 1].set(xlabel=f"E - eps_F [{u}]", ylabel=f"nu(E) [1/({u} site)]", xscale="linear", yscale="linear",
                      title="DOS around eps_F (20 KPM widths)")
    axs[0, 0].set(xlabel=f"E [{u}]", ylabel=f"nu(E) [1/({u} site)]", title="Fermi-glass DOS (KPM)")
    axs[1, 0].set(xlabel=f"T [{u}]", ylabel=f"C_v / T [k_B/({u} site)]", xscale="log",
                  title="specific heat: glassons vs TLSs")
    axs[1, 1].set(xlabel=f"T [{u}]", ylabel="C_fermion / C_TLS", xscale="log")
    for ax in axs.flat:
        if ax.get_lines() or ax.collections:
            ax.legend(fontsize="x-small")
    fig.tight_layout()


def plot_dipolar(points, fig):
    swept = swept_names(points)
    has_mc = any("C_mc" in pt.estimates and np.any(pt.estimates["C_mc"].mean > 0) for pt in points)
    axs = fig.subplots(1, 3 if has_mc else 2)
    fig.set_size_inches(15 if has_mc else 10.5, 4.8)
    for pt in points:
        e = pt.estimates
        if "nu" not in e:
            continue
        lab = _label(pt, swept, 'fermi_glass_dipolar')
        eps = e["nu"].coords["eps"]
        ok = e["nu"].mean > 0
        line = axs[0].errorbar(eps[ok], e["nu"].mean[ok], e["nu"].stderr[ok], fmt="o", ms=3,
                               label=f"nu(eps), {lab}")[0]
        x = np.log(1 / eps[ok])
        axs[1].errorbar(x, e["inv_nu"].mean[ok], e["inv_nu"].stderr[ok], fmt="o", ms=3, color=line.get_color(),
                        label=f"1/nu, {lab}")
        if "alpha_fit" in e:
            lo, hi = pt.params["fit_lo"], pt.params["fit_hi"]
            xs = np.log(1 / np.array([hi, lo]))
            a = e["alpha_fit"].mean
            b = np.interp(xs[0], x[::-1], e["inv_nu"].mean[ok][::-1])
            axs[1].plot(xs, b + a * (xs - xs[0]), "-", color=line.get_color(),
                        label=f"fit slope {a:.3g} (Eq. 13 alpha_dd = {e['alpha_dd_theory'].mean:.3g}), {lab}")
        T = e["C_mc"].coords["T"]
        if has_mc and np.any(e["C_mc"].mean > 0):
            _band(axs[2], T, e["C_mc"], f"Metropolis C_v, {lab}", marker="o", color=line.get_color())
            axs[2].plot(T, e["C_bare"].mean, "--", color=line.get_color(), label=f"bare levels (U0=0), {lab}")
            axs[2].plot(T, e["C_from_energy"].mean, "x", color=line.get_color(), label=f"d<E>/dT, {lab}")
            if "C_eq13" in e:
                axs[2].plot(T, e["C_eq13"].mean, ":", color=line.get_color(),
                            label=f"(pi^2/3) nu_fit(T) T (Eq. 13 form), {lab}")
    u = "W"                                    # energies of this model are in units of W
    axs[0].axhline(1.0, color="k", ls=":", label="bare nu0 = 1/W")
    axs[0].set(xscale="log", xlabel=f"|E - mu| [{u}]", ylabel=f"nu [1/({u} site)]", title="dipolar gap (ground states)")
    axs[1].set(xlabel="ln(W / |E - mu|) [1]", ylabel=f"1/nu [{u} site]", title="Eq. (13): 1/nu vs ln(1/eps)")
    if has_mc:
        axs[2].set(xlabel=f"T [{u}]", ylabel="C_v [k_B/site]", xscale="log", yscale="log", title="specific heat")
    for ax in axs:
        ax.legend(fontsize="x-small")
    fig.tight_layout()


def plot_phenomenology(points, fig):
    swept = swept_names(points)
    axs = fig.subplots(1, 2)
    fig.set_size_inches(11, 4.5)
    for pt in points:
        e = pt.estimates
        if "kappa" not in e:
            continue
        lab = _label(pt, swept, 'fermi_glass_phenomenology')
        T = e["kappa"].coords["T"]
        line, = axs[0].plot(T, e["kappa"].mean, "o-", label=f"kappa, glasson band + boundary, {lab}")
        axs[0].plot(T, e["kappa_T2_law"].mean, "--", color=line.get_color(), label=f"T^2 law (Eq. 12, r = 1), {lab}")
        axs[1].plot(T, e["kappa_log_slope"].mean, "o-", color=line.get_color(), label=f"d ln kappa / d ln T, {lab}")
    axs[1].axhline(2, color="k", ls=":", label="2")
    axs[0].set(xscale="log", yscale="log", xlabel="T [K]", ylabel="kappa [erg/(s cm K)]", title="phonon thermal conductivity")
    axs[1].set(xscale="log", xlabel="T [K]", ylabel="d ln kappa / d ln T", title="local exponent")
    for ax in axs:
        ax.legend(fontsize="x-small")
    fig.tight_layout()
