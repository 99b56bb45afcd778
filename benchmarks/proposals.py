"""Measured optimization proposals for l2gd (before/after, same process).

Each proposal is applied here by monkeypatching or subclassing, never by
editing l2gd; the exact source diffs are in benchmarks/RESULTS.md. Run::

    python benchmarks/proposals.py            # the issue's dense tall size
    python benchmarks/proposals.py --quick

Proposals:

1. ``ClosedForm``: take the objective for ``history`` from the Gram matrix
   (``yy - 2 w.xy + w^T G w + alpha |w|^2``, O(p^2)) instead of
   ``problem.value(W)``, which is one more pass over X.
2. ``_stats._dense_moments``: one preallocated block buffer (about 2 MB)
   instead of a fresh 8 MB array per block (page faults on every block),
   with the centered y columns written next to X's so that one ``syrk`` gives
   the Gram matrix, ``X^T y`` and ``y^T y`` (when n_targets <= n_features / 4).
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.linalg.blas import get_blas_funcs

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _contenders import BareBlockedGramCholesky, BareGramCholesky  # noqa: E402
from _measure import fit_quietly, interleaved, limits  # noqa: E402
from _problems import dense_tall, dense_wide, multitarget  # noqa: E402

import l2gd._stats as stats_module  # noqa: E402
import l2gd.solvers._closed_form as closed_form_module  # noqa: E402
from l2gd import GDRidgeRegressor  # noqa: E402
from l2gd.solvers import ClosedForm  # noqa: E402
from l2gd.solvers._base import SolveResult  # noqa: E402

ORIGINAL_MOMENTS = stats_module._dense_moments
BUFFER_BYTES = 2 * 2**20


def dense_moments_buffered(X, Y, sample_weight, x_shift, y_shift, block_rows=None):
    """Proposal 2: drop-in replacement of ``l2gd._stats._dense_moments``."""
    n, p = X.shape
    k = Y.shape[1]
    dtype = X.dtype
    fused = k <= max(1, p // 4)
    q = p + k if fused else p
    if block_rows is None:
        block_rows = int(min(max(n, 1), max(256, BUFFER_BYTES // max(1, q * dtype.itemsize))))
    syrk = get_blas_funcs("syrk", dtype=dtype)
    buf = np.empty((block_rows, q), dtype=dtype)
    C = np.zeros((q, q), dtype=dtype, order="F")
    xy = None if fused else np.zeros((p, k), dtype=dtype)
    yy = None if fused else np.zeros(k, dtype=dtype)
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        B = buf[: stop - start]
        np.subtract(X[start:stop], x_shift, out=B[:, :p], dtype=dtype)
        if fused:
            np.subtract(Y[start:stop], y_shift, out=B[:, p:], dtype=dtype)
        else:
            Yb = np.subtract(Y[start:stop], y_shift, dtype=dtype)
        if sample_weight is not None:
            root = np.sqrt(sample_weight[start:stop])[:, None]
            B *= root
            if not fused:
                Yb *= root
        C = syrk(1.0, B.T, beta=1.0, c=C, trans=0, lower=1, overwrite_c=1)
        if not fused:
            Xb = B[:, :p]
            xy += Xb.T @ Yb
            yy += np.einsum("ij,ij->j", Yb, Yb)
    # syrk filled the lower triangle only.
    upper = np.triu_indices(q, 1)
    C[upper] = C.T[upper]
    C = np.ascontiguousarray(C)
    if fused:
        return (
            np.ascontiguousarray(C[:p, :p]),
            np.ascontiguousarray(C[p:, :p].T),
            np.diag(C[p:, p:]).copy(),
        )
    return C, xy, yy


class ClosedFormNoExtraPass(ClosedForm):
    """Proposal 1: ClosedForm whose ``history`` comes from the Gram matrix."""

    def solve(self, problem, *, init=None, tol=None, max_iter=None, random_state=None, verbose=0):
        if self.method != "auto" or problem.n_features > problem.n_samples:
            return super().solve(
                problem,
                init=init,
                tol=tol,
                max_iter=max_iter,
                random_state=random_state,
                verbose=verbose,
            )
        captured = {}
        original = stats_module.RidgeStats._from_checked.__func__

        def capture(cls, *args, **kwargs):
            st = original(cls, *args, **kwargs)
            captured["stats"] = st
            return st

        stats_module.RidgeStats._from_checked = classmethod(capture)
        try:
            W, method = self._primal(problem)
        finally:
            stats_module.RidgeStats._from_checked = classmethod(original)
        st = captured.get("stats")
        if st is None:
            value = problem.value(W)
        else:
            value = float(np.sum(st.objective(W, problem.alpha)))
        return SolveResult(
            coef=W,
            intercept=problem.intercept(W),
            n_iter=1,
            converged=True,
            history=(value,),
            info={"method": method},
        )


ORIGINAL_KERNEL = closed_form_module._kernel


def kernel_deflated(problem):
    """Proposal 3: drop-in replacement of ``l2gd.solvers._closed_form._kernel``."""
    K = ORIGINAL_KERNEL(problem)
    if problem.fit_intercept:
        u = np.ones(K.shape[0], dtype=K.dtype)
        if problem.sample_weight is not None:
            u = np.sqrt(np.asarray(problem.sample_weight, dtype=K.dtype))
        K = K + (np.trace(K) / K.shape[0] / (u @ u)) * np.outer(u, u)
    return K


class _Patched:
    """Context manager: ``_stats._dense_moments`` replaced while active."""

    def __init__(self, moments):
        self.moments = moments

    def __enter__(self):
        stats_module._dense_moments = self.moments

    def __exit__(self, *exc):
        stats_module._dense_moments = ORIGINAL_MOMENTS


def measure(problem, repeats, threads):
    X, y = problem.X, problem.y
    a = problem.alpha
    errs = {}

    def job(name, make, moments=ORIGINAL_MOMENTS):
        def run():
            est = make()
            with _Patched(moments):
                dt = fit_quietly(est, X, y)
            errs[name] = problem.rel_error(est.coef_)
            return dt

        return run

    jobs = {
        "before: closed_form": job(
            "before: closed_form", lambda: GDRidgeRegressor(alpha=a, solver="closed_form")
        ),
        "1: no extra pass": job(
            "1: no extra pass", lambda: GDRidgeRegressor(alpha=a, solver=ClosedFormNoExtraPass())
        ),
        "2: buffered moments": job(
            "2: buffered moments",
            lambda: GDRidgeRegressor(alpha=a, solver="closed_form"),
            dense_moments_buffered,
        ),
        "1+2": job(
            "1+2",
            lambda: GDRidgeRegressor(alpha=a, solver=ClosedFormNoExtraPass()),
            dense_moments_buffered,
        ),
        "floor: bare blocked syrk+cholesky": job(
            "floor: bare blocked syrk+cholesky", lambda: BareBlockedGramCholesky(a)
        ),
        "floor: one-call syrk+cholesky": job(
            "floor: one-call syrk+cholesky", lambda: BareGramCholesky(a)
        ),
    }
    from sklearn.linear_model import Ridge

    jobs["Ridge auto"] = job("Ridge auto", lambda: Ridge(alpha=a))
    with limits(threads):
        res = interleaved(jobs, repeats)
    return {
        name: {
            "median": rec.get("median"),
            "min": rec.get("min"),
            "n": len(rec.get("times", [])),
            "rel_error": errs.get(name),
            "error": rec.get("error"),
        }
        for name, rec in res.items()
    }


def measure_dual(problem, repeats, threads):
    X, y, a = problem.X, problem.y, problem.alpha
    errs = {}

    def job(name, kernel):
        def run():
            est = GDRidgeRegressor(alpha=a, solver="closed_form")
            closed_form_module._kernel = kernel
            try:
                dt = fit_quietly(est, X, y)
            finally:
                closed_form_module._kernel = ORIGINAL_KERNEL
            errs[name] = problem.rel_error(est.coef_)
            return dt

        return run

    from sklearn.linear_model import Ridge

    def ridge():
        est = Ridge(alpha=a)
        dt = fit_quietly(est, X, y)
        errs["Ridge auto"] = problem.rel_error(est.coef_)
        return dt

    jobs = {
        "before: closed_form": job("before: closed_form", ORIGINAL_KERNEL),
        "3: deflated kernel": job("3: deflated kernel", kernel_deflated),
        "Ridge auto": ridge,
    }
    with limits(threads):
        res = interleaved(jobs, repeats)
    return {
        name: {
            "median": rec.get("median"),
            "min": rec.get("min"),
            "n": len(rec.get("times", [])),
            "rel_error": errs.get(name),
            "error": rec.get("error"),
        }
        for name, rec in res.items()
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--threads", type=int, nargs="*", default=[1], help="BLAS thread settings")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)
    n = 40_000 if args.quick else 200_000
    repeats = args.repeats or (5 if args.quick else 9)
    out = {"repeats": repeats, "cases": {}}
    # Sanity: the proposal computes the same moments as the original.
    rng = np.random.default_rng(0)
    Xs, Ys, sw = (
        rng.standard_normal((3000, 7)) + 3,
        rng.standard_normal((3000, 2)),
        rng.uniform(0.5, 2, 3000),
    )
    xm, ym = Xs.mean(0), Ys.mean(0)
    for a, b in zip(
        ORIGINAL_MOMENTS(Xs, Ys, sw, xm, ym),
        dense_moments_buffered(Xs, Ys, sw, xm, ym, block_rows=500),
        strict=False,
    ):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-9), "proposal 2 changed the moments"
    cases = [
        ("dense_tall f64", dense_tall(n, 100)),
        ("dense_tall f32", dense_tall(n, 100, dtype=np.float32)),
        ("multitarget (50 targets)", multitarget(n // 4, 100, 50)),
    ]
    for label, problem in cases:
        for threads in args.threads:
            key = f"{label}, {threads} thread(s)"
            out["cases"][key] = measure(problem, repeats, threads)
            print(key)
            for name, rec in out["cases"][key].items():
                print(f"  {name:36s} {rec['median']:.4f}s  rel err {rec['rel_error']:.1e}")
    for dtype in (np.float32, np.float64):
        n_wide, p_wide = (800, 2000) if args.quick else (2000, 5000)
        problem = dense_wide(n_wide, p_wide, dtype=dtype)
        for threads in args.threads:
            key = f"{problem.name} (dual route), {threads} thread(s)"
            out["cases"][key] = measure_dual(problem, max(3, repeats // 3), threads)
            print(key)
            for name, rec in out["cases"][key].items():
                print(f"  {name:36s} {rec['median']:.4f}s  rel err {rec['rel_error']:.1e}")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = "quick" if args.quick else "full"
    (out_dir / f"proposals_{suffix}.json").write_text(json.dumps(out, indent=1))
    lines = [
        f"# Optimization proposals, measured ({suffix}, median of {repeats}, interleaved)",
        "",
    ]
    for key, res in out["cases"].items():
        base = res["before: closed_form"]["median"]
        lines += [
            f"## {key}",
            "",
            "| variant | median s | vs before | rel err |",
            "|---|---|---|---|",
        ]
        for name, rec in res.items():
            lines.append(
                f"| {name} | {rec['median']:.4f} | {base / rec['median']:.2f}x | {rec['rel_error']:.1e} |"
            )
        lines.append("")
    (out_dir / f"proposals_{suffix}.md").write_text("\n".join(lines))
    print(f"wrote {out_dir / f'proposals_{suffix}.md'}")


if __name__ == "__main__":
    main()
