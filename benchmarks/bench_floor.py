"""The closed form against its floor, mixed precision, and preconditioned gd (issue 15).

Sections, every timing the median of interleaved repeats with BLAS pinned to
one thread (threadpoolctl), scikit-learn in the same process:

- ``floor``: ``GDRidgeRegressor(solver="closed_form").fit`` and
  ``RidgeStats.from_batch`` against one blocked ``syrk`` pass over X in place
  (the floor: one read of X and the ``n p^2`` flops) and
  ``Ridge(solver="cholesky")`` (the same algorithm). Run it once with
  ``PYTHONPATH`` at the old tree and once at the new one for before/after.
- ``mixed``: ``ClosedForm(precision="mixed")`` (float32 Gram and factor,
  refinement with float64 residuals from X) against ``precision="double"``,
  the float64 floor (blocked ``dsyrk``), the float32 floor (blocked ``ssyrk``
  of the converted blocks) and ``Ridge(solver="cholesky")``, with errors,
  at several ``p``; the p = 1000 row says whether the 0.65x target is met.
- ``gd``: gd to a relative error of 1e-6 against ``Ridge`` lsqr and sparse_cg
  on dense wide, sparse and mixed-scale problems, one multi-target fit against
  single fits, and a randomized Nystrom-preconditioned CG (Frangella, Tropp
  and Udell 2023) prototype on a problem with fast spectral decay.

Run::

    python benchmarks/bench_floor.py              # the issue's sizes
    python benchmarks/bench_floor.py --quick      # small sizes, seconds
    python benchmarks/bench_floor.py --section floor
"""

import argparse
import contextlib
import gc
import io
import statistics
import time
import warnings

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from scipy.linalg.blas import get_blas_funcs
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

import l2gd
from l2gd import GDRidgeRegressor, RidgeStats


def timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def interleaved(jobs, repeats):
    """name -> median seconds of ``repeats`` round-robin runs."""
    times = {name: [] for name in jobs}
    for _ in range(repeats):
        for name, fn in jobs.items():
            times[name].append(timed(fn))
    return {name: statistics.median(t) for name, t in times.items()}


