"""Smoke test of the benchmark machinery (benchmarks/run.py): it runs on tiny
problems and writes well-formed JSON and markdown. No timing assertions."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"

PROBLEMS = ["dense_tall", "dense_tall_f32", "sparse", "multitarget"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    if not RUN.exists():
        pytest.skip("benchmarks/ is not part of this installation")
    out = tmp_path_factory.mktemp("bench")
    cmd = [
        sys.executable,
        str(RUN),
        "--smoke",
        "--threads",
        "1",
        "--out",
        str(out),
        "--problems",
        *PROBLEMS,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out, json.loads((out / "smoke.json").read_text())


def test_records_environment(smoke_run):
    _, res = smoke_run
    env = res["environment"]
    assert res["mode"] == "smoke"
    assert res["threads"] == [1]
    for key in ("numpy", "scipy", "scikit-learn", "l2gd"):
        assert env["versions"][key]
    assert any(b["user_api"] == "blas" for b in env["blas"])


def test_every_problem_has_every_measurement(smoke_run):
    _, res = smoke_run
    assert sorted(res["problems"]) == sorted(PROBLEMS)
    for name, pr in res["problems"].items():
        fits = pr["fits"]
        # every l2gd solver in the registry and the main scikit-learn solvers ran
        assert "l2gd closed_form" in fits and "l2gd gd cg" in fits
        assert "Ridge auto" in fits and "Ridge lsqr" in fits
        for cname, row in fits.items():
            assert "error" not in row, (name, cname, row)
            assert row["times"]["1"]["median"] > 0
            assert 0 <= row["rel_error"] < math.inf
        # the exact solver agrees with the independent reference; Ridge(auto)
        # is sparse_cg (tol=1e-4) on sparse X
        assert fits["l2gd closed_form"]["rel_error"] < 1e-4
        assert fits["Ridge auto"]["rel_error"] < 1e-2
        for cname, mem in pr["memory"].items():
            assert mem["tracemalloc_peak"] >= 0, cname
        for curve in pr["curves"].values():
            assert set(curve["time_to"]) == {"0.01", "0.0001", "1e-06", "1e-08"}
            assert curve["points"]


def test_sections_and_targets(smoke_run):
    _, res = smoke_run
    assert res["problems"]["dense_tall"]["per_iteration"]["dense_tall"]["floor_matvec_rmatvec"] > 0
    mt = res["problems"]["multitarget"]["multitarget"]
    assert mt["l2gd closed_form"]["speedup"] > 0
    f32 = res["problems"]["dense_tall_f32"]["float32"]["fits"]
    assert f32["l2gd closed_form"]["rel_error_f32"] < 1e-2
    assert res["cv"]["results"]["RidgeCV LOO"]["median"] > 0
    assert len(res["scaling"]["times"]["l2gd closed_form"]) == len(res["scaling"]["ns"])
    names = [t["target"] for t in res["targets"]]
    assert any("closed_form vs Ridge(auto)" in n for n in names)
    assert any("multi-target" in n for n in names)
    for t in res["targets"]:
        assert set(t) == {"target", "value", "goal", "met", "detail"}


def test_markdown_and_plots(smoke_run):
    out, res = smoke_run
    md = (out / "smoke.md").read_text()
    assert md.startswith("# l2gd benchmarks (smoke run)")
    assert "## Targets" in md and "## dense_tall:" in md and "| l2gd closed_form |" in md
    for entry in res["plots"]:
        if entry.endswith(".png"):
            assert (out / entry).stat().st_size > 0
        else:
            assert "matplotlib" in entry
