"""Every model's figure explains itself: axis labels, a legend entry for every drawn mark, units on the
labels of swept parameters, and log axes that stop at the data that matter."""
import functools

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from ensemble.engine.inprocess import run_in_process
from ensemble.engine.plotting import TITLE_WIDTH, default_plot, figure_title, log_floor, point_label
from ensemble.engine.spec import spec_from_dict
from ensemble.engine.registry import get_model

# (model, params of a tiny run with some sweeps, members)
CASES = {
    "tls_C_and_entropy": ("tls_dynamics", {"N": [4, 5], "eps_diss": [0.0, 1.0], "n_t": 40, "entropy": True}, 4),
    "tls_units": ("tls_dynamics", {"N": 4, "Delta_bar": [0.03, 0.3], "T": [0.0, 1.0], "n_t": 20}, 2),
    "tls_haar": ("tls_dynamics", {"mode": "haar", "N": [2, 3, 4]}, 20),
    "large_n": ("large_n_tls", {"alpha": [0.5, 1.1], "h_c": [0.3, 0.4], "fields": 200, "n_omega": 30,
                                "n_temp": 10, "n_bins": 50}, 2),
    "stau": ("stau_dipolar_gap", {"L": 3, "x": 0.25, "a_tilde": [0.0, 2.0], "bins": 60}, 4),
    "ftlm": ("chain_ftlm", {"N": 5, "omega0": [0.2, 0.5], "M": 20, "T": [0.5, 1.0]}, 2),
    "dmft": ("chain_dmft", {"omega0": [0.5, 1.0], "T": [0.0, 0.5, 1.0], "omega_max": 1.0, "opt_step": 0.05}, 1),
    "static": ("chain_static", {"N": 60, "T": [0.5, 1.0], "p": [0.05, 0.2, 0.5], "g": [0.5, 1.0]}, 2),
    "fermi_glass_dos": ("fermi_glass_dos", {"L": 5, "moments": 32, "W": [10.0, 20.0], "n_energies": 33,
                                            "ldos_sites": 1, "T": [0.5, 2.0]}, 2),
    "fermi_glass_dipolar": ("fermi_glass_dipolar", {"L": 4, "U0": [0.0, 0.5], "sweeps": 20, "sweeps_eq": 5,
                                                    "T": [0.05, 0.1], "fit_hi": 0.3}, 2),
    "fermi_glass_phenomenology": ("fermi_glass_phenomenology", {"L": 6, "moments": 32, "T": [0.5, 1.0]}, 1),
    "spin_boson_nrg": ("spin_boson_nrg", {"alpha": [0.3, 0.5], "keep": 60, "shells": 40, "n_x": 33, "x_max": 100.0,
                                          "h_target": 1e-4, "t_over_hr": [0.0, 1.0]}, 2),
    "default": ("normal_mean", {"sigma": 1.0, "sleep_s": [0.0, 0.001], "draws": 20}, 2),
}
# a_tilde's declared unit names another parameter (r_unit); the figure spells that length out
UNIT_TEXT = {("stau_dipolar_gap", "a_tilde"): "cell sides"}


