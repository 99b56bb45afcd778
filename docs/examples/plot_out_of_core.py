"""
Out-of-core fit with a memory budget
====================================

``GDRidgeRegressor(solver="closed_form").partial_fit`` is exact: each block
of rows adds its sufficient statistics (:class:`~l2gd.RidgeStats`), and after
all blocks the model equals ``fit`` on the whole data, with memory
``O(n_features**2)`` whatever the number of rows. So a file larger than the
memory you allow can be streamed in blocks that fit.

Here a 32 MB file is streamed in blocks of at most a quarter of an 8 MB
budget, through the exact closed form and, at the same time, one pass of SGD.
The blocks are read with plain file reads (:func:`numpy.fromfile`), so the
file's pages stay in the operating system's cache and do not count towards
the process's resident memory (a :class:`numpy.memmap` also works, with no
copy of X, but the pages it touches count towards the resident memory until
the kernel reclaims them). The resident memory is sampled after every block.
``examples/out_of_core.py`` in the repository does the same for a 200 MB file
from the command line.
"""

# %%
# Write the file block by block
# -----------------------------
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

from l2gd import GDRidgeRegressor

N_ROWS, N_FEATURES, BUDGET_MB = 200_000, 20, 8.0
BLOCK_ROWS = int(BUDGET_MB / 4 * 2**20 / (8 * N_FEATURES))
true_coef = np.linspace(-2.0, 2.0, N_FEATURES)


def rss_mb():
    """Current resident set size of this process, in MB (Linux; NaN elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def write_file(path, seed=0):
    """Write X and y as .npy files block by block, never holding all of X."""
    rng = np.random.default_rng(seed)
    with open(path, "wb") as fx, open(path + ".y.npy", "wb") as fy:
        np.lib.format.write_array_header_1_0(
            fx, {"descr": "<f8", "fortran_order": False, "shape": (N_ROWS, N_FEATURES)})
        np.lib.format.write_array_header_1_0(
            fy, {"descr": "<f8", "fortran_order": False, "shape": (N_ROWS,)})
        for start in range(0, N_ROWS, BLOCK_ROWS):
            X = rng.standard_normal((min(BLOCK_ROWS, N_ROWS - start), N_FEATURES))
            y = X @ true_coef + 1.0 + 0.5 * rng.standard_normal(len(X))
            X.tofile(fx)
            y.tofile(fy)


def blocks(path):
    """Yield (X_block, y_block) read from the two files with plain reads."""
    with open(path, "rb") as fx, open(path + ".y.npy", "rb") as fy:
        for f in (fx, fy):
            np.lib.format.read_magic(f)
            np.lib.format.read_array_header_1_0(f)
        for start in range(0, N_ROWS, BLOCK_ROWS):
            rows = min(BLOCK_ROWS, N_ROWS - start)
            X = np.fromfile(fx, dtype=np.float64, count=rows * N_FEATURES)
            yield X.reshape(rows, N_FEATURES), np.fromfile(fy, dtype=np.float64, count=rows)


tmp = tempfile.TemporaryDirectory()
path = os.path.join(tmp.name, "X.npy")
write_file(path)
print(f"file {os.path.getsize(path) / 2**20:.0f} MB, blocks of {BLOCK_ROWS} rows "
      f"({BLOCK_ROWS * N_FEATURES * 8 / 2**20:.1f} MB), budget {BUDGET_MB:.0f} MB")

# %%
# Stream the blocks through both estimators
# -----------------------------------------
# A warm-up on a throw-away block first, so that the one-off costs of a first
# call (imports, code pages, BLAS buffers) are not counted against the budget.
X_warm = np.random.default_rng(1).standard_normal((BLOCK_ROWS, N_FEATURES))
for solver in ["closed_form", "sgd"]:
    GDRidgeRegressor(solver=solver, random_state=0).partial_fit(X_warm, X_warm[:, 0])
del X_warm

exact = GDRidgeRegressor(alpha=1.0, solver="closed_form")
sgd = GDRidgeRegressor(alpha=1.0, solver="sgd", random_state=0)
print("resident memory above the start, per block:")
start_rss = rss_mb()
extra_rss = []
for X_block, y_block in blocks(path):
    exact.partial_fit(X_block, y_block)
    sgd.partial_fit(X_block, y_block)
    extra_rss.append(rss_mb() - start_rss)
print(np.round(extra_rss, 1))

print(f"{len(extra_rss)} blocks, largest resident memory sampled above the start: "
      f"{max(extra_rss):.1f} MB (budget {BUDGET_MB:.0f} MB)")
print(f"rows seen: {exact.stats_.n_samples}")
print("closed form, relative error against the true coefficients: "
      f"{np.linalg.norm(exact.coef_ - true_coef) / np.linalg.norm(true_coef):.2e}")
gap = np.linalg.norm(sgd.coef_ - exact.coef_) / np.linalg.norm(exact.coef_)
print(f"sgd after one pass (t_={sgd.t_}): relative distance to the exact solution {gap:.2e}")

# %%
# The streamed model is the in-memory one
# ---------------------------------------
# Only to check it (this loads the whole file): ``fit`` on all rows gives the
# same coefficients as the stream of blocks.
X_all = np.load(path, mmap_mode="r")
y_all = np.load(path + ".y.npy")
full = GDRidgeRegressor(alpha=1.0, solver="closed_form").fit(X_all, y_all)
print("streamed == fit on the whole file:", np.allclose(exact.coef_, full.coef_, rtol=1e-10))
del X_all, y_all

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(np.arange(1, len(extra_rss) + 1), extra_rss, marker=".")
ax.axhline(BUDGET_MB, color="k", ls="--", label="budget")
ax.set(xlabel="blocks streamed", ylabel="resident memory above start (MB)",
       ylim=(min(0.0, min(extra_rss)) - 0.5, BUDGET_MB * 1.5))
ax.legend()
fig.tight_layout()
plt.show()
tmp.cleanup()
