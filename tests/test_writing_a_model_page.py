"""docs/writing-a-model.md runs as written: its model and task file are the example package's files, the
example is installed as a distribution (its entry point found by importlib.metadata, not imported by
path), every command block runs (a LocalCluster run included), and its table is what the run gives and
agrees with the weak-disorder limits of the 1D Anderson model."""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "writing-a-model.md"
EXAMPLE = ROOT / "examples" / "anderson_localization"
NOT_RUN = "<!-- page-test: not run"
KAPPUS_WEGNER = 8 * (math.gamma(0.75) / math.gamma(0.25)) ** 2


def page_blocks() -> list[tuple[str, str, bool]]:
    """(language, text, runs) of every fenced block; a block right after a ``page-test: not run`` comment
    does not run."""
    text = PAGE.read_text()
    out = []
    for m in re.finditer(r"^```(\w*)\n(.*?)^```$", text, flags=re.S | re.M):
        before = text[:m.start()].rstrip().splitlines()[-1]
        out.append((m.group(1), m.group(2), not before.startswith(NOT_RUN)))
    return out


def commands(block: str) -> list[str]:
    """Shell lines of a block, continuation lines joined."""
    joined = block.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def install_example(site: Path) -> None:
    """Install the example as a distribution into ``site``: its package plus a dist-info whose METADATA and
    entry_points.txt are written from its pyproject (what pip writes; a build backend is not needed)."""
    meta = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    shutil.copytree(EXAMPLE / "anderson_localization", site / "anderson_localization",
                    ignore=shutil.ignore_patterns("__pycache__"))
    info = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n")
    groups = [f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items())
              for group, eps in meta["entry-points"].items()]
    (info / "entry_points.txt").write_text("\n".join(groups))


def test_the_page_shows_the_example_files_verbatim():
    blocks = page_blocks()
    python = [b for lang, b, _ in blocks if lang == "python"]
    assert python[0] == (EXAMPLE / "anderson_localization" / "model.py").read_text()
    tomls = [tomllib.loads(b) for lang, b, _ in blocks if lang == "toml"]
    pyproject = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    assert tomls[0]["project"]["entry-points"] == pyproject["project"]["entry-points"]
    task_block = [b for lang, b, _ in blocks if lang == "toml" and b.startswith("#")][0]
    assert task_block == (EXAMPLE / "anderson_1d.toml").read_text()
    model_lines = len(python[0].splitlines())
    assert model_lines <= 85, model_lines


def table_rows() -> list[list[str]]:
    rows = re.findall(r"^\| (-?\d\.\d) \| (.+?) \|$", PAGE.read_text(), flags=re.M)
    return [[e] + [c.strip() for c in rest.split("|")] for e, rest in rows]


def value_and_error(cell: str) -> tuple[float, float]:
    value, error = cell.split("±")
    return float(value), float(error)


def decimals(text: str) -> int:
    return len(text.strip().partition(".")[2])


