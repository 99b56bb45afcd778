"""Issue 15's targets inside ``run.py``: the closed form against its floor and
against ``Ridge(solver="cholesky")``, mixed precision, preconditioned gd against
lsqr and sparse_cg, and many targets in bounded memory.

The measurements come from the standalone scripts (``bench_floor.py``,
``bench_gd.py``, ``bench_many_targets.py``), called here at the mode's sizes so that
``python benchmarks/run.py --quick`` and the full run report each target as
met / not met with its ratio, in the same process as the other contenders
(BLAS pinned by the caller; many targets run in subprocesses, each pinned).
"""

import argparse

import numpy as np

import bench_floor as F
import bench_gd as G
import bench_many_targets as M

SIZES = {
    "full": {"floor": [(400_000, 200, np.float64), (400_000, 200, np.float32)],
             "ridge_1e6": (1_000_000, 200), "many": (2000, 500, 20_000), "repeats": 5,
             "mixed": (20_000, 1000, 10.0), "gd": "full"},
    "quick": {"floor": [(50_000, 200, np.float64), (50_000, 200, np.float32)],
              "ridge_1e6": None, "many": (1000, 200, 4000), "repeats": 3,
              "mixed": (10_000, 1000, 10.0), "gd": "quick"},
    "smoke": {"floor": [(2_000, 20, np.float64)], "ridge_1e6": None, "many": (200, 20, 100),
              "repeats": 1, "mixed": None, "gd": None},
}
MANY_CONTENDERS = ["l2gd LOO", "l2gd LOO unbatched refit=False", "sklearn LOO"]


def _floor_rows(sizes, repeats):
    out = {}
    for n, p, dtype in sizes:
        t = F.floor_times(n, p, dtype, repeats)
        out[f"{n:,} x {p} {np.dtype(dtype).name}"] = t
    return out


def _many_targets(shape, log):
    n, p, k = shape
    args = argparse.Namespace(small=False, contenders=";".join(MANY_CONTENDERS), himalaya=None,
                              repeats=1, alphas=30, threads=1)
    _, results = M.run(args, shape=shape)
    log(M.report(shape, results, 30, 1))
    rows = {}
    for name, runs in results.items():
        ok = [r for r in runs if "error" not in r]
        if ok:
            rows[name] = {"time_s": float(np.median([r["time_s"] for r in ok])),
                          "extra_mb": float(np.median([r["extra_mb"] for r in ok]))}
    return {"shape": [n, p, k], "y_mb": n * k * 8 / 2**20, "contenders": rows}


def section(mode, log):
    """The measurements of this section (a JSON-able dict)."""
    size = SIZES[mode]
    out = {"floor": _floor_rows(size["floor"], size["repeats"])}
    if size["ridge_1e6"]:
        n, p = size["ridge_1e6"]
        out["ridge_1e6"] = F.floor_times(n, p, np.float64, 3)
    rows = []
    if size["mixed"]:
        rows += F.mixed_section([size["mixed"]], size["repeats"])
    if size["gd"]:
        quick = size["gd"] == "quick"
        rows += G.gd_section(quick, size["repeats"]) + G.multitarget_section(quick, size["repeats"])
    out["rows"] = [list(r) for r in rows]
    out["many_targets"] = _many_targets(size["many"], log)
    return out


def targets(res, target):
    """Target rows (``target(name, value, goal, met, detail)``) from :func:`section`."""
    out = []
    for label, t in res.get("floor", {}).items():
        fit, floor, ridge = t["fit"], t["floor"], t["ridge"]
        out.append(target(f"closed_form fit / one blocked syrk pass, {label}", fit / floor,
                          "<= 1.1x", fit / floor <= 1.1, f"{fit:.3g}s vs {floor:.3g}s"))
        fb = t["from_batch"]
        out.append(target(f"RidgeStats.from_batch / syrk pass, {label}", fb / floor, "<= 1.1x",
                          fb / floor <= 1.1, f"{fb:.3g}s vs {floor:.3g}s"))
        if "float64" in label:
            out.append(target(f"closed_form vs Ridge(cholesky), {label}", ridge / fit, ">= 2x",
                              ridge / fit >= 2, f"{fit:.3g}s vs {ridge:.3g}s"))
    if "ridge_1e6" in res:
        t = res["ridge_1e6"]
        out.append(target("closed_form vs Ridge(cholesky), 1,000,000 x 200 float64",
                          t["ridge"] / t["fit"], ">= 3x", t["ridge"] / t["fit"] >= 3,
                          f"{t['fit']:.3g}s vs {t['ridge']:.3g}s (floor {t['floor']:.3g}s)"))
    out.extend(target(*row) for row in res.get("rows", []))
    many = res.get("many_targets", {})
    rows = many.get("contenders", {})
    ours, base, skl = (rows.get(k) for k in MANY_CONTENDERS)
    if ours and skl:
        n, p, k = many["shape"]
        shape = f"{n:,} x {p}, {k:,} targets, 30 alphas"
        out.append(target(f"GDRidgeCV LOO per target, extra memory / RidgeCV's, {shape}",
                          ours["extra_mb"] / max(skl["extra_mb"], 1.0), "<= 0.25x",
                          ours["extra_mb"] <= 0.25 * skl["extra_mb"],
                          f"{ours['extra_mb']:.0f} MiB vs {skl['extra_mb']:.0f} MiB (Y "
                          f"{many['y_mb']:.0f} MiB; unbatched selection "
                          f"{base['extra_mb'] if base else float('nan'):.0f} MiB)"))
        out.append(target(f"GDRidgeCV LOO per target, time vs RidgeCV, {shape}",
                          skl["time_s"] / ours["time_s"], ">= 1x (no slower)",
                          ours["time_s"] <= skl["time_s"],
                          f"{ours['time_s']:.3g}s vs {skl['time_s']:.3g}s"))
    return out
