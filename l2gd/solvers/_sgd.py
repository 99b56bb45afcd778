"""Mini-batch stochastic gradient descent on the ridge objective, and its streaming form."""

import math
import warnings
from dataclasses import dataclass, replace
from numbers import Integral, Real

import numpy as np
from scipy.linalg import LinAlgWarning

from .._objective import RidgeProblem, _weighted_mean
from .._scaling import Rescaling, _max_abs, data_scale
from .._scores import r2_scores
from ..schedules import as_schedule
from ._base import IterativeSolver, SolveResult

# Rows of the evenly spaced subsample on which the top eigenvalue of the
# centered Gram matrix is estimated, at most this many entries; also the
# entries of one row block when the Gram matrix is formed.
_SUBSAMPLE_ENTRIES = 2**21
# Up to this many features the Gram matrix is formed (for any input format);
# above, the top eigenvalue comes from Lanczos on the implicit operator.
_SMALL_P = 64
# Inflation of that estimate when it comes from a subsample.
_SUBSAMPLE_SAFETY = 1.25


def _centered_gram(problem):
    """``X_c^T S X_c`` in float64, formed from the implicit operator on row blocks.

    Each block of centered rows is ``X[rows] @ I - x_offset`` (exact: products
    with the identity), so dense, sparse, C or Fortran order and memmaps give
    the same matrix up to the rounding of the final sums. A block holds at most
    ``_SUBSAMPLE_ENTRIES`` entries; X is never densified whole.
    """
    n, p = problem.n_samples, problem.n_features
    eye = np.eye(p, dtype=problem.dtype)
    G = np.zeros((p, p))
    block = max(1, _SUBSAMPLE_ENTRIES // max(1, p))
    for start in range(0, n, block):
        sub = problem.batch(slice(start, min(start + block, n)))
        C = np.asarray(sub.matvec(eye), dtype=np.float64)
        if sub.sample_weight is not None:
            C *= np.sqrt(np.asarray(sub.sample_weight, dtype=np.float64))[:, None]
        G += C.T @ C
    return G


def _top_eigenvalue(problem):
    """Largest eigenvalue of ``X_c^T S X_c``: from the formed Gram matrix when
    it is small, else by Lanczos on the implicit operator; either way the same
    computation for every input format, so the step does not depend on it."""
    if problem.n_features > _SMALL_P:
        return problem.gram_norm(tol=1e-2)
    if problem.n_features == 0:
        return 0.0
    return float(np.linalg.eigvalsh(_centered_gram(problem))[-1])


def _check_magnitudes(**arrays):
    """Refuse data whose magnitudes leave the range in which SGD's step size
    and objective are representable (see :func:`l2gd._scaling.data_scale`)."""
    for name, A in arrays.items():
        if data_scale(A) != 1.0:
            raise ValueError(
                f"SGD: {name} has entries of magnitude {_max_abs(A):.3g}, too close to the end of "
                f"the {A.dtype} range for SGD's step size and objective to be "
                f"representable. Rescale {name} by a power of two (exact), or use "
                "GDRidgeRegressor.fit or SGD.solve, which do so internally."
            )


def _warn_if_rank_deficient(problem):
    """``LinAlgWarning`` when a target has ``alpha=0`` and ``S^{1/2} X_c`` is
    numerically rank deficient (then SGD, whose iterates from zero stay in the
    row space of ``X_c``, tends to the minimum-norm solution).

    Decided on the column-equilibrated Gram matrix with the closed form's
    cutoff (``p * eps`` relative) when ``n_features <= 64``; for more features,
    only the certain case of fewer weighted rows than features is detected.
    """
    if not np.any(np.asarray(problem.alpha) == 0):
        return
    p = problem.n_features
    sw = problem.sample_weight
    n_rows = problem.n_samples if sw is None else int(np.count_nonzero(sw))
    if p <= _SMALL_P:
        eps = float(np.finfo(problem.dtype).eps)
        G = _centered_gram(problem)
        diag = np.diag(G)
        # A constant column centers to rounding noise (relative to its
        # uncentered sum of squares); equilibrated it would look independent.
        raw = diag + problem.sw_sum * np.asarray(problem.X_offset, dtype=np.float64) ** 2
        live = diag > problem.n_samples * eps * raw
        d = np.sqrt(diag[live])
        evals = np.linalg.eigvalsh(G[np.ix_(live, live)] / np.outer(d, d))
        cutoff = evals.max(initial=0.0) * p * eps
        rank = int(np.sum(evals > cutoff))
        what = f"rank {rank} < {p}"
    else:
        rank = min(p, max(0, n_rows - int(problem.fit_intercept)))
        what = f"rank at most {rank} < {p}: fewer weighted rows than features"
    if rank < p:
        warnings.warn(
            f"Ill-conditioned problem: X_c is numerically singular ({what}) and "
            "alpha=0; SGD's iterates (from zero) tend to the minimum-norm least-squares "
            "solution. A positive alpha makes the problem well posed.",
            LinAlgWarning,
            stacklevel=3,
        )


def _is_int(x):
    return isinstance(x, Integral) and not isinstance(x, (bool, np.bool_))


@dataclass
class SGDState:
    """What SGD carries from one pass to the next (and across ``partial_fit`` calls).

    ``W`` is the current iterate, ``avg`` the running Polyak-Ruppert average
    of the ``n_avg`` iterates seen since averaging started (None before), ``t``
    the number of mini-batch updates made (the schedule's clock), ``n_passes``
    the passes made. ``sw_sum``, ``x_mean`` and ``y_mean`` are the total
    weight and weighted means of all rows seen: the centers of the implicit
    centering, from which the intercept follows exactly. ``safe_step`` is the
    smallest safe step seen.
    """

    W: np.ndarray
    avg: np.ndarray = None
    n_avg: int = 0
    t: int = 0
    n_passes: int = 0
    sw_sum: float = 0.0
    x_mean: np.ndarray = None
    y_mean: np.ndarray = None
    safe_step: float = math.inf

    @property
    def coef(self):
        """The coefficients SGD reports: the average once averaging started."""
        return self.avg if self.n_avg > 0 else self.W

    def copy(self):
        return replace(self, avg=None if self.avg is None else self.avg.copy())


def _unscaled_state(state, scaling):
    """An :class:`SGDState` of a rescaled problem in the user's units."""
    return replace(
        state,
        W=scaling.coef(state.W),
        avg=None if state.avg is None else scaling.coef(state.avg),
        x_mean=state.x_mean * scaling.x_scale,
        y_mean=state.y_mean * scaling.y_scale,
        safe_step=state.safe_step / scaling.x_scale / scaling.x_scale,
    )


class _Fit:
    """What the shared loop sees during ``SGD.solve``: the (training) problem,
    the validation split and the tolerance, which the plateau logic needs."""

    def __init__(self, problem, validation, tol):
        self.problem = problem
        self.validation = validation
        self.tol = tol
        self.dtype = problem.dtype
        self.xp, self.device = problem.xp, problem.device
        self.n_features = problem.n_features
        self.n_targets = problem.n_targets


class SGD(IterativeSolver):
    """Mini-batch stochastic gradient descent on the ridge objective.

    Minimizes exactly the objective of every l2gd solver (that of
    :class:`sklearn.linear_model.Ridge`, same ``alpha``). Each iteration
    (epoch) is one pass over the rows in mini-batches; for a batch ``B`` the
    step is along the unbiased estimate of the gradient (see
    :meth:`l2gd.RidgeProblem.gradient`)::

        g_B = (n / |B|) * (-2 X_c[B]^T S_B r_B) + 2 alpha w
        w  <- w - eta_t * (|B| / batch_size) * g_B / S

    with ``S`` the total sample weight, so ``eta_t`` is a step on the
    mean-scaled objective ``f / S`` (independent of ``n_samples``), and a
    short last batch moves the iterate in proportion to its size. All targets
    are updated together; no per-sample Python loop.

    The intercept is never learnt by steps: the rows are centered implicitly
    at the weighted means ``x_mean``, ``y_mean`` of the rows seen (all rows in
    ``fit``; the running means over the calls in ``partial_fit``), and the
    intercept ``y_mean - x_mean @ w`` is the exact minimizer for the returned
    ``w``. ``fit`` and ``partial_fit`` run the same update
    (:meth:`partial_solve` on the whole data is one epoch of :meth:`solve`),
    so with the same data order, settings and ``random_state`` they give the
    same coefficients.

    Sample weights: ``g_B`` is an unbiased estimate of the weighted gradient,
    so a weight ``k`` equals ``k`` repeated rows **in expectation** (the same
    expected update at every ``w``), not along the trajectory (one step with
    weight ``k`` against ``k`` steps); both converge to the same minimizer.
    Sparse X is centered implicitly, never densified; float32 stays float32.

    Parameters
    ----------
    batch_size : int, default=256
        Rows per mini-batch (at most ``n_samples``).
    learning_rate : "auto", float or schedule, default="auto"
        ``"auto"`` is :class:`l2gd.schedules.Adaptive` ``()``: the safe step
        of the data (below), divided by 5 each time the objective stops
        improving, up to 4 times, so the default converges without tuning. A
        float is :class:`~l2gd.schedules.Constant` (a step on the
        mean-scaled objective). Any schedule of :mod:`l2gd.schedules`, whose
        ``eta0=None`` means the safe step.
    shuffle : bool, default=True
        Draw a new random order of the rows at every epoch; otherwise the
        batches are consecutive rows in the given order.
    average : bool or int, default=False
        Polyak-Ruppert averaging: report the mean of the iterates instead of
        the last one. ``True`` averages from the first update, an int ``k``
        from epoch ``k + 1`` on (after ``k`` passes; in ``partial_fit``, after
        ``k`` calls).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (drawn with
        ``random_state``; the training rows are copied), monitor the R^2 on
        them after each epoch, and restore the coefficients of the best epoch
        at the end. The plateau test then uses the validation score.
    validation_fraction : float, default=0.1
        Fraction of rows held out with ``early_stopping``, in (0, 1).
    n_iter_no_change : int, default=5
        Epochs without an improvement larger than ``tol`` that make a plateau.

    Notes
    -----
    **Safe step.** The default step is ``1 / L_b`` with ``L_b`` the expected
    smoothness constant of ``b``-row batches drawn without replacement
    (Gower et al., 2019), ``L_b = n (b - 1) / (b (n - 1)) L + (n - b) / (b (n - 1))
    L_max``, where ``L_max = 2 max_i (n s_i ||x_i - x_mean||^2 + alpha) / S``
    bounds one-row batches (exact, from one blockwise pass) and
    ``L = 2 (lambda_max(X_c^T S X_c) + alpha) / S`` is computed on an evenly
    spaced subsample of rows (inflated by 1.25 when subsampled, bracketed by
    the exact lower bound ``max_i s_i ||x_i - x_mean||^2`` and the trace):
    from the formed Gram matrix up to 64 features, else by Lanczos. Both are
    the same computation for dense, sparse, C or Fortran ordered and memmapped
    X, so the same ``random_state`` gives the same iterates (up to rounding)
    whatever the format. If the objective still blows up (a ``learning_rate``
    too large), a ``ValueError`` names the learning rate and the safe step.

    **alpha=0.** From zero, the iterates stay in the row space of ``X_c``, so
    on a rank-deficient design they tend to the minimum-norm least-squares
    solution, as the closed form returns; ``solve`` then raises a
    ``LinAlgWarning``. Rank is decided on the column-equilibrated Gram matrix
    up to 64 features; above, only fewer weighted rows than features is
    detected. ``partial_fit`` does not check rank (a batch alone says nothing).

    **Magnitudes.** ``solve`` runs data near the ends of the float range
    (entries beyond ``2**±256`` in float64) in exact power-of-two rescaled
    units and maps the result back; ``partial_solve`` and :meth:`safe_step`
    refuse such data with a ``ValueError`` (the state of a stream has one
    scale).

    **Stopping.** ``tol=None`` means 1e-4. An epoch *improves* when the
    objective at the reported coefficients falls by more than ``tol`` relative
    to the best so far (with ``early_stopping``: when the validation R^2 rises
    by more than ``tol``). After ``n_iter_no_change`` epochs without
    improvement the schedule is asked to adapt (:class:`~l2gd.schedules.Adaptive`
    divides its step); when it cannot, the solver has converged.
    ``max_iter=None`` means 1000 epochs.

    **partial_fit.** Each call is one pass over the given rows; the update
    counter ``t``, the averaging state and the running means persist. The
    penalty is that of the data seen so far: the rows of all calls form one
    dataset, as for the closed form's exact streaming, so passing the same
    rows twice weighs them twice. The plateau logic and ``early_stopping``
    apply to ``fit`` only.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from l2gd import GDRidgeRegressor
    >>> from l2gd.solvers import SGD
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((2000, 5))
    >>> y = X @ np.arange(1.0, 6.0) + 0.1 * rng.standard_normal(2000)
    >>> est = GDRidgeRegressor(solver=SGD(batch_size=32), random_state=0).fit(X, y)
    >>> ref = Ridge(alpha=1.0).fit(X, y)
    >>> bool(np.linalg.norm(est.coef_ - ref.coef_) < 1e-3 * np.linalg.norm(ref.coef_))
    True
    """

    name = "sgd"
    stochastic = True
    default_max_iter = 1000

    def __init__(
        self,
        batch_size=256,
        learning_rate="auto",
        shuffle=True,
        average=False,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
    ):
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.shuffle = shuffle
        self.average = average
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change

    def default_tol(self, dtype, xp=np):
        return 1e-4

    # -- parameters ---------------------------------------------------------
    def _check_params(self):
        """Validate the options; return the learning-rate schedule."""
        if not _is_int(self.batch_size) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {self.batch_size!r}.")
        if not isinstance(self.shuffle, (bool, np.bool_)):
            raise ValueError(f"shuffle must be a bool, got {self.shuffle!r}.")
        if not isinstance(self.average, (bool, np.bool_)) and not (
            _is_int(self.average) and self.average >= 0
        ):
            raise ValueError(f"average must be a bool or an int >= 0, got {self.average!r}.")
        if not isinstance(self.early_stopping, (bool, np.bool_)):
            raise ValueError(f"early_stopping must be a bool, got {self.early_stopping!r}.")
        vf = self.validation_fraction
        if not isinstance(vf, Real) or isinstance(vf, bool) or not 0 < vf < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {vf!r}.")
        if not _is_int(self.n_iter_no_change) or self.n_iter_no_change < 1:
            raise ValueError(
                f"n_iter_no_change must be a positive int, got {self.n_iter_no_change!r}."
            )
        return as_schedule(self.learning_rate)

    def _average_start(self):
        """Passes after which averaging starts, or None without averaging."""
        if isinstance(self.average, (bool, np.bool_)):
            return 0 if self.average else None
        return int(self.average)

    # -- data-derived step --------------------------------------------------
    def safe_step(self, problem):
        """The default step ``1 / L_b`` for ``problem`` (see Notes).

        Parameters
        ----------
        problem : RidgeProblem

        Returns
        -------
        step : float

        Raises
        ------
        ValueError
            When X's magnitudes are too close to the ends of the float range
            for the step to be representable (:meth:`solve` rescales such
            data first).
        """
        _check_magnitudes(X=problem.X)
        n, S = problem.n_samples, problem.sw_sum
        b = min(int(self.batch_size), n)
        penalty = float(np.max(problem.alpha, initial=0.0)) / S
        norms = problem.row_norms_sq()
        biggest = float(norms.max(initial=0.0))
        trace = float(norms.sum()) / S
        l_max = n * biggest / S
        if b == 1 or n == 1:
            curvature = l_max
        else:
            p = problem.n_features
            m = min(n, max(64, _SUBSAMPLE_ENTRIES // max(1, p) if p > _SMALL_P else 4096))
            if m == n:
                sub, safety = problem, 1.0
            else:
                sub = problem.batch(np.unique(np.linspace(0, n - 1, m).astype(np.intp)))
                safety = _SUBSAMPLE_SAFETY
            lam = safety * _top_eigenvalue(sub) / sub.sw_sum if sub.sw_sum > 0 else trace
            lam = min(max(lam, biggest / S), trace)
            curvature = (n * (b - 1) * lam + (n - b) * l_max) / (b * (n - 1))
        L = 2.0 * (curvature + penalty)
        return 1.0 / L if L > 0 else 1.0

    @staticmethod
    def _strong_convexity(problem):
        return 2.0 * float(np.min(problem.alpha)) / problem.sw_sum

    # -- one pass, shared by fit and partial_fit ------------------------------
    def _pass(self, problem, state, schedule, rng):
        """One pass over ``problem``'s rows in mini-batches; updates ``state``."""
        n = problem.n_samples
        b = min(int(self.batch_size), n)
        order = rng.permutation(n) if self.shuffle else None
        start_avg = self._average_start()
        averaging = start_avg is not None and state.n_passes >= start_avg
        if averaging and state.avg is None:
            state.avg = np.zeros_like(state.W)
        W, scale = state.W, 1.0 / (b * problem.sw_sum)
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, n, b):
                stop = min(start + b, n)
                rows = slice(start, stop) if order is None else np.sort(order[start:stop])
                eta = schedule(state.t)
                W = W - (eta * (stop - start) * scale) * problem.gradient(W, batch=rows)
                state.t += 1
                if averaging:
                    state.n_avg += 1
                    state.avg += (W - state.avg) / state.n_avg
        state.W = W
        state.n_passes += 1

    def _diverged(self, schedule, state):
        return ValueError(
            f"SGD diverged with learning_rate={self.learning_rate!r} (step "
            f"{schedule(state.t):.4g} on the mean-scaled objective): the objective became "
            "non-finite or grew without bound. The safe step for this data is "
            f"{state.safe_step:.4g}; use a smaller learning_rate, a schedule with "
            "eta0=None, or learning_rate='auto'."
        )

    # -- fit: the shared loop -------------------------------------------------
    def solve(self, problem, *, init=None, tol=None, max_iter=None, random_state=None, verbose=0):
        """Run epochs of SGD on ``problem``; return a :class:`SolveResult`.

        ``SolveResult.info`` holds ``"t"`` (updates made), ``"state"`` (the
        :class:`SGDState`, from which ``partial_fit`` continues) and, with
        early stopping, ``"validation_scores"`` and ``"best_iteration"``.

        Data near the ends of the float range (see
        :func:`l2gd._scaling.data_scale`) is solved exactly in power-of-two
        rescaled units and the result (and state) mapped back, so the same
        seed gives the same iterates up to the scale.
        """
        self._check_params()
        scaling = Rescaling.of(problem.X, problem.Y)
        if scaling.identity:
            return self._solve(problem, init, tol, max_iter, random_state, verbose)
        X, Y = scaling.data(problem.X, problem.Y)
        scaled = RidgeProblem(
            X,
            Y,
            scaling.alpha(problem.alpha),
            sample_weight=problem.sample_weight,
            fit_intercept=problem.fit_intercept,
            X_offset=problem.X_offset / scaling.x_scale,
            y_offset=problem.y_offset / scaling.y_scale,
        )
        init = None if init is None else scaling.scaled_coef(np.asarray(init))
        result = scaling.result(self._solve(scaled, init, tol, max_iter, random_state, verbose))
        state = _unscaled_state(result.info["state"], scaling)
        return replace(result, info={**result.info, "state": state})

    def _solve(self, problem, init, tol, max_iter, random_state, verbose):
        """:meth:`solve` on data of safe magnitudes."""
        tol = self.default_tol(problem.dtype) if tol is None else tol
        validation = None
        if self.early_stopping:
            problem, validation = self._split(problem, random_state)
        _warn_if_rank_deficient(problem)
        return super().solve(
            _Fit(problem, validation, tol),
            init=init,
            tol=tol,
            max_iter=max_iter,
            random_state=random_state,
            verbose=verbose,
        )

    def _split(self, problem, random_state):
        n = problem.n_samples
        n_val = int(math.ceil(self.validation_fraction * n))
        if n_val < 1 or n - n_val < 1:
            raise ValueError(
                "early_stopping needs at least one training and one validation row; got "
                f"n_samples={n} with validation_fraction={self.validation_fraction}."
            )
        seed = random_state if isinstance(random_state, np.random.Generator) else [1, random_state]
        if random_state is None:
            seed = None
        perm = np.random.default_rng(seed).permutation(n)
        val, train = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        sw = problem.sample_weight
        if sw is not None and not sw[train].sum() > 0:
            raise ValueError("early_stopping: the training split has zero total sample_weight.")
        if sw is not None and not sw[val].sum() > 0:
            raise ValueError(
                "early_stopping: the validation split (validation_fraction="
                f"{self.validation_fraction} of the rows, drawn with random_state) has zero "
                "total sample_weight, so no validation score exists. Use another "
                "random_state or validation_fraction, or drop the zero-weight rows."
            )
        train_problem = RidgeProblem(
            problem.X[train],
            problem.Y[train],
            problem.alpha,
            sample_weight=None if sw is None else sw[train],
            fit_intercept=problem.fit_intercept,
        )
        validation = (problem.X[val], problem.Y[val], None if sw is None else sw[val])
        return train_problem, validation

    def _init_state(self, fit, W0, rng):
        problem = fit.problem
        state = type("State", (), {})()
        state.sgd = SGDState(
            W=W0,
            sw_sum=problem.sw_sum,
            x_mean=problem.X_offset,
            y_mean=problem.y_offset,
            safe_step=self.safe_step(problem),
        )
        state.rng = rng
        state.schedule = self._check_params().bind(
            state.sgd.safe_step, self._strong_convexity(problem)
        )
        state.value = problem.value_from_residual(problem.residual(W0), W0)
        total = float(np.sum(state.value))
        # A zero objective is its minimum: nothing to do.
        state.criterion = 0.0 if total == 0.0 else math.inf
        state.best = total
        state.window = []
        state.scores, state.best_W, state.best_iteration = [], None, 0
        if fit.validation is not None:
            state.best = self._score(fit, W0)
        return state

    def _score(self, fit, W):
        Xv, Yv, swv = fit.validation
        P = np.asarray(Xv @ W) + fit.problem.intercept(W)
        return float(r2_scores(Yv, P, swv, per_target=False))

    def _step(self, fit, state):
        problem, sgd = fit.problem, state.sgd
        self._pass(problem, sgd, state.schedule, state.rng)
        W = sgd.coef
        state.value = problem.value_from_residual(problem.residual(W), W)
        total = float(np.sum(state.value))
        if not np.isfinite(total):
            return  # the loop raises the divergence error
        if fit.validation is not None:
            score = self._score(fit, W)
            state.scores.append(score)
            gain = score - state.best
            if state.best_W is None or score > state.best:
                state.best, state.best_W, state.best_iteration = score, W.copy(), sgd.n_passes
        else:
            gain = (state.best - total) / state.best if state.best > 0 else 0.0
            state.best = min(state.best, total)
        state.window = [] if gain > fit.tol else state.window + [max(gain, 0.0)]
        state.criterion = math.inf
        if len(state.window) >= self.n_iter_no_change:
            adapted = state.schedule.on_plateau()
            if adapted is None:
                state.criterion = max(state.window)
            else:
                state.schedule = adapted
                state.window = []

    def _finish(self, fit, state):
        sgd = state.sgd
        if fit.validation is not None and state.best_W is not None:
            sgd.W, sgd.avg, sgd.n_avg = state.best_W, None, 0
        W = sgd.coef
        return W, fit.problem.intercept(W)

    def _info(self, state):
        info = {"t": state.sgd.t, "state": state.sgd, "learning_rate": state.schedule}
        if state.best_W is not None:
            info["validation_scores"] = tuple(state.scores)
            info["best_iteration"] = state.best_iteration
        return info

    def _divergence_message(self, fit, state):
        return str(self._diverged(state.schedule, state.sgd))

    @staticmethod
    def _batch_value(problem, W):
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.sum(problem.value_from_residual(problem.residual(W), W)))

    # -- partial_fit -----------------------------------------------------------
    def partial_solve(
        self, state, X, Y, sample_weight, *, alpha, fit_intercept, random_state=None, verbose=0
    ):
        """One pass of SGD over a batch of rows, continuing ``state``.

        Parameters
        ----------
        state : SGDState or None
            What earlier calls (or ``solve``) left; None for the first call.
            Not modified.
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Y : ndarray of shape (n_samples, n_targets)
        sample_weight : ndarray of shape (n_samples,) or None
        alpha : ndarray of shape (n_targets,)
        fit_intercept : bool
        random_state : int, Generator or None
            Seed of the row order of this pass.
        verbose : int

        Returns
        -------
        state : SGDState
            The new state.
        result : SolveResult
            Coefficients and intercept after the pass, and the objective of
            this batch (with its share ``S_batch / S_seen`` of the penalty).
        """
        schedule = self._check_params()
        _check_magnitudes(X=X, Y=Y)
        n_features, n_targets = X.shape[1], Y.shape[1]
        if state is None:
            state = SGDState(
                W=np.zeros((n_features, n_targets), dtype=X.dtype),
                x_mean=np.zeros(n_features, dtype=X.dtype),
                y_mean=np.zeros(n_targets, dtype=X.dtype),
            )
        else:
            state = state.copy()
        S_batch = float(X.shape[0] if sample_weight is None else sample_weight.sum())
        S_seen = state.sw_sum + S_batch
        if fit_intercept:
            x_mean = _weighted_mean(X, sample_weight, S_batch)
            y_mean = _weighted_mean(Y, sample_weight, S_batch)
            if state.sw_sum > 0:
                x_mean = state.x_mean + (x_mean - state.x_mean) * (S_batch / S_seen)
                y_mean = state.y_mean + (y_mean - state.y_mean) * (S_batch / S_seen)
            state.x_mean, state.y_mean = x_mean, y_mean
        state.sw_sum = S_seen
        problem = RidgeProblem(
            X,
            Y,
            np.asarray(alpha, dtype=X.dtype) * (S_batch / S_seen),
            sample_weight=sample_weight,
            fit_intercept=fit_intercept,
            X_offset=state.x_mean,
            y_offset=state.y_mean,
        )
        W_before = state.coef.copy()
        state.safe_step = min(state.safe_step, self.safe_step(problem))
        schedule = schedule.bind(state.safe_step, self._strong_convexity(problem))
        self._pass(problem, state, schedule, np.random.default_rng(random_state))
        W = state.coef
        value = self._batch_value(problem, W)
        # Cheap test first (the objective at w = 0 needs only Y), then the
        # objective on this batch at the coefficients before the pass.
        at_zero = float(np.sum(problem.weighted(problem.Yc) * problem.Yc))
        if not np.isfinite(value) or (
            value > self.divergence_factor * at_zero
            and value > self.divergence_factor * self._batch_value(problem, W_before)
        ):
            raise self._diverged(schedule, state)
        if verbose:
            print(f"[SGD] partial_fit pass {state.n_passes}  t {state.t}  objective {value:.8e}")
        result = SolveResult(
            coef=W,
            intercept=problem.intercept(W),
            n_iter=1,
            converged=False,
            history=(value,),
            info={"t": state.t, "state": state, "learning_rate": schedule},
        )
        return state, result
