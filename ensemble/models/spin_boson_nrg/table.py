"""Turn finished spin_boson_nrg stores into the shipped table of f_α(x, T/h_R).

    python -m ensemble.models.spin_boson_nrg.table STORE [STORE ...] -o ensemble/models/large_n_tls/data/nrg_scaling.npz

All points of all stores must share the x and T/h_R grids; rows are sorted by α.  The file holds
alpha, x, t_over_hr, f (α, T, x), f_err (jackknife over z shards), h_R, shiba_ratio, tail_exponent and
sum_rule per row, finite_t_reliable_from_x per temperature, and the stores' task parameters as text.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def build_table(stores: list[str]) -> dict[str, np.ndarray]:
    import ensemble
    from ensemble.engine.model import SpecError

    rows = []
    for store in stores:
        for point in ensemble.results(store):
            if "f" not in point.estimates:
                raise SpecError(f"{store}: not a spin_boson_nrg store (no estimator f)")
            rows.append(point)
    if not rows:
        raise SpecError("no finished points in the given stores")
    rows.sort(key=lambda r: r.params["alpha"])
    first = rows[0].estimates["f"].coords
    for r in rows[1:]:
        c = r.estimates["f"].coords
        if not (np.array_equal(c["x"], first["x"]) and np.array_equal(c["t_over_hr"], first["t_over_hr"])):
            raise SpecError(f"alpha = {r.params['alpha']}: x or t_over_hr grid differs from alpha = {rows[0].params['alpha']}")

    def col(name, index=None):
        vals = [np.asarray(r.estimates[name].mean) for r in rows]
        return np.array([v if index is None else v[index] for v in vals], dtype=float)

    return {
        "alpha": np.array([r.params["alpha"] for r in rows], dtype=float),
        "x": np.asarray(first["x"], dtype=float),
        "t_over_hr": np.asarray(first["t_over_hr"], dtype=float),
        "f": np.array([r.estimates["f"].mean for r in rows], dtype=float),
        "f_err": np.array([r.estimates["f"].stderr for r in rows], dtype=float),
        "h_R": col("h_R"),
        "shiba_ratio": col("shiba_ratio"),
        "tail_exponent": col("tail_exponent"),
        "tail_exponent_err": np.array([float(np.asarray(r.estimates["tail_exponent"].stderr)) for r in rows]),
        "sum_rule": col("sum_rule", 0),
        # below x ≈ T/h_R the NRG does not resolve the quasi-elastic line (docs): trust f(x, T) from 3T/h_R up
        "finite_t_reliable_from_x": 3.0 * np.asarray(first["t_over_hr"], dtype=float),
        "members": np.array([r.members_done for r in rows]),
        "params": np.array(json.dumps([r.params for r in rows], default=str)),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ensemble.models.spin_boson_nrg.table", description=__doc__.splitlines()[0])
    ap.add_argument("stores", nargs="+")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)
    from ensemble.engine.model import SpecError

    try:
        table = build_table(args.stores)
    except SpecError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    np.savez_compressed(args.output, **table)
    for a, h, s, p in zip(table["alpha"], table["h_R"], table["shiba_ratio"], table["tail_exponent"]):
        print(f"alpha {a:.2f}  h_R/D {h:.3e}  Shiba {s:.4f}  tail exponent {p:+.3f} (2α−2 = {2 * a - 2:+.2f})")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
