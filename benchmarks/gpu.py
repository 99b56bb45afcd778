"""GPU check: l2gd on CUDA torch tensors vs l2gd on NumPy (CPU) vs Ridge(svd) on the GPU.

Solvers: closed_form, gd and sgd (the variance-reduced default, seeded), each
on the GPU and on the CPU, and sgd against gd on the same device.

Run on a machine with a CUDA GPU and PyTorch::

    SCIPY_ARRAY_API=1 python benchmarks/gpu.py [--n-samples 1000000] [--n-features 1000]

Dense float32 data of the stated size is generated on the GPU (and copied to
the host once for the CPU baseline). For each contender: median fit time over
``--repeats`` runs, relative coefficient error against the float64 closed-form
solution on the host, and the speed-up of the GPU fit over the same l2gd solver
on the CPU. Prints a markdown table and writes JSON to ``--out`` when given.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402

from l2gd import GDRidgeRegressor  # noqa: E402


def timed(fn, repeats, sync=lambda: None):
    times, out = [], None
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        out = fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def rel_err(coef, ref):
    coef = np.asarray(coef, dtype=np.float64)
    return float(np.linalg.norm(coef - ref) / np.linalg.norm(ref))


def main(argv=None):
    import torch

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    parser.add_argument("--n-features", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cpu-repeats", type=int, default=1)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--svd-repeats", type=int, default=1)
    parser.add_argument("--device", default="cuda", help="torch device (cpu for a smoke test)")
    parser.add_argument("--out", help="write results as JSON to this file")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("benchmarks/gpu.py needs a CUDA GPU (torch.cuda.is_available() is False).")

    n, p = args.n_samples, args.n_features
    dev = torch.device(args.device)
    gen = torch.Generator(device=dev).manual_seed(0)
    X = torch.randn(n, p, device=dev, dtype=torch.float32, generator=gen)
    w_true = torch.randn(p, device=dev, dtype=torch.float32, generator=gen)
    y = X @ w_true + 0.5 * torch.randn(n, device=dev, dtype=torch.float32, generator=gen) + 3.0
    X_np, y_np = X.cpu().numpy(), y.cpu().numpy()
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    # Reference: float64 closed form on the host.
    ref = GDRidgeRegressor(alpha=args.alpha, solver="closed_form").fit(
        X_np.astype(np.float64), y_np.astype(np.float64)
    ).coef_

    rows = []

    def add(name, device, seconds, coef, baseline=None):
        rows.append(
            {
                "contender": name,
                "device": device,
                "fit_seconds": seconds,
                "rel_err_vs_float64": rel_err(coef, ref),
                "speedup_vs_cpu": None if baseline is None else baseline / seconds,
            }
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for solver in ["closed_form", "gd", "sgd"]:
            est_cpu = GDRidgeRegressor(alpha=args.alpha, solver=solver, random_state=0)
            cpu_s, est_cpu = timed(lambda: est_cpu.fit(X_np, y_np), args.cpu_repeats)
            add(f"l2gd {solver} (numpy)", "cpu", cpu_s, est_cpu.coef_)
            with sklearn.config_context(array_api_dispatch=True):
                est = GDRidgeRegressor(alpha=args.alpha, solver=solver, random_state=0)
                est.fit(X, y)  # warm-up (CUDA context, kernels)
                gpu_s, est = timed(lambda: est.fit(X, y), args.repeats, sync)
            assert est.coef_.device.type == dev.type, "coef_ left the device"
            add(f"l2gd {solver} (torch {dev.type})", dev.type, gpu_s, est.coef_.cpu().numpy(), cpu_s)
        with sklearn.config_context(array_api_dispatch=True):
            ridge = Ridge(alpha=args.alpha, solver="svd")
            svd_s, ridge = timed(lambda: ridge.fit(X, y), args.svd_repeats, sync)
        add(f"sklearn Ridge(svd) (torch {dev.type})", dev.type, svd_s, ridge.coef_.cpu().numpy())

    info = {
        "n_samples": n,
        "n_features": p,
        "dtype": "float32",
        "gpu": torch.cuda.get_device_name(0) if dev.type == "cuda" else "none (cpu)",
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    print(f"# l2gd GPU check: n={n:,}, p={p:,}, float32 on {info['gpu']}\n")
    print("| contender | device | fit time (s) | rel. error vs float64 | speed-up vs CPU |")
    print("|---|---|---|---|---|")
    for r in rows:
        sp = "-" if r["speedup_vs_cpu"] is None else f"{r['speedup_vs_cpu']:.1f}x"
        print(
            f"| {r['contender']} | {r['device']} | {r['fit_seconds']:.3f} | "
            f"{r['rel_err_vs_float64']:.1e} | {sp} |"
        )
    svd_row = rows[-1]
    for r in rows:
        if r["device"] == dev.type and r["device"] != "cpu" and r is not svd_row:
            print(f"\n{r['contender']}: {svd_row['fit_seconds'] / r['fit_seconds']:.1f}x faster "
                  "than Ridge(svd) on the same GPU", end="")
    by_name = {r["contender"]: r for r in rows}
    gd_gpu, sgd_gpu = (by_name.get(f"l2gd {s} (torch {dev.type})") for s in ("gd", "sgd"))
    if gd_gpu and sgd_gpu:
        print(f"\nl2gd sgd on {dev.type}: {sgd_gpu['fit_seconds'] / gd_gpu['fit_seconds']:.2f}x "
              "the time of gd on the same device", end="")
    print()
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"info": info, "rows": rows}, fh, indent=2)
    return rows


if __name__ == "__main__":
    main()