def syrk_floor(X, block_bytes=2**20):
    """One blocked syrk pass over X in place (no shift, no copy)."""
    syrk = get_blas_funcs("syrk", dtype=X.dtype)
    n, p = X.shape
    rows = max(256, block_bytes // (p * X.itemsize))
    C = np.zeros((p, p), dtype=X.dtype, order="F")
    for s in range(0, n, rows):
        C = syrk(1.0, X[s : s + rows].T, beta=1.0, c=C, trans=0, lower=1, overwrite_c=1)
    return C


def tall(n, p, dtype, seed=0):
    """The suite's dense tall problem: scales in [0.5, 2], non-zero means."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * np.exp(rng.uniform(np.log(0.5), np.log(2), p))
    X += rng.uniform(-1, 1, p)
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    return X.astype(dtype), y.astype(dtype)


def floor_times(n, p, dtype, repeats):
    """Median seconds of the syrk floor, ``fit``, ``from_batch`` and
    ``Ridge(solver="cholesky")`` on :func:`tall` data, interleaved."""
    X, y = tall(n, p, dtype)

    def fit():
        GDRidgeRegressor(solver="closed_form", alpha=1.0).fit(X, y)

    def ridge():
        Ridge(solver="cholesky", alpha=1.0).fit(X, y)

    jobs = {"floor": lambda: syrk_floor(X), "fit": fit,
            "from_batch": lambda: RidgeStats.from_batch(X, y), "ridge": ridge}
    return interleaved(jobs, repeats)


def floor_section(sizes, repeats):
    rows = []
    for n, p, dtype in sizes:
        t = floor_times(n, p, dtype, repeats)
        rows.append((f"{n:,} x {p} {np.dtype(dtype).name}", t))
        print(f"| {n:,} x {p} {np.dtype(dtype).name} | {t['floor']:.4f} | {t['from_batch']:.4f} "
              f"({t['from_batch'] / t['floor']:.2f}x) | {t['fit']:.4f} "
              f"({t['fit'] / t['floor']:.2f}x) | {t['ridge']:.4f} | "
              f"{t['ridge'] / t['fit']:.2f}x |", flush=True)
    return rows


# -- mixed precision (item 2) --------------------------------------------------
def ssyrk_converted(X, block_bytes=2**20):
    """The float32 floor for float64 X: one blocked ``ssyrk`` pass, each block
    shifted and rounded to float32 in cache (the mixed route's Gram pass)."""
    syrk = get_blas_funcs("syrk", dtype=np.float32)
    n, p = X.shape
    rows = max(256, block_bytes // (p * 4))
    shift = X[:rows].mean(axis=0)
    C = np.zeros((p, p), dtype=np.float32, order="F")
    buf = np.empty((rows, p), dtype=np.float32)
    for s in range(0, n, rows):
        B = buf[: min(rows, n - s)]
        np.subtract(X[s : s + rows], shift, out=B, casting="same_kind")
        C = syrk(1.0, B.T, beta=1.0, c=C, trans=0, lower=1, overwrite_c=1)
    return C


def mixed_problem(n, p, scale_range, seed=1):
    """Tall float64 data, column scales log-uniform in ``[1, scale_range]``,
    non-zero means."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * np.logspace(0, np.log10(scale_range), p) + 1.0
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    return X, y


def mixed_section(sizes, repeats):
    """``GDRidgeRegressor(solver=ClosedForm(precision=...)).fit`` double against
    mixed, the float64 floor (blocked ``dsyrk``), the float32 floor and
    ``Ridge(solver="cholesky")``; errors against ``Ridge(solver="svd")``.
    Target (issue 15): mixed <= 0.65x the float64 floor at p = 1000 with a
    relative error <= 1e-12."""
    from l2gd._objective import RidgeProblem
    from l2gd.solvers import ClosedForm

    for n, p, scales in sizes:
        X, y = mixed_problem(n, p, scales)
        alpha = 1.0
        est = {prec: GDRidgeRegressor(solver=ClosedForm(precision=prec), alpha=alpha)
               for prec in ("double", "mixed")}
        def solve_mixed():  # the solver alone: no estimator validation passes over X
            ClosedForm(precision="mixed").solve(RidgeProblem(X, y[:, None], np.array([alpha])))

        t = interleaved({
            "floor64": lambda: syrk_floor(X), "floor32": lambda: ssyrk_converted(X),
            "double": lambda: est["double"].fit(X, y), "mixed": lambda: est["mixed"].fit(X, y),
            "solve": solve_mixed,
            "ridge": lambda: Ridge(solver="cholesky", alpha=alpha).fit(X, y),
        }, repeats)
        ref = Ridge(alpha=alpha, solver="svd").fit(X, y).coef_
        err = {k: float(np.linalg.norm(e.fit(X, y).coef_ - ref) / np.linalg.norm(ref))
               for k, e in est.items()}
        # The route the estimator's fit took (its verbose line names it).
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            GDRidgeRegressor(solver=ClosedForm(precision="mixed"), alpha=alpha, verbose=1).fit(X, y)
        route = out.getvalue().split("method ")[-1].split()[0]
        ratio = t["mixed"] / t["floor64"]
        verdict = ""
        if p == 1000:
            met = ratio <= 0.65 and err["mixed"] <= 1e-12
            verdict = f" target <= 0.65x: {'met' if met else 'not met'} ({ratio:.2f}x)"
        print(f"| {n:,} x {p} (scales 1..{scales:g}) | {t['floor64']:.4f} | {t['floor32']:.4f} "
              f"({t['floor32'] / t['floor64']:.2f}x) | {t['double']:.4f} "
              f"({t['double'] / t['floor64']:.2f}x) | {t['mixed']:.4f} ({ratio:.2f}x; "
              f"{t['mixed'] / t['double']:.2f}x double) | {t['solve']:.4f} "
              f"({t['solve'] / t['floor64']:.2f}x) | {t['ridge']:.4f} | "
              f"{err['double']:.1e} | {err['mixed']:.1e} | {route} |{verdict}", flush=True)


# -- gd ------------------------------------------------------------------------
def rel_err(w, ref):
    return float(np.linalg.norm(np.ravel(w) - np.ravel(ref)) / np.linalg.norm(ref))


def time_to(make, X, y, ref, level, repeats, tols=(1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9)):
    """Median seconds of the largest ``tol`` whose fit reaches ``level``."""
    for tol in tols:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = make(tol).fit(X, y)
        if rel_err(est.coef_, ref) <= level:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t = statistics.median(timed(lambda: make(tol).fit(X, y)) for _ in range(repeats))
            return t, tol
    return float("nan"), None


def gd_problems(quick):
    rng = np.random.default_rng(7)
    n, p = (200, 600) if quick else (500, 1500)
    Xw = rng.standard_normal((n, p)) + 0.5
    yw = Xw @ rng.standard_normal(p) + rng.standard_normal(n)
    ns, ps = (2000, 1000) if quick else (20000, 5000)
    Xs = sp.random(ns, ps, density=0.01, format="csr", random_state=3)
    ys = Xs @ rng.standard_normal(ps) + 0.1 * rng.standard_normal(ns)
    nm, pm = (2000, 100) if quick else (20000, 200)
    Xm = rng.standard_normal((nm, pm)) * np.logspace(-3, 3, pm)
    ym = Xm @ (rng.standard_normal(pm) / np.logspace(-3, 3, pm)) + rng.standard_normal(nm)
    return [("dense wide", Xw, yw, 1.0), ("sparse", Xs, ys, 1.0), ("column scales 1e-3..1e3",
            Xm, ym, 1.0)]


def gd_section(quick, repeats):
    for name, X, y, alpha in gd_problems(quick):
        ref = Ridge(alpha=alpha, solver="sparse_cg" if sp.issparse(X) else "svd",
                    tol=1e-14, max_iter=100000).fit(X, y).coef_
        row = {}
        for label, make in {
            "gd": lambda tol: GDRidgeRegressor(solver="gd", alpha=alpha, tol=tol, max_iter=100000),
            "lsqr": lambda tol: Ridge(solver="lsqr", alpha=alpha, tol=tol, max_iter=100000),
            "sparse_cg": lambda tol: Ridge(solver="sparse_cg", alpha=alpha, tol=tol,
                                           max_iter=100000),
        }.items():
            row[label] = time_to(make, X, y, ref, 1e-6, repeats)
        best = min(row["lsqr"][0], row["sparse_cg"][0])
        print(f"| {name} {X.shape[0]:,} x {X.shape[1]:,} | " + " | ".join(
            f"{t:.4f} (tol {tol})" for t, tol in row.values()) +
            f" | {row['gd'][0] / best:.2f}x |", flush=True)


def multitarget_section(quick, repeats):
    rng = np.random.default_rng(8)
    n, p, k = (2000, 100, 50) if quick else (20000, 200, 50)
    X = rng.standard_normal((n, p)) + 0.3
    Y = X @ rng.standard_normal((p, k)) + rng.standard_normal((n, k))

    def one():
        GDRidgeRegressor(solver="gd", alpha=1.0, tol=1e-6).fit(X, Y)

    def singles():
        for j in range(k):
            GDRidgeRegressor(solver="gd", alpha=1.0, tol=1e-6).fit(X, Y[:, j])

    t = interleaved({"one": one, "singles": singles}, repeats)
    print(f"| {n:,} x {p}, {k} targets | {t['one']:.4f} | {t['singles']:.4f} | "
          f"{t['singles'] / t['one']:.2f}x |", flush=True)


def nystrom_pcg(X, y, alpha, rank, tol, max_iter=10000, seed=0):
    """Prototype: CG on ``(X_c^T X_c + alpha I) w = X_c^T y_c`` preconditioned by a
    randomized Nystrom approximation of rank ``rank`` (Frangella, Tropp, Udell 2023,
    Algorithms 2.1 and 5.1)."""
    m, my = X.mean(0), y.mean()
    Xc = X - m
    p = X.shape[1]

    def Hv(v):
        return Xc.T @ (Xc @ v) + alpha * v

    Om = la.qr(np.random.default_rng(seed).standard_normal((p, rank)), mode="economic")[0]
    Yn = Xc.T @ (Xc @ Om)
    nu = np.finfo(float).eps * np.linalg.norm(Yn, 2)
    Yn += nu * Om
    Cc = la.cholesky(Om.T @ Yn, lower=False)
    B = la.solve_triangular(Cc, Yn.T, trans="T").T
    U, s, _ = la.svd(B, full_matrices=False)
    lam = np.maximum(s**2 - nu, 0.0)

    def Pinv(r):
        Ur = U.T @ r
        return (lam[-1] + alpha) * (U @ (Ur / (lam + alpha))) + r - U @ Ur

    b = Xc.T @ (y - my)
    w = np.zeros(p)
    r = b.copy()
    z = Pinv(r)
    d = z.copy()
    rz = r @ z
    bn = np.linalg.norm(b)
    for it in range(max_iter):
        Hd = Hv(d)
        a = rz / (d @ Hd)
        w += a * d
        r -= a * Hd
        if np.linalg.norm(r) <= tol * bn:
            break
        z = Pinv(r)
        rz, rz_old = r @ z, rz
        d = z + (rz / rz_old) * d
    return w, it + 1


def nystrom_section(quick, repeats):
    rng = np.random.default_rng(9)
    n, p = (1000, 300) if quick else (3000, 1000)
    Q = la.qr(rng.standard_normal((n, p)), mode="economic")[0]
    V = la.qr(rng.standard_normal((p, p)))[0]
    s = 1e2 * np.exp(-np.arange(p) / 10.0)  # fast spectral decay
    X = (Q * s) @ V.T
    y = X @ rng.standard_normal(p) + 0.01 * rng.standard_normal(n)
    alpha = 1e-2
    ref = Ridge(alpha=alpha, solver="svd").fit(X, y).coef_
    rows = {}
    for rank in (50, 100):
        w, it = nystrom_pcg(X, y, alpha, rank, 1e-10)
        t = statistics.median(timed(lambda: nystrom_pcg(X, y, alpha, rank, 1e-10))
                              for _ in range(repeats))
        rows[f"Nystrom PCG rank {rank}"] = (t, it, rel_err(w, ref))
    for label, est in {"gd (Jacobi CG)": GDRidgeRegressor(solver="gd", alpha=alpha, tol=1e-10,
                                                          max_iter=3000),
                       "lsqr": Ridge(solver="lsqr", alpha=alpha, tol=1e-12, max_iter=3000)}.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
            t = statistics.median(timed(lambda: est.fit(X, y)) for _ in range(repeats))
        rows[label] = (t, int(np.max(est.n_iter_)), rel_err(est.coef_, ref))
    for label, (t, it, err) in rows.items():
        print(f"| {label} | {t:.4f} | {it} | {err:.1e} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--section", choices=("floor", "mixed", "gd", "all"), default="all")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    print(f"l2gd {l2gd.__version__} from {l2gd.__file__}; BLAS pinned to 1 thread")
    with threadpool_limits(1):
        if args.section in ("floor", "all"):
            sizes = ([(20000, 100, np.float64), (50000, 200, np.float32)] if args.quick else
                     [(400000, 200, np.float64), (400000, 200, np.float32),
                      (20000, 100, np.float64), (20000, 1000, np.float64)])
            print("| problem | syrk floor s | from_batch s | fit s | Ridge(cholesky) s | "
                  "Ridge / fit |\n|---|---|---|---|---|---|")
            floor_section(sizes, repeats)
        if args.section in ("mixed", "all"):
            sizes = [(5000, 300, 10.0), (10000, 1000, 10.0)] if args.quick else [
                (20000, 128, 10.0), (20000, 256, 10.0), (20000, 300, 10.0),
                (50000, 500, 10.0), (20000, 1000, 10.0), (20000, 1000, 1e3)]
            print("\n| problem | f64 syrk floor s | f32 syrk floor s | fit double s | "
                  "fit mixed s | solve mixed s | Ridge(cholesky) s | error double | "
                  "error mixed | fit mixed route |\n|---|---|---|---|---|---|---|---|---|---|")
            mixed_section(sizes, repeats)
        if args.section in ("gd", "all"):
            print("\n| problem | gd | lsqr | sparse_cg | gd / best |\n|---|---|---|---|---|")
            gd_section(args.quick, repeats)
            print("\n| multi-target | one fit s | single fits s | ratio |\n|---|---|---|---|")
            multitarget_section(args.quick, repeats)
            print("\n| fast spectral decay | s | iterations | rel. error |\n|---|---|---|---|")
            nystrom_section(args.quick, repeats)


if __name__ == "__main__":
    main()