def test_the_page_runs_and_its_table_is_what_the_run_gives(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    install_example(site)
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    outputs = {}
    for lang, block, runs in page_blocks():
        if lang != "bash":
            continue
        for cmd in commands(block):
            if not runs or cmd.startswith("pip install"):   # pip: replaced by install_example above
                continue
            done = subprocess.run(cmd, shell=True, cwd=work, env=env, capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, (cmd, done.stdout[-2000:], done.stderr[-2000:])
            outputs[cmd.split()[1]] = done.stdout
    assert "anderson_1d: 1D Anderson model" in outputs["models"]
    assert "[plugin from anderson-localization 0.1.0 (anderson_localization.model:MODEL)]" in outputs["models"]
    assert "anderson_1d: 13 of 13 checks passed" in outputs["check-model"]
    assert "model anderson_1d: plugin from anderson-localization 0.1.0" in outputs["status"]
    assert (work / "anderson.png").stat().st_size > 10_000

    script = [b for lang, b, runs in page_blocks() if lang == "python"][1]
    done = subprocess.run([sys.executable, "-c", script], cwd=work, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("gamma / gamma_Thouless") == 3

    shown = json.loads(subprocess.run(["ensemble", "show", "runs/anderson", "--json"], cwd=work, env=env,
                                      capture_output=True, text=True, check=True).stdout)
    est = shown["points"][0]["estimators"]
    rows = table_rows()
    assert [float(r[0]) for r in rows] == est["gamma"]["coords"]["E"]
    for i, (_, gamma, xi, ratio, limit) in enumerate(rows):
        for cell, name in ((gamma, "gamma"), (xi, "xi"), (ratio, "gamma_over_thouless")):
            value, error = value_and_error(cell)
            places = decimals(cell.split("±")[0])
            assert value == pytest.approx(est[name]["mean"][i], abs=0.51 * 10 ** -places), (name, i)
            assert error == pytest.approx(est[name]["stderr"][i], abs=0.51 * 10 ** -decimals(cell.split("±")[1]))
        mean, err = est["gamma_over_thouless"]["mean"][i], est["gamma_over_thouless"]["stderr"][i]
        expected = KAPPUS_WEGNER if "Kappus" in limit else 1.0
        assert float(limit.split()[0]) == pytest.approx(expected, abs=5e-4)
        assert abs(mean - expected) < 3 * err, (rows[i], mean, err)
        if expected != 1.0:
            assert (1.0 - mean) / err > 5
            sentence = re.search(r"(\d+) standard\s+errors below 1 and (\w+) from the Kappus", PAGE.read_text())
            assert int(sentence.group(1)) == round((1.0 - mean) / err)
            assert sentence.group(2) == "one" and round(abs(mean - expected) / err) == 1


@pytest.fixture
def example_model(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    from anderson_localization import model

    return model


def test_the_kernel_is_the_log_of_an_explicit_transfer_matrix_product(example_model):
    rng = np.random.default_rng(7)
    eps, energies, r0 = rng.uniform(-1.5, 1.5, 60), np.array([-0.7, 0.0, 1.1]), 0.37
    for E, got in zip(energies, example_model.log_growth(eps, energies, r0)):
        psi = np.array([r0, 1.0])                 # (psi_1, psi_0)
        for e in eps:
            psi = np.array([[e - E, -1.0], [1.0, 0.0]]) @ psi
        assert got == pytest.approx(np.log(abs(psi[0] / r0)), rel=1e-10)


def test_the_kernel_gives_the_clean_chain_exactly(example_model):
    """No disorder: outside the band |psi| grows as e^{N arccosh(|E|/2)}; inside it stays bounded."""
    n = 20_000
    outside = example_model.log_growth(np.zeros(n), np.array([2.5, -3.0]), 1e-3)
    assert outside / n == pytest.approx(np.arccosh(np.array([2.5, 3.0]) / 2), rel=1e-3)
    inside = example_model.log_growth(np.zeros(n), np.array([0.3, 1.7]), 0.5)
    assert np.all(np.abs(inside) / n < 1e-3)


def test_starting_vectors_of_one_realization_differ_by_order_one_realizations_by_root_n(example_model):
    """The page's reason why extra vectors buy little: two starts on one potential differ in sum ln|r_i| by
    O(1), while realizations spread as sqrt(N)."""
    within, between = [], []
    for n in (20_000, 2_000_000):
        rng = np.random.default_rng(11)
        sums = np.array([[example_model.log_growth(eps, np.array([0.5]), r0)[0] for r0 in (0.3, -2.0)]
                         for eps in [rng.uniform(-0.25, 0.25, n) for _ in range(8)]])
        within.append(np.abs(sums[:, 0] - sums[:, 1]).max())
        between.append(sums[:, 0].std())
    assert max(within) < 10
    assert 6.0 < between[1] / between[0] < 15.0          # sqrt(100)
    assert within[1] < 0.1 * between[1]
