"""Model plugins: installed distributions that declare models under the entry-point group
``tls_ensemble.models`` (found through importlib.metadata from a dist-info directory on sys.path, as pip
leaves them), name clashes, broken plugins, and the model's origin in a store."""
from __future__ import annotations

import importlib
import sys
import textwrap

import pytest

from ensemble.engine import registry
from ensemble.engine.model import SpecError

PLUGIN_MODEL = '''
import numpy as np
from ensemble.engine.model import Accumulator, Estimate, Model, Param


class Uniform(Model):
    name = "uniform_mean"
    description = "mean of uniform draws on [0, width)"
    params = (Param("width", float, 2.0, "m", "interval width", low=0.0, low_open=True, high=10.0),)

    def accumulators(self, p):
        return [Accumulator("sum_x")]

    def run_shard(self, p, member_ids, seeds):
        return {"sum_x": sum(np.random.default_rng(s).uniform(0.0, p["width"]) for s in seeds)}

    def finalize(self, totals, p):
        return {"mean": Estimate(totals["sum_x"] / totals["members"], unit="m")}


MODEL = Uniform()
'''


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A directory on sys.path to install plugin distributions into; the registry rescans it."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    added = set()

    def install(dist: str, version: str, entries: dict[str, str], modules: dict[str, str]) -> None:
        for name, source in modules.items():
            (root / f"{name}.py").write_text(textwrap.dedent(source))
            added.add(name)
        info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(
            "[tls_ensemble.models]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()))
        importlib.invalidate_caches()
        registry.refresh()

    yield install
    for name in added:
        sys.modules.pop(name, None)
    registry.refresh()


def test_a_plugin_is_listed_with_its_distribution_and_parameters(site, cli):
    site("uniform-plugin", "1.2.0", {"uniform_mean": "uniform_plugin_a:MODEL"}, {"uniform_plugin_a": PLUGIN_MODEL})
    assert "uniform_mean" in registry.available_models()
    code, out, err = cli("models")
    assert code == 0, err
    assert ("uniform_mean: mean of uniform draws on [0, width) "
            "[plugin from uniform-plugin 1.2.0 (uniform_plugin_a:MODEL)]") in out
    assert "    width [m]: interval width (float in (0.0, 10.0]; default 2.0)" in out
    assert "normal_mean: mean and variance of Gaussian draws (engine calibration)\n" in out   # built-ins unmarked


def test_a_run_spec_names_a_plugin_and_the_store_records_where_it_came_from(site, cli, write_spec, tmp_path):
    site("uniform-plugin", "1.2.0", {"uniform_mean": "uniform_plugin_b:MODEL"}, {"uniform_plugin_b": PLUGIN_MODEL})
    spec = write_spec("""
        model = "uniform_mean"
        [params]
        width = 4.0
        [ensemble]
        members = 400
        shard_size = 50
        seed = 3
    """)
    code, out, err = cli("run", spec, "--store", tmp_path / "s", "--cluster", "sync", "--no-progress")
    assert code == 0, err
    from ensemble.engine.estimators import point_results
    from ensemble.engine.store import open_store

    store = open_store(tmp_path / "s")
    mean = point_results(store)[0].estimates["mean"]
    assert abs(mean.mean - 2.0) < 3 * mean.stderr and 0.03 < mean.stderr < 0.09   # 4/sqrt(12*400) = 0.058
    assert store.provenance()[-1]["model"] == {"name": "uniform_mean", "target": "uniform_plugin_b:MODEL",
                                               "kind": "plugin", "distribution": "uniform-plugin",
                                               "version": "1.2.0"}
    code, out, _ = cli("status", tmp_path / "s")
    assert "model uniform_mean: plugin from uniform-plugin 1.2.0 (uniform_plugin_b:MODEL)" in out


def test_a_plugin_named_like_a_builtin_is_refused_naming_both(site, cli):
    site("shadow", "0.3", {"normal_mean": "uniform_plugin_c:MODEL"}, {"uniform_plugin_c": PLUGIN_MODEL})
    with pytest.raises(SpecError) as err:
        registry.get_model("normal_mean")
    msg = str(err.value)
    assert "\n" not in msg and "plugin from shadow 0.3" in msg and "built-in model 'normal_mean'" in msg
    code, out, err = cli("models")
    assert code == 1 and err.count("\n") == 1 and "clashes with the built-in" in err
    assert "chain_static:" in out


def test_two_plugins_with_one_name_are_refused_naming_both(site, cli):
    site("first-dist", "1.0", {"same_name": "uniform_plugin_d:MODEL"}, {"uniform_plugin_d": PLUGIN_MODEL})
    site("second-dist", "2.0", {"same_name": "uniform_plugin_e:MODEL"}, {"uniform_plugin_e": PLUGIN_MODEL})
    with pytest.raises(SpecError) as err:
        registry.get_model("same_name")
    assert "first-dist 1.0" in str(err.value) and "second-dist 2.0" in str(err.value)
    assert "same_name" not in registry.available_models()


def test_a_broken_plugin_is_reported_in_one_line_and_others_still_list_and_run(site, cli, write_spec, tmp_path):
    site("good-dist", "1.0", {"uniform_mean": "uniform_plugin_f:MODEL"}, {"uniform_plugin_f": PLUGIN_MODEL})
    site("broken-dist", "0.1", {"broken_model": "broken_plugin_g:MODEL"},
         {"broken_plugin_g": "import a_module_that_is_not_installed\n"})
    code, out, err = cli("models")
    assert code == 1
    assert err == ("error: broken_model: unavailable: model = 'broken_model': cannot import broken_plugin_g "
                   "(ModuleNotFoundError: No module named 'a_module_that_is_not_installed')\n")
    assert "uniform_mean: mean of uniform draws" in out and "normal_mean:" in out
    spec = write_spec('model = "uniform_mean"\n[ensemble]\nmembers = 4\n')
    code, _, err = cli("run", spec, "--store", tmp_path / "ok", "--cluster", "sync", "--no-progress")
    assert code == 0, err
    code, _, err = cli("run", write_spec('model = "broken_model"\n', "b.toml"), "--store", tmp_path / "b")
    assert code == 2 and "cannot import broken_plugin_g" in err and not (tmp_path / "b").exists()


def test_an_import_path_still_names_a_model(site, write_spec, cli, tmp_path):
    site("path-dist", "0.9", {}, {"uniform_plugin_h": PLUGIN_MODEL})
    spec = write_spec('model = "uniform_plugin_h:MODEL"\n[ensemble]\nmembers = 4\n')
    code, _, err = cli("run", spec, "--store", tmp_path / "p", "--cluster", "sync", "--no-progress")
    assert code == 0, err
    from ensemble.engine.store import open_store

    assert open_store(tmp_path / "p").provenance()[-1]["model"]["kind"] == "import path"


def test_an_unknown_name_says_how_to_add_a_model():
    with pytest.raises(SpecError, match="entry-point group 'tls_ensemble.models'"):
        registry.get_model("no_such_model_anywhere")



def test_resuming_with_another_version_of_the_plugin_warns(site):
    from ensemble.engine.store.provenance import session_record, version_change

    site("uniform-plugin", "1.2.0", {"uniform_mean": "uniform_plugin_i:MODEL"}, {"uniform_plugin_i": PLUGIN_MODEL})
    earlier = session_record("uniform_mean")
    assert version_change([{**earlier, "shards_computed": 3}]) is None
    older = {**earlier, "shards_computed": 3, "model": {**earlier["model"], "version": "1.1.0"}}
    assert "model uniform-plugin 1.1.0 -> uniform-plugin 1.2.0" in version_change([older])