@functools.lru_cache(maxsize=None)
def _draw(case):
    model_name, params, members = CASES[case]
    points = run_in_process(model_name, params, members, max(1, members // 2), seed=1)
    fig = Figure(figsize=(10, 6.5))
    get_model(model_name).plot(points, fig)
    return model_name, params, points, fig


@pytest.fixture(params=sorted(CASES))
def drawn(request):
    return _draw(request.param)


def _legends(fig):
    return [c for ax in fig.axes for c in ax.get_children() if isinstance(c, Legend)]


def _has_data(line):
    x, y = (np.asarray(v, float) for v in line.get_data())
    return line.get_visible() and x.size and np.isfinite(x).any() and np.isfinite(y).any()


def _is_drawn(line):
    return line.get_linestyle() not in ("None", "", " ") or line.get_marker() not in ("None", "", " ", None)


def test_every_axis_is_labelled(drawn):
    _, _, _, fig = drawn
    for ax in fig.axes:
        if ax.axison and (ax.lines or ax.collections):
            assert ax.get_xlabel().strip() and ax.get_ylabel().strip(), ax.get_title()


def _rgba(artist):
    from matplotlib.colors import to_rgba

    get = getattr(artist, "get_color", None) or getattr(artist, "get_facecolor", None)
    c = get() if get else None
    if c is None or (isinstance(c, np.ndarray) and c.ndim == 2 and len(c) != 1):
        return None
    return tuple(np.round(to_rgba(c[0] if isinstance(c, np.ndarray) and c.ndim == 2 else c), 3))


def test_every_mark_is_in_a_legend(drawn):
    """A drawn line is explained by a legend entry with its own label and colour, by the labelled error-bar
    series it belongs to, or by a style-key entry of the same line style and marker together with a
    legend entry of the same colour (style and colour each have to be keyed)."""
    _, _, _, fig = drawn
    legends = _legends(fig)
    entries = [(t.get_text(), h) for lg in legends for t, h in zip(lg.get_texts(), lg.legend_handles)]
    texts = {t for t, _ in entries}
    by_label = {(t, _rgba(h)) for t, h in entries}
    styles = {(h.get_linestyle(), h.get_marker()) for _, h in entries
              if hasattr(h, "get_linestyle") and hasattr(h, "get_marker")}
    colours = {_rgba(h) for _, h in entries} - {None}
    for ax in fig.axes:
        in_series = {id(ln) for c in ax.containers if isinstance(c, ErrorbarContainer) and c.get_label() in texts
                     for ln in c.get_children()}
        for line in ax.lines:
            if not (_has_data(line) and _is_drawn(line)):
                continue
            colour = _rgba(line)
            explained = ((line.get_label(), colour) in by_label or id(line) in in_series
                         or ((line.get_linestyle(), line.get_marker()) in styles and colour in colours))
            assert explained, (f"unexplained {line.get_linestyle()!r} line of colour {colour} "
                               f"on axes {ax.get_title()!r}")


def test_legend_check_rejects_a_line_of_an_unkeyed_colour():
    fig = Figure()
    ax = fig.add_subplot(title="probe")
    ax.plot([0, 1], [0, 1], "-", color="C0", label="a")
    ax.plot([0, 1], [1, 0], "-", color="C3", label="_nolegend_")     # same style, colour not in the legend
    ax.legend()
    ax.set_xlabel("x"), ax.set_ylabel("y")
    with pytest.raises(AssertionError, match="unexplained"):
        test_every_mark_is_in_a_legend(("m", {}, [], fig))


def test_swept_parameters_carry_units(drawn):
    model_name, params, _, fig = drawn
    declared = {p.name: p for p in get_model(model_name).params}
    shown = " | ".join([t.get_text() for lg in _legends(fig) for t in lg.get_texts()]
                       + [ax.get_title() for ax in fig.axes])
    for name, values in params.items():
        unit = UNIT_TEXT.get((model_name, name), declared[name].unit)
        if isinstance(values, list) and not declared[name].array and unit:   # a sweep of a parameter with a unit
            for v in values:
                assert f"{v:g} {unit}" in shown, (name, v, unit, shown)


@pytest.mark.parametrize("case", ["tls_C_and_entropy", "tls_units"])
def test_log_axes_of_concurrence_stop_six_decades_below_the_peak(case):
    _, _, points, fig = _draw(case)
    ax = fig.axes[0]
    C = np.concatenate([pt.estimates["C"].mean for pt in points])
    peak, smallest = C.max(), C[C > 0].min()
    assert ax.get_yscale() == "log"
    # not the 1e-13 of double-precision noise: half of the smallest value, or 1e-6 of the peak if lower
    assert ax.get_ylim()[0] == pytest.approx(max(smallest, 1e-6 * peak) / 2)


def test_point_label_and_log_floor():
    assert point_label({"omega0": 0.2, "T": 1.0, "N": 8}, ["omega0", "T", "N"], {"omega0": "t", "T": "K"},
                       {"omega0": "ω0"}) == "ω0 = 0.2 t, T = 1 K, N = 8"
    fig = Figure()
    ax = fig.add_subplot()
    ax.set_yscale("log")
    log_floor(ax, [1e-22, 1e-3, 2.0, np.nan, -1.0])
    assert ax.get_ylim()[0] == pytest.approx(1e-6)
    log_floor(ax, [1e-2, 1.0])   # data above the floor: the smallest value sets the limit
    assert ax.get_ylim()[0] == pytest.approx(5e-3)


def test_default_plot_axis_units_from_params():
    """A coordinate named like a parameter takes that parameter's unit; old two-argument calls still work."""
    from ensemble.engine.model import Param, PointResult, Result

    res = Result(np.ones(3), np.zeros(3), ("T",), {"T": np.arange(3.0)}, "K^-1")
    pts = [PointResult({"T": [0.0, 1.0, 2.0], "B": b}, 1, {"chi": res}) for b in (0.5, 1.0)]
    fig = Figure()
    default_plot(pts, fig, [Param("T", float, unit="K", array=True), Param("B", float, unit="tesla")])
    ax = fig.axes[0]
    assert ax.get_xlabel() == "T [K]" and ax.get_ylabel() == "chi [K^-1]"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["B = 0.5 tesla", "B = 1 tesla"]
    fig = Figure()
    default_plot(pts, fig)
    assert fig.axes[0].get_xlabel() == "T"


def test_long_titles_are_wrapped():
    spec = spec_from_dict({"model": "chain_dmft", "params": {}, "ensemble": {"members": 1}})
    title = figure_title(spec, [])
    assert all(len(line) <= TITLE_WIDTH for line in title.splitlines())
    assert "(0 members per point)" in title.replace("\n", " ")
