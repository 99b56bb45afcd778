"""The Dask engine: chunk kernels, tree reductions, TSQR and the persist policy
(optional extra ``l2gd[dask]``).

This module knows dask arrays and the mathematics of their chunks, and nothing
of estimators or solvers (a test asserts it does not import them): the
estimators reach it through :class:`l2gd._sources.DaskSource`, which asks for

- :func:`compute_stats` / :func:`fold_stats`: :class:`~l2gd.RidgeStats` of all
  rows (or of each fold) in one pass: one task per row chunk, a tree of
  :meth:`RidgeStats.merge` tasks, one ``p x p`` object on the client;
- :func:`tsqr_solve`: the R factor of ``S^{1/2} [1, X, Y]`` by TSQR (one QR per
  chunk, a tree of QRs of stacked R factors; one more pass), as accurate as an
  SVD of X, for ill-conditioned problems;
- :func:`gram_operator`: for data too wide for ``p x p``, a first pass for the
  means, ``X_c^T S y_c`` and the Gram diagonal, and ``V -> X_c^T S X_c V`` as
  one fused pass per product (each chunk returns its part; a tree sum);
- :func:`partial_fit_epochs`: ``model.partial_fit`` over the row chunks in a
  shuffled order, each update a task next to its chunk (the model moves, the
  data stays);
- :func:`predict` and :func:`score`: blockwise, lazy / one pass.

Nothing here imports dask at module import time: :func:`is_dask_collection`
recognizes dask objects by duck typing, so the estimators route dask input
here *before* scikit-learn's validation would load it into memory. Errors found
inside a pass (NaN or infinity, negative weights) are raised on the client as
``ValueError``; nothing is gathered onto one worker.
"""

import numbers

import numpy as np
import scipy.linalg as la

from ._linalg import numerical_rank, singular_cutoff, warn_if_singular
from ._objective import centered_gram_block
from ._scores import r2_from_parts
from ._stats import RidgeStats, combine_means

# Statistics objects of about this many bytes are merged this many at a time.
_MERGE_BYTES = 256 * 2**20



def is_dask_collection(x):
    """True when ``x`` is a dask collection (dask array, dataframe or series)."""
    return hasattr(x, "__dask_graph__") and type(x).__module__.startswith("dask")


# ---------------------------------------------------------------------------
# Input checks (lazy: only shapes, chunks and dtypes; values are checked in the pass)
# ---------------------------------------------------------------------------
def _as_dask_array(x, name):
    import dask.array as da

    if isinstance(x, da.Array):
        return x
    if is_dask_collection(x) and hasattr(x, "to_dask_array"):
        # dask DataFrame / Series: row lengths are computed (one cheap pass).
        return x.to_dask_array(lengths=True)
    if is_dask_collection(x):
        raise TypeError(
            f"{name} must be a dask array, dataframe or series; got {type(x).__name__}."
        )
    return None


def _check_known_chunks(A, name):
    if any(np.isnan(c) for c in A.chunks[0]):
        raise ValueError(
            f"{name} has unknown chunk sizes (e.g. after boolean indexing); call "
            f"{name}.compute_chunk_sizes() first, or build it with known chunks."
        )


def _check_float_dtype(dtype, name):
    if dtype.kind not in "biuf":
        raise TypeError(f"{name} must have a numeric dtype, got {dtype}.")


def _check_X(X):
    """X as a 2-D float dask array chunked by rows only (lazily)."""
    Xd = _as_dask_array(X, "X")
    if Xd is None:
        raise TypeError(f"X must be a dask array, got {type(X).__name__}.")
    if Xd.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got {Xd.ndim}-D.")
    _check_known_chunks(Xd, "X")
    _check_float_dtype(Xd.dtype, "X")
    if Xd.dtype not in (np.float32, np.float64):
        Xd = Xd.astype(np.float64)
    if len(Xd.chunks[1]) > 1:
        # One chunk of columns per row chunk; dask picks row chunks of about
        # its configured chunk size (array.chunk-size) so blocks stay small.
        Xd = Xd.rechunk({0: "auto", 1: -1})
    if Xd.shape[0] == 0:
        raise ValueError("X has 0 samples; at least one is required.")
    return Xd


