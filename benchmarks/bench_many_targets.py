"""Many targets: time and peak memory of cross-validated ridge (issue 15, item 4).

A 2,000 x 500 X with 20,000 targets and 30 alphas (``--small``: 1,000 x 200,
4,000 targets). Each contender runs in its own subprocess, BLAS pinned to
``--threads`` threads with threadpoolctl; memory is the subprocess's peak
resident set during the fit (``VmHWM``, reset just before it) minus its
resident set once the data exist, so it is the extra memory of the fit (not
the data generation's). Contenders:

* ``l2gd LOO``: ``GDRidgeCV(cv=None, alpha_per_target=True)``, default
  ``target_batch_size="auto"``; ``refit=False``: the selection alone (the
  scores), and the same unbatched (``target_batch_size=n_targets``: the
  behaviour before batching);
* ``sklearn LOO``: ``RidgeCV(alpha_per_target=True)`` (the same leave-one-out);
* ``l2gd 5-fold`` and ``himalaya 5-fold``: himalaya's ``RidgeCV`` has no
  leave-one-out (its default is 5-fold), so it is compared with l2gd's 5-fold,
  both with one alpha per target (``--himalaya PATH``: where himalaya is
  installed, e.g. ``pip install --target PATH himalaya==0.4.11``).

Usage: ``python benchmarks/bench_many_targets.py [--small] [--repeats R] [--out FILE]
[--contenders "l2gd LOO;sklearn LOO"] [--himalaya PATH]``.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _reset_peak():
    """Start the peak resident set (VmHWM) afresh, so that the peak read after
    the fit is the fit's, not the data generation's (Linux; else a no-op)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_mb():
    try:
        with open("/proc/self/status") as f:
            kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
        return kb / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _data(n, p, k, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    Y = X @ (rng.standard_normal((p, k)) / np.sqrt(p)) + rng.standard_normal((n, k))
    return X, Y


def _estimator(name, alphas, k):
    if name.startswith("l2gd"):
        from l2gd import GDRidgeCV

        cv = 5 if "5-fold" in name else None
        size = k if "unbatched" in name else "auto"
        return GDRidgeCV(
            alphas=alphas, cv=cv, alpha_per_target=True, target_batch_size=size,
            refit="refit=False" not in name,
        )
    if name == "sklearn LOO":
        from sklearn.linear_model import RidgeCV

        return RidgeCV(alphas=alphas, alpha_per_target=True)
    if name == "himalaya 5-fold":
        from himalaya.ridge import RidgeCV

        return RidgeCV(alphas=alphas, cv=5, fit_intercept=True)
    raise ValueError(name)


def child(name, n, p, k, n_alphas, threads):
    """Fit one contender; print a JSON line."""
    import warnings

    from threadpoolctl import threadpool_limits

    X, Y = _data(n, p, k)
    alphas = np.logspace(-2, 4, n_alphas) * n
    est = _estimator(name, alphas, k)
    base = _rss_mb()
    _reset_peak()
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        est.fit(X, Y)
        dt = time.perf_counter() - t0
    peak = _peak_mb()
    coef = np.asarray(getattr(est, "coef_", np.zeros((k, 1))))
    coef = coef.T if coef.shape[0] != k else coef
    print(json.dumps({
        "name": name, "time_s": dt, "peak_mb": peak, "extra_mb": peak - base,
        "data_mb": (X.nbytes + Y.nbytes) / 2**20, "alpha": np.asarray(est.alpha_ if hasattr(
            est, "alpha_") else est.best_alphas_).tolist()[:50],
        "coef_head": coef[:50].tolist(),
    }))


def run(args, shape=None):
    """``(shape, results)``: every contender once per repeat, each in a subprocess;
    ``shape`` ``(n, p, k)`` overrides the sizes ``args.small`` picks."""
    n, p, k = shape or ((1000, 200, 4000) if args.small else (2000, 500, 20000))
    names = args.contenders.split(";") if args.contenders else [
        "l2gd LOO", "l2gd LOO refit=False", "l2gd LOO unbatched refit=False", "sklearn LOO",
        "l2gd 5-fold", "l2gd 5-fold refit=False",
    ]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [ROOT, args.himalaya, os.environ.get("PYTHONPATH")])))
    if args.himalaya:
        names.append("himalaya 5-fold")
    results = {}
    for r in range(args.repeats):
        for name in names:
            cmd = [sys.executable, __file__, "--child", name, "--shape", f"{n},{p},{k}",
                   "--alphas", str(args.alphas), "--threads", str(args.threads)]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                results.setdefault(name, []).append({"error": proc.stderr[-400:]})
                continue
            results.setdefault(name, []).append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return (n, p, k), results


def report(shape, results, n_alphas, threads):
    n, p, k = shape
    ref = results.get("sklearn LOO", [{}])[0]
    lines = [
        f"X {n} x {p} float64, {k} targets (Y {n * k * 8 / 2**20:.0f} MiB), {n_alphas} alphas, "
        f"alpha_per_target=True, BLAS {threads} thread(s); extra = peak RSS minus RSS with the "
        "data loaded; time: median of the repeats.",
        "",
        "| contender | time (s) | extra memory (MiB) | same alphas as RidgeCV | max coef diff |",
        "|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        ok = [r for r in runs if "error" not in r]
        if not ok:
            lines.append(f"| {name} | error: {runs[0]['error'][-120:]!r} | | | |")
            continue
        t = np.median([r["time_s"] for r in ok])
        mem = np.median([r["extra_mb"] for r in ok])
        same = diff = "-"
        if "LOO" in name and "alpha" in ref:
            same = str(ok[0]["alpha"] == ref["alpha"])
            if "refit=False" not in name:
                diff = np.max(np.abs(np.subtract(ok[0]["coef_head"], ref["coef_head"])))
                diff = f"{diff:.1e}"
        lines.append(f"| {name} | {t:.2f} | {mem:.0f} | {same} | {diff} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child")
    ap.add_argument("--shape")
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--alphas", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--himalaya", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--contenders", default=None, help="names separated by ';'")
    args = ap.parse_args()
    if args.child:
        n, p, k = map(int, args.shape.split(","))
        return child(args.child, n, p, k, args.alphas, args.threads)
    shape, results = run(args)
    text = report(shape, results, args.alphas, args.threads)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
