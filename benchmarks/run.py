"""l2gd benchmark suite: l2gd's solvers against scikit-learn, side by side.

Usage::

    python benchmarks/run.py            # full sizes (the issue's problems)
    python benchmarks/run.py --quick    # smaller sizes, under two minutes
    python benchmarks/run.py --smoke    # tiny, for the test suite

Every contender runs in this one process, interleaved round-robin, and the
median of the repeats is reported; BLAS threads are pinned with threadpoolctl
(1 thread and all threads for the default fits; the accuracy sweeps, memory,
per-iteration and section measurements use the first setting of --threads).
Results go to ``benchmarks/results/<mode>.json`` and ``<mode>.md`` and, when
matplotlib is installed (the ``plot`` extra), ``<mode>_*.png``.
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _contenders as C  # noqa: E402
import _problems as P  # noqa: E402
import _report as R  # noqa: E402
from _measure import (  # noqa: E402
    environment,
    fit_quietly,
    interleaved,
    limits,
    n_iter_of,
    peak_memory,
    thread_settings,
)

LEVELS = (1e-2, 1e-4, 1e-6, 1e-8)

# Per-mode effort: repeats of the default fits, seconds allowed per contender
# for those repeats, per-run and per-sweep time caps of the accuracy sweeps;
# "tols" are the tolerances of the accuracy sweeps.
EFFORT = {
    "full": {
        "repeats": 3,
        "budget": 3.0,
        "run_cap": 2.0,
        "sweep_cap": 6.0,
        "sec_repeats": 3,
        "tols": tuple(10.0**-k for k in range(1, 11)),
    },
    "quick": {
        "repeats": 3,
        "budget": 0.3,
        "run_cap": 0.3,
        "sweep_cap": 0.8,
        "sec_repeats": 3,
        "tols": (1e-2, 1e-4, 1e-6, 1e-8, 1e-10),
    },
    "smoke": {
        "repeats": 2,
        "budget": 0.2,
        "run_cap": 0.05,
        "sweep_cap": 0.1,
        "sec_repeats": 2,
        "tols": (1e-2, 1e-6),
    },
}

# Contenders also timed at the other thread settings (the first setting times
# them all), and those re-timed at the accuracy level of the targets; the
# 2-core machine is shared, so the rest get one setting.
MULTI_THREAD_CONTENDERS = {
    "l2gd closed_form",
    "l2gd gd cg",
    "Ridge auto",
    "Ridge lsqr",
    "Ridge sparse_cg",
    "bare syrk+cholesky",
    "bare blocked syrk+cholesky",
}
RETIMED_CONTENDERS = {
    "l2gd gd cg",
    "l2gd gd nesterov",
    "l2gd sgd",
    "Ridge lsqr",
    "Ridge sparse_cg",
    "Ridge sag",
}


def log(*args):
    print(*args, flush=True)


# -- the default fits ------------------------------------------------------
def default_fits(problem, active, threads, effort):
    """Median fit time of every contender at its defaults, per thread setting,
    with iterations, solver that ran and relative error of coef_."""
    X, y = problem.X, problem.y
    out = {c.name: {"family": c.family, "iterative": c.iterative, "times": {}} for c in active}
    for t in threads:
        fitted = {}
        timed = [c for c in active if t == threads[0] or c.name in MULTI_THREAD_CONTENDERS]

        def job(c, fitted=fitted):
            def run():
                est = c.make(problem)
                dt = fit_quietly(est, X, y)
                fitted[c.name] = est
                return dt

            return run

        with limits(t):
            res = interleaved({c.name: job(c) for c in timed}, effort["repeats"], effort["budget"])
        for c in timed:
            rec, row = res[c.name], out[c.name]
            if "error" in rec:
                row["error"] = rec["error"]
                continue
            row["times"][str(t)] = {
                "median": rec["median"],
                "min": rec["min"],
                "n": len(rec["times"]),
            }
            if t != threads[0]:
                continue
            est = fitted[c.name]
            row["n_iter"] = n_iter_of(est)
            row["rel_error"] = problem.rel_error(est.coef_)
            row["solver_ran"] = getattr(est, "solver_", None)
    return out


def memory(problem, active, threads):
    """Peak extra memory of each fit; iterative methods run 3 iterations (their
    peak is reached by then: the arrays of an iteration are all allocated)."""
    out = {}
    with limits(threads):
        for c in active:
            est = c.make(problem, max_iter=3) if c.iterative else c.make(problem)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    mem = peak_memory(lambda est=est: est.fit(problem.X, problem.y))
            except Exception as exc:
                out[c.name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                continue
            mem["tracemalloc_ratio_X"] = mem["tracemalloc_peak"] / problem.X_nbytes
            mem["rss_ratio_X"] = mem["rss_peak"] / problem.X_nbytes
            out[c.name] = mem
    return out


# -- accuracy sweeps --------------------------------------------------------
def sweep(problem, contender, default_row, threads, effort):
    """Refit with tol = ``effort["tols"]`` (1e-1 .. 1e-12 in full mode) (max_iter capped so one run takes about
    ``run_cap`` seconds). Stops at 1e-10 accuracy, at the cap, after three
    tolerances without progress, or after ``sweep_cap`` seconds."""
    X, y = problem.X, problem.y
    t_default = default_row["times"].get(str(threads), {}).get("median")
    n_default = default_row.get("n_iter")
    max_iter = None
    if t_default and n_default:
        max_iter = max(20, int(effort["run_cap"] * n_default / t_default))
    records, best, stall, spent = [], np.inf, 0, 0.0
    with limits(threads):
        for tol in effort["tols"]:
            est = contender.make(problem, tol=tol, max_iter=max_iter)
            try:
                dt = fit_quietly(est, X, y)
            except Exception as exc:
                records.append({"tol": tol, "error": f"{type(exc).__name__}: {exc}"[:300]})
                break
            spent += dt
            err = problem.rel_error(est.coef_)
            n_it = n_iter_of(est)
            capped = max_iter is not None and n_it is not None and n_it >= max_iter
            records.append(
                {
                    "tol": tol,
                    "time": dt,
                    "rel_error": err,
                    "n_iter": n_it,
                    "max_iter": max_iter,
                    "capped": capped,
                }
            )
            stall = stall + 1 if err >= 0.5 * best else 0
            best = min(best, err)
            if err <= 1e-10 or capped or stall >= 3 or spent > effort["sweep_cap"]:
                break
    return records


def epoch_sweep(problem, contender, threads, effort):
    """Stochastic solvers: refit with max_iter = 1, 2, 4, ... epochs (default
    tol), since a loose tol need not stop them early."""
    records, spent = [], 0.0
    with limits(threads):
        for epochs in (1, 2, 4, 8, 16):
            est = contender.make(problem, max_iter=epochs)
            try:
                dt = fit_quietly(est, problem.X, problem.y)
            except Exception:
                break
            spent += dt
            records.append(
                {
                    "tol": None,
                    "max_iter": epochs,
                    "time": dt,
                    "rel_error": problem.rel_error(est.coef_),
                    "n_iter": n_iter_of(est),
                }
            )
            if spent > effort["sweep_cap"]:
                break
    return records


def time_to(points, level):
    """Cheapest (time, config) among ``points`` whose rel_error <= level."""
    ok = [p for p in points if p.get("rel_error") is not None and p["rel_error"] <= level]
    if not ok:
        return None
    return min(ok, key=lambda p: p["time"])


def accuracy_curves(problem, active, fits, threads, effort):
    out = {}
    for c in active:
        row = fits[c.name]
        if "error" in row or str(threads) not in row["times"]:
            continue
        default_point = {
            "tol": None,
            "time": row["times"][str(threads)]["median"],
            "rel_error": row["rel_error"],
            "n_iter": row.get("n_iter"),
        }
        points = [default_point]
        if c.iterative:
            points += [p for p in sweep(problem, c, row, threads, effort) if "time" in p]
        if c.stochastic:
            points += epoch_sweep(problem, c, threads, effort)
        out[c.name] = {
            "points": points,
            "time_to": {f"{lv:g}": _hit(time_to(points, lv)) for lv in LEVELS},
            "best_rel_error": min(p["rel_error"] for p in points),
        }
    return out


def _hit(point):
    if point is None:
        return None
    return {"time": point["time"], "tol": point["tol"], "max_iter": point.get("max_iter")}


def retime(problem, active, curves, threads, effort, level):
    """Median-of-repeats time for each iterative contender at the cheapest
    setting (tol, max_iter) that reached ``level`` in its sweep (interleaved)."""
    X, y = problem.X, problem.y
    jobs, tols = {}, {}
    for c in active:
        hit = curves.get(c.name, {}).get("time_to", {}).get(f"{level:g}")
        if c.name not in RETIMED_CONTENDERS or hit is None or hit["time"] > effort["run_cap"] * 2:
            continue
        tols[c.name] = hit["tol"]

        def run(c=c, tol=hit["tol"], max_iter=hit["max_iter"]):
            est = c.make(problem, tol=tol, max_iter=max_iter)
            dt = fit_quietly(est, X, y)
            err = problem.rel_error(est.coef_)
            if err > level:
                raise RuntimeError(f"rerun missed {level:g}: rel_error {err:.2e}")
            return dt

        jobs[c.name] = run
    with limits(threads):
        res = interleaved(jobs, effort["sec_repeats"], effort["budget"])
    return {
        name: {
            "tol": tols[name],
            **{k: v for k, v in rec.items() if k != "times"},
            "n": len(rec.get("times", [])),
        }
        for name, rec in res.items()
    }


# -- per-iteration cost of gd -----------------------------------------------
def per_iteration(datasets, threads, effort, accelerations=("cg", "nesterov", "none")):
    """Cost of one gd iteration, ``(T(m2) - T(m1)) / (n_iter2 - n_iter1)`` at
    tol=0, against the floor: one ``X @ w`` plus one ``X.T @ r``.

    ``datasets``: label -> (X, y, alpha). All jobs interleaved.
    """
    from l2gd import GDRidgeRegressor
    from l2gd.solvers import GradientDescent

    m1, m2 = (3, 23) if effort["repeats"] > 2 else (2, 6)
    jobs, iters = {}, {}
    for label, (X, y, alpha) in datasets.items():
        Y2 = np.asarray(y).reshape(X.shape[0], -1)
        w = (
            np.ones(X.shape[1], dtype=X.dtype)
            if Y2.shape[1] == 1
            else np.ones((X.shape[1], Y2.shape[1]), dtype=X.dtype)
        )
        r = (
            np.ones(X.shape[0], dtype=X.dtype)
            if Y2.shape[1] == 1
            else np.ones(Y2.shape, dtype=X.dtype)
        )

        def floor(X=X, w=w, r=r, reps=10):
            t0 = time.perf_counter()
            for _ in range(reps):
                X @ w
                X.T @ r
            return (time.perf_counter() - t0) / reps

        jobs[(label, "floor")] = floor
        for acc in accelerations:
            for m in (m1, m2):

                def run(X=X, y=y, alpha=alpha, acc=acc, m=m, key=(label, acc, m)):
                    est = GDRidgeRegressor(
                        alpha=alpha, solver=GradientDescent(acceleration=acc), tol=0.0, max_iter=m
                    )
                    dt = fit_quietly(est, X, y)
                    iters[key] = est.n_iter_
                    return dt

                jobs[(label, acc, m)] = run
    with limits(threads):
        res = interleaved(jobs, max(3, effort["sec_repeats"]))
    out = {}
    for label in datasets:
        fl = res[(label, "floor")].get("median")
        row = {"floor_matvec_rmatvec": fl}
        for acc in accelerations:
            a, b = res[(label, acc, m1)], res[(label, acc, m2)]
            if "median" not in a or "median" not in b:
                row[acc] = {"error": a.get("error") or b.get("error")}
                continue
            dn = iters[(label, acc, m2)] - iters[(label, acc, m1)]
            it = (b["median"] - a["median"]) / dn if dn > 0 else None
            row[acc] = {
                "per_iter": it,
                "ratio_to_floor": None if it is None or not fl else it / fl,
                "setup": a["median"] - m1 * (it or 0),
            }
        out[label] = row
    return out


# -- sections ---------------------------------------------------------------
def multitarget_section(problem, threads, effort):
    """One fit of all targets against one fit per target (interleaved)."""
    X, Y = problem.X, problem.y
    names = [
        "l2gd closed_form",
        "l2gd gd cg",
        "l2gd gd nesterov",
        "Ridge auto",
        "Ridge cholesky",
        "Ridge lsqr",
        "Ridge sparse_cg",
    ]
    by_name = {c.name: c for c in C.contenders()}
    jobs, errs = {}, {}
    for name in names:
        c = by_name[name]

        def one(c=c):
            est = c.make(problem)
            dt = fit_quietly(est, X, Y)
            errs[c.name] = problem.rel_error(est.coef_)
            return dt

        def singles(c=c):
            total = 0.0
            for k in range(Y.shape[1]):
                total += fit_quietly(c.make(problem), X, Y[:, k])
            return total

        jobs[(name, "one")] = one
        jobs[(name, "singles")] = singles
    with limits(threads):
        res = interleaved(jobs, effort["sec_repeats"], effort["budget"] * 3)
    out = {}
    for name in names:
        a, b = res[(name, "one")], res[(name, "singles")]
        if "median" not in a or "median" not in b:
            out[name] = {"error": a.get("error") or b.get("error")}
            continue
        out[name] = {
            "one_fit": a["median"],
            "single_fits": b["median"],
            "speedup": b["median"] / a["median"],
            "rel_error": errs.get(name),
        }
    return out


def float32_section(problem32, threads, effort):
    """float32 against float64 on the same (rounded) data, interleaved."""
    X32, y32 = problem32.X, problem32.y
    X64, y64 = X32.astype(np.float64), y32.astype(np.float64)
    by_name = {c.name: c for c in C.contenders()}
    names = ["l2gd closed_form", "l2gd gd cg", "l2gd gd nesterov", "Ridge auto"]
    jobs, errs = {}, {}
    for name in names:
        c = by_name[name]
        for label, X, y in (("f32", X32, y32), ("f64", X64, y64)):

            def run(c=c, X=X, y=y, key=(name, label)):
                est = c.make(problem32)
                dt = fit_quietly(est, X, y)
                errs[key] = problem32.rel_error(est.coef_)
                return dt

            jobs[(name, label)] = run
    with limits(threads):
        res = interleaved(jobs, effort["sec_repeats"], effort["budget"])
    fits = {}
    for name in names:
        a, b = res[(name, "f32")], res[(name, "f64")]
        if "median" not in a or "median" not in b:
            fits[name] = {"error": a.get("error") or b.get("error")}
            continue
        fits[name] = {
            "f32": a["median"],
            "f64": b["median"],
            "speedup": b["median"] / a["median"],
            "rel_error_f32": errs[(name, "f32")],
            "rel_error_f64": errs[(name, "f64")],
        }
    iters = per_iteration(
        {"f32": (X32, y32, problem32.alpha), "f64": (X64, y64, problem32.alpha)},
        threads,
        effort,
        accelerations=("cg",),
    )
    return {"fits": fits, "per_iteration": iters, "float32_eps": float(np.finfo(np.float32).eps)}


def cv_section(mode, threads, effort):
    from sklearn.linear_model import Ridge, RidgeCV
    from sklearn.model_selection import GridSearchCV, KFold

    size = P.SIZES[mode]["cv"]
    X, y = P.cv_data(size["n"], size["p"])
    alphas = np.logspace(-2, 5, size["n_alphas"])
    folds = KFold(size["folds"], shuffle=True, random_state=0)
    models = {
        "GridSearchCV(Ridge) K-fold": lambda: GridSearchCV(Ridge(), {"alpha": alphas}, cv=folds),
        "RidgeCV K-fold": lambda: RidgeCV(alphas=alphas, cv=folds),
        "RidgeCV LOO": lambda: RidgeCV(alphas=alphas),
    }
    if C.GDRidgeCV is not None:
        models["GDRidgeCV K-fold"] = lambda: C.GDRidgeCV(alphas=alphas, cv=folds)
        models["GDRidgeCV LOO"] = lambda: C.GDRidgeCV(alphas=alphas)
    fitted = {}

    def job(name):
        def run():
            est = models[name]()
            dt = fit_quietly(est, X, y)
            fitted[name] = est
            return dt

        return run

    with limits(threads):
        res = interleaved(
            {name: job(name) for name in models}, effort["sec_repeats"], effort["budget"] * 3
        )
    out = {
        "n_samples": size["n"],
        "n_features": size["p"],
        "folds": size["folds"],
        "n_alphas": size["n_alphas"],
        "results": {},
    }
    for name, rec in res.items():
        row = {k: v for k, v in rec.items() if k != "times"}
        row["n"] = len(rec.get("times", []))
        est = fitted.get(name)
        if est is not None:
            alpha = est.best_params_["alpha"] if hasattr(est, "best_params_") else est.alpha_
            row["alpha_"] = float(np.ravel(alpha)[0])
            row["best_score_"] = float(np.ravel(est.best_score_)[0])
        out["results"][name] = row
    out["notes"] = [n for n in C.notes() if "GDRidgeCV" in n]
    out["notes"].append(
        "benchmarks/bench_cv.py is the dedicated GDRidgeCV benchmark (more cases, same-alpha checks)."
    )
    return out


def scaling_section(mode, threads, effort):
    size = P.SIZES[mode]["scaling"]
    by_name = {c.name: c for c in C.contenders()}
    names = ["l2gd closed_form", "l2gd gd cg", "Ridge auto"]
    out = {"p": size["p"], "ns": size["ns"], "times": {name: [] for name in names}}
    for n in size["ns"]:
        X, y = P.scaling_data(n, size["p"])
        prob = P.Problem("scaling", X, y, P.ALPHA, "")
        jobs = {
            name: (lambda c=by_name[name], prob=prob: fit_quietly(c.make(prob), prob.X, prob.y))
            for name in names
        }
        with limits(threads):
            res = interleaved(jobs, effort["sec_repeats"], effort["budget"])
        for name in names:
            out["times"][name].append(res[name].get("median"))
        log(
            f"  scaling n={n:,}: "
            + ", ".join(f"{k} {v[-1]:.3g}s" for k, v in out["times"].items() if v[-1])
        )
        del X, y, prob
    logn = np.log(np.asarray(size["ns"], dtype=float))
    out["slope"] = {}
    for name, ts in out["times"].items():
        if all(t is not None for t in ts) and len(ts) > 1:
            out["slope"][name] = float(np.polyfit(logn, np.log(ts), 1)[0])
    return out


# -- main -------------------------------------------------------------------
def run_problem(name, build, mode, threads, effort):
    t0 = time.perf_counter()
    problem = build()
    log(f"[{name}] built in {time.perf_counter() - t0:.1f}s: {problem.description}")
    active, skipped = [], {}
    for c in C.contenders():
        reason = c.skip_reason(problem)
        if reason:
            skipped[c.name] = reason
        else:
            active.append(c)
    primary = threads[0]
    fits = default_fits(problem, active, threads, effort)
    for cname, row in fits.items():
        ts = " ".join(f"{t}t={v['median']:.3g}s" for t, v in row["times"].items())
        log(
            f"  {cname:28s} {ts:28s} iters={row.get('n_iter')} err={row.get('rel_error', float('nan')):.2e} {row.get('error', '')}"
        )
    mem = memory(problem, active, primary)
    curves = accuracy_curves(problem, active, fits, primary, effort)
    level = 1e-6 if problem.dtype == np.float64 else 1e-4
    rt = retime(problem, active, curves, primary, effort, level)
    out = {
        "problem": problem.summary(),
        "skipped": skipped,
        "fits": fits,
        "memory": mem,
        "curves": curves,
        "retimed": {"level": level, "threads": primary, "results": rt},
    }
    if name in ("dense_tall", "dense_wide", "sparse"):
        out["per_iteration"] = per_iteration(
            {name: (problem.X, problem.y, problem.alpha)}, primary, effort
        )
    if name == "multitarget":
        out["multitarget"] = multitarget_section(problem, primary, effort)
    if name == "dense_tall_f32":
        out["float32"] = float32_section(problem, primary, effort)
    log(f"[{name}] done in {time.perf_counter() - t0:.1f}s")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="smaller sizes (under two minutes)")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    parser.add_argument(
        "--problems", nargs="*", default=None, help=f"subset of {P.PROBLEM_NAMES} (default all)"
    )
    parser.add_argument(
        "--sections", nargs="*", default=["cv", "scaling", "issue15"],
        help="extra sections: cv, scaling, issue15 (the floor, many targets)",
    )
    parser.add_argument(
        "--threads",
        nargs="*",
        default=None,
        help="BLAS thread settings, ints or 'all' (default: 1 all; --quick: 1)",
    )
    parser.add_argument(
        "--out", default=str(Path(__file__).resolve().parent / "results"), help="output folder"
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument(
        "--render", metavar="JSON", help="only re-render markdown and plots from a results JSON"
    )
    args = parser.parse_args(argv)
    if args.render:
        return render(Path(args.render), no_plots=args.no_plots)
    mode = "quick" if args.quick else "smoke" if args.smoke else "full"
    effort = EFFORT[mode]
    requested = args.threads or (["1"] if mode != "full" else ["1", "all"])
    threads = thread_settings([t if t == "all" else int(t) for t in requested])
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    results = {
        "mode": mode,
        "threads": threads,
        "environment": environment(),
        "notes": C.notes(),
        "problems": {},
        "effort": effort,
    }
    log(f"l2gd benchmarks, mode={mode}, BLAS threads {threads}")
    for name, build in P.make_problems(mode, args.problems):
        results["problems"][name] = run_problem(name, build, mode, threads, effort)
    if "cv" in args.sections:
        t0 = time.perf_counter()
        results["cv"] = cv_section(mode, threads[0], effort)
        log(f"[cv] done in {time.perf_counter() - t0:.1f}s")
    if "scaling" in args.sections:
        t0 = time.perf_counter()
        results["scaling"] = scaling_section(mode, threads[0], effort)
        log(f"[scaling] done in {time.perf_counter() - t0:.1f}s")
    if "issue15" in args.sections:
        import _floor_targets

        t0 = time.perf_counter()
        with limits(1):
            results["issue15"] = _floor_targets.section(mode, log)
        log(f"[issue15] done in {time.perf_counter() - t0:.1f}s")
    import os

    results["environment"]["loadavg_end"] = os.getloadavg()
    results["wall_time_s"] = time.perf_counter() - start
    results["targets"] = R.targets(results)
    (out_dir / f"{mode}.json").write_text(json.dumps(results, indent=1, default=R.json_default))
    plots = [] if args.no_plots else R.plots(results, out_dir, mode)
    results["plots"] = plots
    (out_dir / f"{mode}.md").write_text(R.markdown(results))
    (out_dir / f"{mode}.json").write_text(json.dumps(results, indent=1, default=R.json_default))
    log(f"wrote {out_dir / (mode + '.md')} and .json in {results['wall_time_s']:.0f}s")
    return results


def render(path, no_plots=False):
    """Rewrite ``<mode>.md`` and the plots next to a results JSON."""
    results = json.loads(path.read_text())
    results["targets"] = R.targets(results)
    results["plots"] = [] if no_plots else R.plots(results, path.parent, results["mode"])
    path.with_suffix(".md").write_text(R.markdown(results))
    path.write_text(json.dumps(results, indent=1, default=R.json_default))
    log(f"re-rendered {path.with_suffix('.md')}")
    return results


if __name__ == "__main__":
    main()