def _aligned(v, X, name, ndims):
    """``v`` (numpy or dask) as a dask array with X's row chunks, float dtype of X."""
    import dask.array as da

    vd = _as_dask_array(v, name)
    if vd is None:
        v = np.asarray(v)
        _check_float_dtype(v.dtype, name)
        if v.ndim not in ndims:
            raise ValueError(f"{name} must be {' or '.join(map(str, ndims))}-D, got {v.ndim}-D.")
        if v.shape[0] != X.shape[0]:
            raise ValueError(
                f"{name} has {v.shape[0]} rows but X has {X.shape[0]}; they must match."
            )
        return da.from_array(v.astype(X.dtype, copy=False), chunks=(X.chunks[0],) + v.shape[1:])
    if vd.ndim not in ndims:
        raise ValueError(f"{name} must be {' or '.join(map(str, ndims))}-D, got {vd.ndim}-D.")
    _check_known_chunks(vd, name)
    _check_float_dtype(vd.dtype, name)
    if vd.shape[0] != X.shape[0]:
        raise ValueError(f"{name} has {vd.shape[0]} rows but X has {X.shape[0]}; they must match.")
    if vd.dtype != X.dtype:
        vd = vd.astype(X.dtype)
    if vd.chunks[0] != X.chunks[0] or (vd.ndim == 2 and len(vd.chunks[1]) > 1):
        # Small next to X (1/n_features of its size): aligning it is cheap.
        vd = vd.rechunk((X.chunks[0],) + tuple(-1 for _ in vd.shape[1:]))
    return vd


def _check_inputs(X, y, sample_weight):
    """Return ``(X, y, sw)``: dask arrays with the same row chunks; sw may be None."""
    import dask.array as da

    X = _check_X(X)
    y = _aligned(y, X, "y", (1, 2))
    if sample_weight is None:
        sw = None
    elif isinstance(sample_weight, numbers.Real) and not isinstance(sample_weight, bool):
        if not (np.isfinite(sample_weight) and sample_weight > 0):
            raise ValueError(f"sample_weight must be positive and finite, got {sample_weight!r}.")
        sw = da.full(X.shape[0], sample_weight, dtype=X.dtype, chunks=(X.chunks[0],))
    else:
        sw = _aligned(sample_weight, X, "sample_weight", (1,))
    return X, y, sw


# ---------------------------------------------------------------------------
# One pass: a kernel per row chunk, then a tree reduction
# ---------------------------------------------------------------------------
def _nonfinite_error(Xb, Yb, swb, start):
    stop = start + Xb.shape[0]
    for name, v in (("X", Xb), ("y", Yb), ("sample_weight", swb)):
        if v is not None and not np.all(np.isfinite(v)):
            return ValueError(
                f"Input {name} contains NaN or infinity (in rows {start} to {stop - 1})."
            )
    return ValueError(
        f"The statistics of rows {start} to {stop - 1} overflowed; rescale X or y "
        "(values too large for the dtype)."
    )


def _check_weights_block(swb, start):
    if swb is not None and np.any(swb < 0):
        raise ValueError(
            f"sample_weight must be non-negative; found negative weights in rows {start} "
            f"to {start + swb.shape[0] - 1}."
        )


def _stats_kernel(Xb, Yb, swb, start, fit_intercept, folds=None):
    """RidgeStats of one chunk (or a list of them, one per fold)."""
    start = int(np.asarray(start).ravel()[0])
    Yb = Yb.reshape(-1, 1) if Yb.ndim == 1 else Yb
    _check_weights_block(swb, start)
    if folds is None:
        out = RidgeStats._from_checked(Xb, Yb, swb, fit_intercept)
        parts = [out]
    else:
        parts = []
        for rows in folds(start, Xb.shape[0]):
            parts.append(
                RidgeStats._from_checked(
                    Xb[rows], Yb[rows], None if swb is None else swb[rows], fit_intercept
                )
            )
        out = parts
    for s in parts:
        if not (
            np.all(np.isfinite(s.x_mean))
            and np.all(np.isfinite(np.diagonal(s.xx)))
            and np.all(np.isfinite(s.xy))
            and np.all(np.isfinite(s.yy))
        ):
            raise _nonfinite_error(Xb, Yb, swb, start)
    return _box(out)


def _box(obj):
    """A one-element object array (the block of a dask array of objects)."""
    out = np.empty(1, dtype=object)
    out[0] = obj
    return out


def _unbox(obj):
    return obj[0] if isinstance(obj, np.ndarray) and obj.dtype == object else obj


def _merge_stats(*parts):
    parts = [_unbox(p) for p in parts]
    if isinstance(parts[0], list):  # per-fold lists: merge fold by fold
        return [_merge_stats(*fold) for fold in zip(*parts)]
    out = parts[0]
    for p in parts[1:]:
        out = out.merge(p)
    return out


