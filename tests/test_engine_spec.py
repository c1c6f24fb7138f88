"""Spec validation: every bad input is one clear line, exit code 2, and no store is touched."""
import pytest

from ensemble.engine.model import SpecError
from ensemble.engine.spec import spec_from_dict

GOOD = {"model": "normal_mean", "params": {"sigma": [1.0, 2.0], "draws": 5},
        "ensemble": {"members": 10, "shard_size": 3, "seed": 1}}


def with_(section, key, value):
    raw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in GOOD.items()}
    if section is None:
        raw[key] = value
    else:
        raw[section][key] = value
    return raw


@pytest.mark.parametrize("raw, fragment", [
    (with_(None, "model", "no_such_model"), "unknown model"),
    (with_("params", "sigmaa", 1.0), "params.sigmaa: unknown parameter"),
    (with_("params", "sigma", "big"), "params.sigma: expected float"),
    (with_("params", "sigma", -1.0), "params.sigma = -1.0: allowed float in (0.0, inf]"),
    (with_("params", "draws", 2.5), "params.draws: expected int"),
    (with_("params", "draws", True), "params.draws: expected int"),
    (with_("params", "sigma", []), "params.sigma: an empty list"),
    (with_("params", "sigma", [1.0, 0.0]), "params.sigma = 0.0"),
    (with_("ensemble", "shard_size", 0), "ensemble.shard_size = 0: allowed int >= 1"),
    (with_("ensemble", "members", -3), "ensemble.members = -3"),
    (with_("ensemble", "seed", -1), "ensemble.seed = -1"),
    (with_("ensemble", "walkers", 4), "ensemble.walkers: unknown key"),
    (with_(None, "paramz", {}), "unknown top-level key 'paramz'"),
])
def test_bad_specs_name_the_key(raw, fragment):
    with pytest.raises(SpecError) as err:
        spec_from_dict(raw)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_sweep_points_are_cartesian_product_in_declaration_order():
    raw = with_("params", "draws", [1, 2, 3])
    spec = spec_from_dict(raw)
    pts = spec.points()
    assert len(pts) == 6
    assert [(p["sigma"], p["draws"]) for p in pts[:4]] == [(1.0, 1), (1.0, 2), (1.0, 3), (2.0, 1)]
    assert spec.swept() == ["sigma", "draws"]


def test_hash_ignores_members_but_not_params():
    a = spec_from_dict(GOOD)
    b = spec_from_dict(with_("ensemble", "members", 99))
    c = spec_from_dict(with_("params", "draws", 6))
    assert a.hash() == b.hash() != c.hash()


def test_cli_bad_spec_exit_2_and_no_store(cli, write_spec, tmp_path):
    spec = write_spec('model = "normal_mean"\n[params]\nsigma = -2.0\n')
    code, out, err = cli("run", spec, "--store", tmp_path / "st", "--cluster", "sync")
    assert code == 2
    assert err.strip().count("\n") == 0 and "params.sigma" in err
    assert not (tmp_path / "st").exists()


def test_cli_missing_spec_file_and_missing_store(cli, tmp_path):
    code, _, err = cli("run", tmp_path / "nope.toml", "--store", tmp_path / "st")
    assert code == 2 and "does not exist" in err
    code, _, err = cli("status", tmp_path / "nothing")
    assert code == 2 and "no run store" in err


def test_cli_bad_option_values(cli, write_spec, tmp_path):
    spec = write_spec('model = "normal_mean"\n')
    code, _, err = cli("run", spec, "--store", tmp_path / "st", "--workers", "0")
    assert code == 2 and "--workers" in err
    assert not (tmp_path / "st").exists()