def _sum_parts(*parts):
    parts = [_unbox(p) for p in parts]
    out = parts[0]
    for p in parts[1:]:
        out = tuple(a + b for a, b in zip(out, p))
    return out


def _row_starts(X):
    import dask.array as da

    starts = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).astype(np.int64)
    return da.from_array(starts, chunks=1)


def _blockwise_objects(kernel, X, Y, sw, *extra_args, **kwargs):
    """One task per row chunk: ``kernel(Xb, Yb, swb, start, *extra_args, **kwargs)``."""
    y_ind = "ik" if Y.ndim == 2 else "i"
    args = [X, "ij", Y, y_ind]
    args += [sw, "i"] if sw is not None else [None, None]
    args += [_row_starts(X), "i"]
    for a in extra_args:
        args += [a, None]
    return _object_blocks(kernel, *args, **kwargs)


def _object_blocks(kernel, *args, **kwargs):
    """``da.blockwise`` giving one Python object per row chunk (``args`` as
    ``array, index`` pairs), for a tree reduction to merge."""
    import dask.array as da

    return da.blockwise(
        kernel,
        "i",
        *args,
        dtype=object,
        concatenate=True,
        align_arrays=False,
        adjust_chunks={"i": 1},
        meta=np.empty(0, dtype=object),
        **kwargs,
    )


def _tree_reduce(blocks, combine, split_every, name):
    """Reduce a 1-D dask array of objects with a tree of ``combine`` tasks (lazy)."""
    import dask

    parts = list(blocks.to_delayed().ravel())
    level = 0
    while len(parts) > 1:
        level += 1
        parts = [
            dask.delayed(combine, pure=True)(
                *parts[i : i + split_every], dask_key_name=f"{name}-{level}-{i}-{blocks.name}"
            )
            for i in range(0, len(parts), split_every)
        ]
    return dask.delayed(_unbox, pure=True)(parts[0])


def _split_every(n_features, n_targets, itemsize):
    size = (n_features + n_targets) ** 2 * itemsize
    return int(max(2, min(8, _MERGE_BYTES // max(size, 1))))


def compute_stats(X, y, sample_weight=None, *, fit_intercept=True):
    """:class:`~l2gd.RidgeStats` of dask arrays, in one pass over the data.

    One task per row chunk computes that chunk's statistics; a tree of
    :meth:`~l2gd.RidgeStats.merge` tasks (a few at a time) reduces them. Only
    the ``p x p`` result comes back to the client.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
        Chunked by rows (several column chunks are merged into one).
    y : dask or numpy array of shape (n_samples,) or (n_samples, n_targets)
        Targets; rechunked to X's row chunks when they differ.
    sample_weight : dask or numpy array of shape (n_samples,), default=None
        Non-negative weights.
    fit_intercept : bool, default=True
        Center the moments.

    Returns
    -------
    stats : RidgeStats

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from l2gd import RidgeStats
    >>> from l2gd._dask import compute_stats
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((100, 3)), rng.standard_normal(100)
    >>> stats = compute_stats(da.from_array(X, chunks=30), da.from_array(y, chunks=30))
    >>> bool(np.allclose(stats.xx, RidgeStats.from_batch(X, y).xx))
    True
    """
    X, Y, sw = _check_inputs(X, y, sample_weight)
    return _compute_stats(X, Y, sw, fit_intercept)


def _compute_stats(X, Y, sw, fit_intercept):
    k = 1 if Y.ndim == 1 else Y.shape[1]
    blocks = _blockwise_objects(_stats_kernel, X, Y, sw, fit_intercept)
    stats = _tree_reduce(
        blocks, _merge_stats, _split_every(X.shape[1], k, X.dtype.itemsize), "l2gd-merge"
    ).compute()
    _check_total_weight(stats.sw_sum)
    return stats


def _check_total_weight(sw_sum):
    if not sw_sum > 0:
        raise ValueError("sample_weight must have a positive sum; all weights are zero.")


# ---------------------------------------------------------------------------
# TSQR: the R factor of S^{1/2} [1, X, Y] by a tree of QRs
# ---------------------------------------------------------------------------
def _qr_r(A):
    """Square upper-triangular R with ``R^T R = A^T A``."""
    m, q = A.shape
    if m == 0:
        return np.zeros((q, q), dtype=A.dtype)
    R = la.qr(A, mode="r", check_finite=False)[0]
    if R.shape[0] < q:
        R = np.vstack([R, np.zeros((q - R.shape[0], q), dtype=A.dtype)])
    return R[:q]


def _tsqr_kernel(Xb, Yb, swb, start, fit_intercept, shift):
    start = int(np.asarray(start).ravel()[0])
    Yb = Yb.reshape(-1, 1) if Yb.ndim == 1 else Yb
    _check_weights_block(swb, start)
    if fit_intercept:
        # Shifting the columns is exact with an intercept and keeps the
        # conditioning that of the centered data, not of [1, X].
        x_shift, y_shift = shift
        A = np.hstack([np.ones((Xb.shape[0], 1), dtype=Xb.dtype), Xb - x_shift, Yb - y_shift])
    else:
        A = np.hstack([Xb, Yb])
    if not np.all(np.isfinite(A)):
        raise _nonfinite_error(Xb, Yb, swb, start)
    if swb is not None:
        A *= np.sqrt(swb)[:, None]
    return _box(_qr_r(A))


def _first_chunk_means(Xb, Yb):
    """Column means of a chunk: a shift near the data's means (for TSQR)."""
    Yb = Yb.reshape(-1, 1) if Yb.ndim == 1 else Yb
    return Xb.mean(axis=0), Yb.mean(axis=0)


def _merge_r(*parts):
    return _qr_r(np.vstack([_unbox(p) for p in parts]))


def tsqr_solve(X, Y, sw, alpha, fit_intercept, shift=None):
    """Ridge coefficients and intercepts from the R factor of ``S^{1/2} [1, X - c, Y - d]``.

    The shift ``(c, d)`` (exact algebra with an intercept) is the weighted mean
    when known from the statistics, else the mean of the first chunk.

    With ``A = Q R``, ``||S^{1/2}(y_k - b - X w)||^2 = ||R z||^2`` for
    ``z = (-b, -w, e_k)``. Column 0 of R (the intercept) is zero below row 0,
    so row 0 fixes ``b`` and the rest is a ``p x p`` triangular least-squares
    problem, solved by SVD with the ridge filter ``s / (s^2 + alpha)``.
    """
    p = X.shape[1]
    k = Y.shape[1] if Y.ndim == 2 else 1
    off = 1 if fit_intercept else 0
    import dask

    if shift is None and fit_intercept:
        first = (X.blocks[0], Y.blocks[0])
        shift = dask.delayed(_first_chunk_means, pure=True)(*first)
    elif shift is None:
        shift = (None, None)
    else:
        shift = dask.delayed(tuple(shift), pure=True)
    blocks = _blockwise_objects(_tsqr_kernel, X, Y, sw, fit_intercept, shift)
    R = _tree_reduce(
        blocks, _merge_r, _split_every(p + off, k, X.dtype.itemsize), "l2gd-tsqr"
    ).compute()
    if fit_intercept:
        _check_total_weight(R[0, 0] ** 2)
    T = R[off : off + p, off : off + p]
    C = R[off : off + p, off + p :]
    U, s, Vt = la.svd(T, check_finite=False)
    cutoff = singular_cutoff(s, X.shape[0], X.dtype)
    warn_if_singular(alpha, numerical_rank(s, cutoff), p, "X", stacklevel=6)
    UC = U.T @ C
    W = np.empty((p, k), dtype=X.dtype)
    keep = s > cutoff
    for j, a in enumerate(alpha):
        d = np.zeros_like(s)
        d[keep] = s[keep] / (s[keep] ** 2 + a)
        W[:, j] = Vt.T @ (d * UC[:, j])
    if fit_intercept:
        x_shift, y_shift = dask.compute(shift)[0]
        b = (R[0, 1 + p :] - R[0, 1 : 1 + p] @ W) / R[0, 0] + y_shift - x_shift @ W
    else:
        b = np.zeros(k, dtype=X.dtype)
    # Objective from R: residual rows of ``R z`` for each target.
    value = 0.0
    for j in range(k):
        z = np.zeros(R.shape[0], dtype=R.dtype)
        z[off : off + p] = -W[:, j]
        z[off + p + j] = 1.0
        if fit_intercept:
            z[0] = -b[j]
        value += float(np.sum((R @ z) ** 2) + alpha[j] * W[:, j] @ W[:, j])
    return W, b.astype(X.dtype), value


# ---------------------------------------------------------------------------
# Gradient descent on the statistics (or on one fused pass per iteration)
# ---------------------------------------------------------------------------
class _CrossStats:
    """Mergeable statistics without ``xx``: means, ``X_c^T S y_c``, ``y_c^T S y_c``
    and the diagonal of ``X_c^T S X_c`` (for data too wide for ``p x p``)."""

    def __init__(self, sw_sum, x_mean, y_mean, xdiag, xy, yy, n_samples, fit_intercept):
        self.sw_sum, self.x_mean, self.y_mean = float(sw_sum), x_mean, y_mean
        self.xdiag, self.xy, self.yy = xdiag, xy, yy
        self.n_samples, self.fit_intercept = int(n_samples), fit_intercept

    @classmethod
    def from_block(cls, X, Y, sw, fit_intercept):
        n = X.shape[0]
        S = float(n if sw is None else sw.sum())
        if fit_intercept and S > 0:
            x_mean = (X.sum(0) if sw is None else sw @ X) / S
            y_mean = (Y.sum(0) if sw is None else sw @ Y) / S
        else:
            x_mean = np.zeros(X.shape[1], X.dtype)
            y_mean = np.zeros(Y.shape[1], X.dtype)
        Xc, Yc = X - x_mean, Y - y_mean
        Xs = Xc if sw is None else Xc * sw[:, None]
        xdiag = np.einsum("ij,ij->j", Xs, Xc)
        xy = Xs.T @ Yc
        yy = np.einsum("ij,ij->j", Yc if sw is None else Yc * sw[:, None], Yc)
        return cls(S, x_mean.astype(X.dtype), y_mean.astype(X.dtype), xdiag, xy, yy, n,
                   fit_intercept)

    def merge(self, o):
        xdiag, xy, yy = self.xdiag + o.xdiag, self.xy + o.xy, self.yy + o.yy
        if self.fit_intercept:
            S, (x_mean, y_mean), c, (dx, dy) = combine_means(
                self.sw_sum, (self.x_mean, self.y_mean), o.sw_sum, (o.x_mean, o.y_mean)
            )
            xdiag, xy, yy = xdiag + c * dx * dx, xy + c * np.outer(dx, dy), yy + c * dy * dy
        else:
            S, x_mean, y_mean = self.sw_sum + o.sw_sum, self.x_mean, self.y_mean
        return _CrossStats(S, x_mean, y_mean, xdiag, xy, yy, self.n_samples + o.n_samples,
                           self.fit_intercept)


def _cross_kernel(Xb, Yb, swb, start, fit_intercept):
    start = int(np.asarray(start).ravel()[0])
    Yb = Yb.reshape(-1, 1) if Yb.ndim == 1 else Yb
    _check_weights_block(swb, start)
    s = _CrossStats.from_block(Xb, Yb, swb, fit_intercept)
    if not all(np.all(np.isfinite(v)) for v in (s.x_mean, s.xdiag, s.xy, s.yy)):
        raise _nonfinite_error(Xb, Yb, swb, start)
    return _box(s)


def _gram_kernel(Xb, swb, V, x_mean):
    """This chunk's part of ``X_c^T S X_c V`` (before the centering correction)."""
    return _box(centered_gram_block(Xb, V, x_mean @ V, swb))


def _dask_gram_matvec(X, sw, x_mean, split_every):
    """``V -> X_c^T S X_c V``: one pass over X, one task per chunk and a tree sum."""
    import dask

    def matvec(V):
        Vd = dask.delayed(np.asarray(V), pure=True)
        xm = dask.delayed(x_mean, pure=True)
        args = [X, "ij"] + ([sw, "i"] if sw is not None else [None, None]) + [Vd, None, xm, None]
        blocks = _object_blocks(_gram_kernel, *args)
        XtQ, q = _tree_reduce(blocks, _sum_parts, split_every, "l2gd-gram").compute()
        return XtQ - np.outer(x_mean, q)

    return matvec


def maybe_persist(X, sw):
    """Persist X (and the weights) when X takes under half of the memory available."""
    budget = None
    try:
        from distributed import default_client

        client = default_client()
        workers = client.scheduler_info(n_workers=-1)["workers"].values()
        budget = 0.5 * sum(w.get("memory_limit", 0) or 0 for w in workers)
    except (ImportError, ValueError, TypeError):
        try:
            import psutil

            budget = 0.25 * psutil.virtual_memory().available
        except ImportError:
            budget = None
    if budget and X.nbytes < budget:
        return X.persist(), (None if sw is None else sw.persist())
    return X, sw


def gram_operator(X, Y, sw, fit_intercept):
    """For gradient descent on data too wide for ``p x p`` statistics: the cross
    statistics (means, ``X_c^T S y_c``, ``y_c^T S y_c``, the Gram diagonal) from
    one pass, and ``V -> X_c^T S X_c V`` as one pass per call.

    Returns
    -------
    cross : _CrossStats
    matvec : callable
    """
    p, k = X.shape[1], (1 if Y.ndim == 1 else Y.shape[1])
    blocks = _blockwise_objects(_cross_kernel, X, Y, sw, fit_intercept)
    split = _split_every(int(np.sqrt(p * k)), 0, X.dtype.itemsize)
    cross = _tree_reduce(blocks, _merge_stats, split, "l2gd-cross").compute()
    _check_total_weight(cross.sw_sum)
    return cross, _dask_gram_matvec(X, sw, cross.x_mean, split)


def _residual_kernel(Xb, Yb, swb, start, W, x_mean, y_mean):
    """This chunk's ``r^T S r`` per target and ``X^T S r`` (before centering) at ``W``."""
    R = (Yb.reshape(Yb.shape[0], -1) - y_mean) - (Xb @ W - x_mean @ W)
    SR = R if swb is None else R * swb[:, None]
    return _box((np.einsum("ik,ik->k", SR, R), Xb.T @ SR, SR.sum(axis=0)))


def residual_pass(X, Y, sw, W, x_mean, y_mean):
    """At ``W``, the weighted residual sum of squares per target and
    ``X_c^T S r`` (``r = y_c - X_c W``): one pass over the chunks, exact (no
    cancellation of moments), for a stochastic solver's snapshots."""
    import dask

    p, k = W.shape
    args = [X, "ij", Y, "ik" if Y.ndim == 2 else "i"]
    args += [sw, "i"] if sw is not None else [None, None]
    args += [_row_starts(X), "i"]
    for a in (W, x_mean, y_mean):
        args += [dask.delayed(np.asarray(a), pure=True), None]
    blocks = _object_blocks(_residual_kernel, *args)
    split = _split_every(int(np.sqrt(p * k)), 0, X.dtype.itemsize)
    rss, XtSR, q = _tree_reduce(blocks, _sum_parts, split, "l2gd-residual").compute()
    return rss, XtSR - np.outer(x_mean, q)


def _row_norm_kernel(Xb, swb, x_mean):
    D = Xb - x_mean
    norms = np.einsum("ij,ij->i", D, D)
    if swb is not None:
        norms = norms * swb
    return np.array([norms.max(initial=0.0)])


def max_row_norm(X, sw, x_mean):
    """``max_i s_i ||x_i - x_mean||^2``: one pass (a stochastic step's bound)."""
    import dask.array as da

    args = [X, "ij"] + ([sw, "i"] if sw is not None else [None, None])
    blocks = da.blockwise(
        _row_norm_kernel, "i", *args, x_mean, None, dtype=np.float64,
        concatenate=True, align_arrays=False, adjust_chunks={"i": 1},
    )
    return float(blocks.max().compute())


def row_chunks(X, Y, sw, order):
    """The row chunks as NumPy arrays ``(Xb, Yb, swb)``, one at a time, in ``order``."""
    for i in order:
        Xb, Yb = X.blocks[i].compute(), Y.blocks[i].compute()
        yield Xb, Yb, None if sw is None else sw.blocks[i].compute()


def _partial_fit_block(model, Xb, yb, swb):
    model.partial_fit(Xb, yb, sample_weight=swb)
    return model


def partial_fit_epochs(model, X, y, sw, n_epochs, rng):
    """``model.partial_fit`` over the row chunks of ``X`` in an order drawn from
    ``rng`` each epoch; each update is a task next to its chunk. Returns the
    model after the last update (computed)."""
    import dask

    Xd = X.to_delayed().ravel()
    yd = y.to_delayed().ravel()
    swd = sw.to_delayed().ravel() if sw is not None else [None] * len(Xd)
    for _ in range(n_epochs):
        m = dask.delayed(model)
        for i in rng.permutation(len(Xd)):
            m = dask.delayed(_partial_fit_block)(m, Xd[i], yd[i], swd[i])
        model = m.compute()
    return model


def _check_predict_X(estimator, X):
    X = _check_X(X)
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    return X


def _predict_block(Xb, coef_T, intercept):
    if not np.all(np.isfinite(Xb)):
        raise ValueError("Input X contains NaN or infinity.")
    return Xb @ coef_T + intercept


def predict(estimator, X):
    """Lazy, blockwise predictions of a fitted estimator on a dask array.

    Returns a dask array with X's row chunks, of shape (n_samples,) or
    (n_samples, n_targets) like ``estimator.coef_``; nothing is computed.
    """
    import dask.array as da

    X = _check_predict_X(estimator, X)
    coef = np.asarray(estimator.coef_)
    dtype = np.result_type(X.dtype, coef.dtype)
    coef_T = da.from_array(coef.T.astype(dtype), chunks=coef.T.shape)
    intercept = np.asarray(estimator.intercept_, dtype=dtype)
    if coef.ndim == 1:
        return da.blockwise(
            _predict_block, "i", X, "ij", coef_T, "j", intercept, None,
            dtype=dtype, concatenate=True,
        )
    return da.blockwise(
        _predict_block, "ik", X, "ij", coef_T, "jk", intercept, None,
        dtype=dtype, concatenate=True,
    )


class _ScoreParts:
    """Mergeable parts of R^2: total weight, weighted mean and sum of squares of
    y (pairwise updates), and the weighted residual sum of squares."""

    def __init__(self, S, mean, m2, sse):
        self.S, self.mean, self.m2, self.sse = S, mean, m2, sse

    def merge(self, o):
        S, (mean,), c, (d,) = combine_means(self.S, (self.mean,), o.S, (o.mean,))
        return _ScoreParts(S, mean, self.m2 + o.m2 + c * d * d, self.sse + o.sse)


def _score_kernel(Xb, Yb, swb, start, coef_T, intercept):
    Yb = Yb.reshape(-1, 1) if Yb.ndim == 1 else Yb
    pred = _predict_block(Xb, coef_T, intercept).reshape(Yb.shape)
    w = np.ones(Yb.shape[0]) if swb is None else swb.astype(np.float64)
    S = float(w.sum())
    mean = (w @ Yb) / S if S > 0 else np.zeros(Yb.shape[1])
    m2 = w @ (Yb - mean) ** 2
    sse = w @ (Yb - pred) ** 2
    return _box(_ScoreParts(S, mean, m2, sse))


def score(estimator, X, y, sample_weight=None):
    """R^2 of a fitted estimator on dask arrays, in one blockwise pass.

    Equal to :func:`sklearn.metrics.r2_score` (uniform average over targets);
    returns a float, so it computes.
    """
    X = _check_predict_X(estimator, X)
    _, Y, sw = _check_inputs(X, y, sample_weight)
    coef = np.asarray(estimator.coef_)
    coef_T = coef.T.reshape(X.shape[1], -1)
    intercept = np.asarray(estimator.intercept_).reshape(-1)
    blocks = _blockwise_objects(_score_kernel, X, Y, sw, coef_T, intercept)
    parts = _tree_reduce(blocks, _merge_stats, 8, "l2gd-score").compute()
    return float(np.mean(r2_from_parts(parts.sse, parts.m2)))


# ---------------------------------------------------------------------------
# Cross-validation support (for GDRidgeCV)
# ---------------------------------------------------------------------------
def _contiguous_folds(n_samples, n_folds):
    """Fold boundaries of ``KFold(n_folds)`` (no shuffle): fold sizes differ by one."""
    sizes = np.full(n_folds, n_samples // n_folds, dtype=np.int64)
    sizes[: n_samples % n_folds] += 1
    return np.concatenate([[0], np.cumsum(sizes)])


class _ContiguousFolds:
    """Rows of each fold inside a chunk starting at ``start`` (slices, no copies)."""

    def __init__(self, bounds):
        self.bounds = bounds

    def __call__(self, start, n_rows):
        lo = np.clip(self.bounds[:-1] - start, 0, n_rows)
        hi = np.clip(self.bounds[1:] - start, 0, n_rows)
        return [slice(int(a), int(b)) for a, b in zip(lo, hi)]


def _fold_id_kernel(Xb, Yb, swb, start, ids, fit_intercept, n_folds):
    ids = np.asarray(ids).ravel()
    if ids.size and (ids.min() < 0 or ids.max() >= n_folds):
        raise ValueError(f"fold ids must be in [0, {n_folds}); got {ids.min()}..{ids.max()}.")

    def folds(start_, n_rows):
        return [ids == f for f in range(n_folds)]

    return _stats_kernel(Xb, Yb, swb, start, fit_intercept, folds=folds)


def fold_stats(X, y, sample_weight=None, *, cv=5, fit_intercept=True):
    """Per-fold :class:`~l2gd.RidgeStats` of dask arrays, in one pass.

    The statistics of fold ``f``'s training set are the merge of the other
    folds' (exact), and its held-out error follows from fold ``f``'s own
    statistics (:meth:`~l2gd.RidgeStats.squared_error`), so every fold and every alpha of a
    K-fold cross-validation follows from this one pass.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
    y : dask or numpy array of shape (n_samples,) or (n_samples, n_targets)
    sample_weight : dask or numpy array of shape (n_samples,), default=None
    cv : int, array-like of int or cross-validation splitter, default=5
        ``int K``: the folds of ``sklearn.model_selection.KFold(K)`` (contiguous
        row ranges, no shuffle; scikit-learn's default for regressors).
        An array (numpy or dask) of shape (n_samples,): the fold id of each row,
        in ``[0, K)`` (e.g. ``da.random.default_rng(0).integers(0, K, n)`` for
        shuffled folds, or group labels). A splitter (``KFold(shuffle=True)``,
        ``GroupKFold`` without groups...) whose test sets partition the rows:
        its test indices are drawn on the client (``O(n_samples)`` integers).
        ``cv=None`` (leave-one-out) is not available on dask arrays.
    fit_intercept : bool, default=True

    Returns
    -------
    folds : list of RidgeStats
        One per fold, in fold order.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from l2gd._dask import fold_stats
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((100, 3)), rng.standard_normal(100)
    >>> folds = fold_stats(da.from_array(X, chunks=30), da.from_array(y, chunks=30), cv=4)
    >>> [f.n_samples for f in folds]
    [25, 25, 25, 25]
    """
    import dask.array as da

    if cv is None:
        raise ValueError(loo_message())
    X, Y, sw = _check_inputs(X, y, sample_weight)
    n = X.shape[0]
    k = 1 if Y.ndim == 1 else Y.shape[1]
    split = _split_every(X.shape[1], k, X.dtype.itemsize)
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if not 2 <= cv <= n:
            raise ValueError(f"cv must be at least 2 and at most n_samples={n}, got {cv}.")
        folds = _ContiguousFolds(_contiguous_folds(n, int(cv)))
        blocks = _blockwise_objects(_stats_kernel, X, Y, sw, fit_intercept, folds=folds)
    else:
        if hasattr(cv, "split"):
            ids = np.full(n, -1, dtype=np.int64)
            for f, (_, test) in enumerate(cv.split(np.zeros((n, 1)))):
                if np.any(ids[test] >= 0):
                    raise ValueError("cv's test sets overlap; they must partition the rows.")
                ids[test] = f
            if np.any(ids < 0):
                raise ValueError("cv's test sets do not cover every row; use a K-fold splitter.")
            n_folds = f + 1
        else:
            ids = cv
            n_folds = None
        ids = _aligned(ids, X, "cv", (1,))
        if ids.dtype.kind == "f":
            ids = ids.astype(np.int64)
        if n_folds is None:
            n_folds = int(ids.max().compute()) + 1
        if n_folds < 2:
            raise ValueError(f"cv must define at least 2 folds, got {n_folds}.")
        ids = ids.astype(np.int64)
        args = [X, "ij", Y, "ik" if Y.ndim == 2 else "i"]
        args += [sw, "i"] if sw is not None else [None, None]
        args += [_row_starts(X), "i", ids, "i", fit_intercept, None, n_folds, None]
        blocks = da.blockwise(
            _fold_id_kernel, "i", *args, dtype=object, concatenate=True,
            align_arrays=False, adjust_chunks={"i": 1}, meta=np.empty(0, dtype=object),
        )
    out = _tree_reduce(blocks, _merge_stats, split, "l2gd-folds").compute()
    for f, s in enumerate(out):
        if s.n_samples == 0:
            raise ValueError(f"Fold {f} is empty; use fewer folds.")
    _check_total_weight(sum(s.sw_sum for s in out))
    return out


def loo_message():
    """The error raised for leave-one-out cross-validation on dask arrays."""
    return (
        "Leave-one-out cross-validation (cv=None) is not available on dask arrays: it "
        "needs per-row quantities of the whole data set. Use K-fold, e.g. cv=5, which "
        "takes one pass over the data for all folds and alphas."
    )
