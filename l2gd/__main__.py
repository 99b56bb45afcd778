"""``python -m l2gd``: fit every l2gd solver, then choose alpha by cross-validation with
GDRidgeCV; next to scikit-learn's Ridge, RidgeCV and GridSearchCV as references.

By default on scikit-learn's bundled diabetes data (no download); ``--csv FILE
--target COLUMN`` runs on your own numeric CSV file (UTF-8, optionally with a BOM;
a header row of column names, then one row of numbers per sample). l2gd's fits run
and print first; the reference fits run on small data only, unless ``--compare`` asks
for them (on big data GridSearchCV and RidgeCV take minutes). Bad input ends with one
``error:`` line on stderr and exit status 2.
"""

import argparse
import csv
import io
import math
import os
import sys
import time
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import GDRidgeRegressor
from ._cv import GDRidgeCV
from ._path import alpha_grid
from .solvers import SOLVERS
from .solvers._registry import capabilities

#: Folds of the demo's k-fold cross-validation and its test split.
N_FOLDS = 5
TEST_SIZE = 0.25
#: Two samples in each test fold, the fewest for which R^2 is defined.
MIN_ROWS = 2 * N_FOLDS
#: Above this many values (n_samples * n_features) the reference fits need ``--compare``.
COMPARE_MAX_VALUES = 200_000
#: Bytes of the CSV parsed at a time, and the file size from which progress is shown.
BLOCK_BYTES = 1 << 20
PROGRESS_BYTES = 1 << 25

# The one configuration of NumPy's typed reader, for whole blocks and single lines.
_LOADTXT = {"delimiter": ",", "quotechar": '"', "comments": None, "ndmin": 2,
            "dtype": np.float64}


class CLIError(SystemExit):
    """A problem with the user's input: one ``error:`` line on stderr, exit status 2.

    A :class:`SystemExit` (status 2, argparse's convention) whose ``str`` is the message.
    """

    def __init__(self, message):
        super().__init__(2)
        self.message = message

    def __str__(self):
        return self.message


class SolverRow(NamedTuple):
    """One line of :func:`compare`'s table."""

    name: str
    fit_seconds: float
    n_iter: object
    max_abs_coef_diff: float
    test_r2: float


class CVRow(NamedTuple):
    """One line of :func:`compare_cv`'s table."""

    method: str
    cv: str
    alpha: float
    best_score: float
    fit_seconds: float


# --------------------------------------------------------------------------- CSV reading


def load_csv(path, target, *, block_bytes=BLOCK_BYTES, progress_bytes=PROGRESS_BYTES):
    """Read a numeric CSV with a header row; return ``X, y, feature_names``.

    The file is parsed ``block_bytes`` at a time by NumPy's typed reader into
    preallocated float64 arrays, so the peak memory is the data plus one block.

    Parameters
    ----------
    path : str
        A UTF-8 file (a BOM, CRLF line ends and quoted names or numbers are fine).
    target : str
        Name of the target column; every other column is a feature.
    block_bytes : int, default=BLOCK_BYTES
        Bytes parsed at a time (lines are never split).
    progress_bytes : int, default=PROGRESS_BYTES
        Files of at least this size report the rows read so far on stderr.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    feature_names : list of str

    Raises
    ------
    CLIError
        For a file that cannot be read, a bad header, a non-numeric, empty or
        non-finite cell, or a row with the wrong number of fields; the message
        names the line and the column.
    """
    with _open_csv(path) as fh:
        capacity = _count_lines(fh, block_bytes)
        size = os.fstat(fh.fileno()).st_size
        blocks = _line_blocks(fh, block_bytes)
        names, body = _split_header(path, next(blocks, b""))
        j, features = _column_roles(path, names, target)
        X, y = np.empty((capacity, len(features))), np.empty(capacity)
        n_rows, line = 0, 2
        with _Progress(path, size, enabled=size >= progress_bytes) as progress:
            for text in _texts(path, body, blocks):
                data = _parse_block(path, names, text, line)
                X[n_rows:n_rows + len(data)] = data[:, features]
                y[n_rows:n_rows + len(data)] = data[:, j]
                n_rows, line = n_rows + len(data), line + text.count("\n")
                progress.update(n_rows, fh.tell())
    return X[:n_rows], y[:n_rows], [names[i] for i in features]


def _open_csv(path):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise CLIError(f"--csv file {path!r} does not exist.") from None
    except IsADirectoryError:
        raise CLIError(f"--csv {path!r} is a directory, not a CSV file.") from None
    except OSError as exc:
        raise CLIError(f"cannot read --csv file {path!r}: {exc.strerror}.") from None


def _count_lines(fh, block_bytes):
    """An upper bound on the lines of ``fh`` (LF, CRLF or CR line ends); rewinds it."""
    lf = cr = 0
    while raw := fh.read(block_bytes):
        lf, cr = lf + raw.count(b"\n"), cr + raw.count(b"\r")
    fh.seek(0)
    return max(lf, cr) + 1


def _line_blocks(fh, block_bytes):
    """Yield the bytes of ``fh`` in pieces of about ``block_bytes`` that end at a line end."""
    rest = b""
    while raw := fh.read(block_bytes):
        raw = rest + raw
        # LF, else a CR that cannot be the first half of a CRLF (old Mac files).
        end = raw.rfind(b"\n") + 1 or raw.rfind(b"\r", 0, len(raw) - 1) + 1
        rest = raw[end:]
        if end:
            yield raw[:end]
    if rest:
        yield rest


def _decode(path, raw, encoding="utf-8"):
    """Text of ``raw`` with every line end as ``"\\n"``."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CLIError(f"--csv file {path!r} is not UTF-8 text ({exc.reason}); save it "
                       "as UTF-8.") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _texts(path, body, blocks):
    yield body
    for raw in blocks:
        yield _decode(path, raw)


def _split_header(path, first_block):
    """Column names from the first line (BOM dropped, quotes removed) and the rest."""
    header, _, body = _decode(path, first_block, "utf-8-sig").partition("\n")
    if not header.strip() and not body.strip():
        raise CLIError(f"--csv file {path!r} is empty; it needs a header row of column "
                       "names, then rows of numbers.")
    if not header.strip():
        raise CLIError(f"the first line of {path!r} is empty; it must be the header row "
                       "of column names.")
    names = [name.strip() for name in next(csv.reader([header], skipinitialspace=True), [])]
    for k, name in enumerate(names, 1):
        if not name:
            raise CLIError(f"column {k} of the header of {path!r} has no name; the first "
                           "line must name every column.")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise CLIError(f"{path!r} has duplicate column names: {', '.join(duplicates)}.")
    return names, body


def _column_roles(path, names, target):
    """Index of the target column and indices of the feature columns."""
    if target not in names:
        hint = " (its first line looks like data: a header row is needed)" if all(
            _is_number(name) for name in names) else ""
        raise CLIError(f"--target column {target!r} is not in {path!r}{hint}; columns are: "
                       + ", ".join(names))
    if len(names) == 1:
        raise CLIError(f"{path!r} has no feature columns: its only column is the target "
                       f"{target!r}.")
    j = names.index(target)
    return j, [i for i in range(len(names)) if i != j]


def _parse_block(path, names, text, first_line):
    """Rows of ``text`` (lines ``first_line``, ...) as floats; every cell finite."""
    if not text.strip("\n"):
        return np.empty((0, len(names)))
    try:
        data = np.loadtxt(io.StringIO(text), **_LOADTXT)
    except ValueError:
        data = None
    if data is None or data.shape[1] != len(names):
        raise CLIError(_first_bad_line(path, names, text, first_line))
    finite = np.isfinite(data)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        line = first_line + [k for k, s in enumerate(text.split("\n")) if s][row]
        raise CLIError(f"{path!r} line {line}, column {names[col]!r}: {data[row, col]} "
                       "(l2gd needs finite numbers: no NaN, no infinity, nothing beyond "
                       "1.8e308).")
    return data


def _first_bad_line(path, names, text, first_line):
    """The message for the first line of ``text`` that the typed reader refuses."""
    for k, line in enumerate(text.split("\n")):
        problem = _line_problem(line, names) if line else None
        if problem:
            return f"{path!r} line {first_line + k}: {problem}"
    last = first_line + text.count("\n")
    return f"{path!r} lines {first_line}-{last}: not rows of numbers."


def _line_problem(line, names):
    """What is wrong with one line of data, or None."""
    fields = next(csv.reader([line], skipinitialspace=True), [])
    if len(fields) != len(names):
        return (f"{len(fields)} fields, but the header names {len(names)} columns "
                f"({', '.join(names)}).")
    if _is_number_row(line):
        return None
    for name, field in zip(names, fields):
        if not field.strip():
            return (f"column {name!r} is empty; every cell needs a number (missing "
                    "values are not supported).")
        if not _is_number(field):
            return f"column {name!r} holds {field!r}, which is not a number."
    return "not a row of numbers."


def _is_number_row(line):
    try:
        np.loadtxt([line], **_LOADTXT)
    except ValueError:
        return False
    return True


def _is_number(field):
    """Whether the typed reader reads one cell (quotes removed) as a float."""
    return "," not in field and _is_number_row(field)


class _Progress:
    """Rows read so far, on stderr: in place on a terminal, else each tenth of the file.

    A context manager; silent unless ``enabled``.
    """

    def __init__(self, path, size, enabled):
        self.path, self.size, self.enabled = path, max(size, 1), enabled
        self.tty, self.next_tenth, self.n_rows = sys.stderr.isatty(), 1, 0

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def update(self, n_rows, done):
        self.n_rows, tenth = n_rows, 10 * done // self.size
        if self.enabled and done < self.size and (self.tty or tenth >= self.next_tenth):
            self._say(f"{n_rows} rows ({100 * done // self.size}%)", "\r" if self.tty else "\n")
            self.next_tenth = tenth + 1

    def __exit__(self, exc_type, exc, tb):
        if self.enabled and exc_type is None:
            seconds = time.perf_counter() - self.start
            self._say(f"{self.n_rows} rows (100%), done in {seconds:.1f} s", "\n")
        elif self.enabled and self.tty:
            print(file=sys.stderr)  # end the line before the error message

    def _say(self, what, end):
        start = "\r" if self.tty else ""
        print(f"{start}reading {self.path}: {what}", end=end, file=sys.stderr, flush=True)


def check_demo_data(path, target, y):
    """Refuse data the demo cannot fit and score: too few rows or a constant target."""
    if len(y) < MIN_ROWS:
        what = ("no data rows after its header" if len(y) == 0 else
                f"only {len(y)} data row{'s' if len(y) > 1 else ''}")
        raise CLIError(f"{path!r} has {what}; the demo needs at least {MIN_ROWS} (a "
                       f"{TEST_SIZE:.0%} test split and {N_FOLDS}-fold cross-validation "
                       "with two rows per test fold).")
    if np.ptp(y) == 0:
        raise CLIError(f"--target column {target!r} is constant ({y[0]:g} in every row): "
                       "there is nothing to fit and R^2 is undefined.")


# ------------------------------------------------------------------------------ the fits


class AugmentedLstsq(RegressorMixin, BaseEstimator):
    """The reference for penalty factors: float64 least squares of the augmented
    system ``[[1, X]; [0, diag(sqrt(alpha f))]] [b; w] = [y; 0]``, which needs no
    reduction (unpenalized features are rows of zeros in the penalty block)."""

    def __init__(self, alpha=1.0, penalty_factor=None):
        self.alpha = alpha
        self.penalty_factor = penalty_factor

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
        f = np.ones(X.shape[1])
        for j, value in (self.penalty_factor or {}).items():
            f[j] = value
        penalty = np.c_[np.zeros(len(f)), np.diag(np.sqrt(self.alpha * f))]
        A = np.r_[np.c_[np.ones(len(X)), X], penalty]
        sol = np.linalg.lstsq(A, np.r_[y, np.zeros(len(f))], rcond=None)[0]
        self.intercept_, self.coef_ = sol[0], sol[1:]
        return self

    def predict(self, X):
        return np.asarray(X) @ self.coef_ + self.intercept_


def compare(X, y, alpha=1.0, random_state=0, reference=True, positive=False, unpenalized=()):
    """Fit every l2gd solver, then Ridge, on a standardized train split.

    Parameters
    ----------
    X, y : ndarray
        The data; not modified.
    alpha : float, default=1.0
        Ridge's penalty.
    random_state : int, default=0
        Seed of the split and of the stochastic solvers.
    reference : bool, default=True
        Fit scikit-learn's ``Ridge`` too and measure every solver against it (its
        row comes first); else against l2gd's ``closed_form``.
    positive : bool, default=False
        Constrain the coefficients to be ``>= 0``: only the solvers that support
        it run, and the reference is ``Ridge(positive=True)`` at a tight tol.
    unpenalized : sequence of int, default=()
        Columns left unpenalized (``penalty_factor`` 0); the reference is then
        :class:`AugmentedLstsq` (Ridge has no penalty factors).

    Returns
    -------
    rows : list of SolverRow
        ``(name, fit_seconds, n_iter, max_abs_coef_diff, test_r2)``.
    """
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, random_state=random_state
    )
    # The split made copies: scale them in place.
    scaler = StandardScaler(copy=False).fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    fits = {}
    factors = {int(j): 0.0 for j in unpenalized} or None
    for name in _solvers(positive):
        est = GDRidgeRegressor(alpha=alpha, solver=name, random_state=random_state,
                               positive=positive, penalty_factor=factors)
        fits[f"l2gd {name}"] = _timed(est.fit, X_train, y_train)
    if reference:
        ref_name, ref = ("sklearn Ridge", _reference_ridge(alpha, positive)) if not factors else (
            "lstsq augmented", AugmentedLstsq(alpha, factors))
        fits = {ref_name: _timed(ref.fit, X_train, y_train), **fits}
    exact = next(iter(fits.values()))[0].coef_ if reference else fits["l2gd closed_form"][0].coef_
    return [
        SolverRow(name, seconds, est.n_iter_ if isinstance(est, GDRidgeRegressor) else "-",
                  float(np.max(np.abs(est.coef_ - exact))), est.score(X_test, y_test))
        for name, (est, seconds) in fits.items()
    ]


def _solvers(positive):
    """The registry's solvers, only those supporting ``positive=True`` if asked."""
    return [name for name, cls in SOLVERS.items() if not positive or capabilities(cls())["positive"]]


def _reference_ridge(alpha, positive):
    """scikit-learn's Ridge; with ``positive`` its lbfgs at a tight tol (its default
    1e-4 leaves it visibly off the constrained optimum)."""
    return Ridge(alpha=alpha, positive=True, tol=1e-10) if positive else Ridge(alpha=alpha)


def _timed(fit, *args):
    """``(fit(*args), seconds)``."""
    t0 = time.perf_counter()
    fitted = fit(*args)
    return fitted, time.perf_counter() - t0


def format_table(rows, against="Ridge"):
    """:func:`compare`'s rows as text; ``against`` names the coefficients' reference."""
    diff = f"max|coef-{against}|"
    width = max(18, len(diff) + 2)
    lines = [f"{'solver':<18}{'fit time':>12}{'n_iter_':>9}{diff:>{width}}{'test R^2':>10}"]
    for name, sec, n_iter, diff, r2 in rows:
        lines.append(f"{name:<18}{sec * 1e3:>10.2f}ms{n_iter!s:>9}{diff:>{width}.2e}"
                     f"{r2:>10.4f}")
    return "\n".join(lines)


def compare_cv(X, y, n_folds=N_FOLDS, n_alphas=100, reference=True, positive=False,
               unpenalized=()):
    """Choose alpha in ``Pipeline(StandardScaler(), ...)`` with GDRidgeCV and scikit-learn.

    GDRidgeCV's grid (``n_alphas`` alphas derived from the scaled data, 100 by
    default) is given to RidgeCV and GridSearchCV too. l2gd's fits run first; the
    scikit-learn ones only with ``reference``. Returns a list of :class:`CVRow`
    ``(method, cv, alpha_, best_score_, fit_seconds)``, in the order l2gd
    leave-one-out, RidgeCV leave-one-out, l2gd k-fold, GridSearchCV, RidgeCV k-fold.
    With ``positive`` (coefficients ``>= 0``) only the k-fold rows exist (l2gd,
    then ``GridSearchCV(Ridge(positive=True))``): leave-one-out has no closed
    form under the constraint. With ``unpenalized`` columns, the same two k-fold
    rows, against ``GridSearchCV(AugmentedLstsq)``.
    """
    folds = KFold(n_folds, shuffle=True, random_state=0)
    kfold_cv = f"{n_folds}-fold"

    def timed(estimator):
        pipe, seconds = _timed(make_pipeline(StandardScaler(), estimator).fit, X, y)
        return pipe[-1], seconds

    factors = {int(j): 0.0 for j in unpenalized} or None
    if positive or factors:
        alphas = alpha_grid(StandardScaler().fit_transform(X), n_alphas=n_alphas)
        kfold, kfold_s = timed(
            GDRidgeCV(alphas=alphas, cv=folds, positive=positive, penalty_factor=factors)
        )
        rows = [CVRow("l2gd GDRidgeCV", kfold_cv, kfold.alpha_, kfold.best_score_, kfold_s)]
        if reference:
            ref_name, ref = ("sklearn GridSearchCV(Ridge)", _reference_ridge(1.0, True)) if (
                not factors) else ("GridSearchCV(lstsq augm.)", AugmentedLstsq(1.0, factors))
            grid, grid_s = timed(GridSearchCV(ref, {"alpha": alphas}, cv=folds))
            rows.append(CVRow(ref_name, kfold_cv, grid.best_params_["alpha"], grid.best_score_,
                              grid_s))
        return rows
    loo, loo_s = timed(GDRidgeCV(alphas=n_alphas))
    alphas = loo.alphas_
    kfold, kfold_s = timed(GDRidgeCV(alphas=alphas, cv=folds))
    rows = [CVRow("l2gd GDRidgeCV()", "leave-one-out", loo.alpha_, loo.best_score_, loo_s),
            CVRow("l2gd GDRidgeCV", kfold_cv, kfold.alpha_, kfold.best_score_, kfold_s)]
    if not reference:
        return rows
    ref_loo, ref_loo_s = timed(RidgeCV(alphas=alphas))
    grid, grid_s = timed(GridSearchCV(Ridge(), {"alpha": alphas}, cv=folds))
    ref_kfold, ref_kfold_s = timed(RidgeCV(alphas=alphas, cv=folds))
    return [
        rows[0],
        CVRow("sklearn RidgeCV", "leave-one-out", ref_loo.alpha_, ref_loo.best_score_,
              ref_loo_s),
        rows[1],
        CVRow("sklearn GridSearchCV(Ridge)", kfold_cv, grid.best_params_["alpha"],
              grid.best_score_, grid_s),
        CVRow("sklearn RidgeCV", kfold_cv, ref_kfold.alpha_, ref_kfold.best_score_,
              ref_kfold_s),
    ]


def format_cv_table(rows):
    lines = [f"{'method':<30}{'cv':<15}{'alpha_':>12}{'best_score_':>14}{'fit time':>12}"]
    for name, cv, alpha, score, sec in rows:
        lines.append(f"{name:<30}{cv:<15}{alpha:>12.5g}{score:>14.5g}{sec * 1e3:>10.1f}ms")
    return "\n".join(lines)


# ------------------------------------------------------------------------ command line


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one ``error:`` line (:class:`CLIError`)."""

    def error(self, message):
        raise CLIError(f"{message} (see {self.prog} --help).")


def _alpha(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def _columns(text):
    try:
        cols = tuple(int(c) for c in text.split(",") if c.strip())
    except ValueError:
        cols = ()
    if not cols or min(cols) < 0:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated column indices >= 0, got {text!r}"
        )
    return cols


def _labels(text):
    labels = tuple(c.strip() for c in text.split(","))
    if not all(labels):
        raise argparse.ArgumentTypeError(f"must be comma-separated labels, got {text!r}")
    return labels


def banded(X, y, feature_groups, n_alphas=30):
    """Banded ridge in ``Pipeline(StandardScaler(), GDRidgeCV(feature_groups=...))``
    by leave-one-out, next to one alpha on the same grid.

    Returns ``(alpha per group as a dict, best_score_, best_score_ of one alpha)``.
    """
    alphas = alpha_grid(StandardScaler().fit_transform(X), n_alphas=n_alphas)
    one = make_pipeline(StandardScaler(), GDRidgeCV(alphas=alphas)).fit(X, y)[-1]
    band = make_pipeline(StandardScaler(), GDRidgeCV(
        alphas=alphas, feature_groups=list(feature_groups), random_state=0)).fit(X, y)[-1]
    per_group = {str(g): float(a) for g, a in zip(band.feature_groups_, band.alpha_)}
    return per_group, band.best_score_, one.best_score_


def _parser():
    parser = _Parser(prog="python -m l2gd", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", help="numeric CSV file with a header row")
    parser.add_argument("--target", help="name of the target column in --csv")
    parser.add_argument("--alpha", type=_alpha, default=1.0,
                        help="penalty (Ridge's alpha), a finite number >= 0; default 1.0")
    parser.add_argument("--positive", action="store_true",
                        help="constrain the coefficients to be >= 0 (Ridge(positive=True)); "
                        "solvers without it are left out, CV is k-fold only")
    parser.add_argument("--unpenalized", type=_columns, default=(),
                        help="comma-separated 0-based column indices left unpenalized "
                        "(penalty_factor 0, e.g. a treatment indicator); CV is k-fold only")
    parser.add_argument("--feature-groups", type=_labels, default=None,
                        help="comma-separated group label of each column: banded ridge, one "
                        "alpha per group chosen by leave-one-out (GDRidgeCV(feature_groups=...))")
    parser.add_argument(
        "--compare", action=argparse.BooleanOptionalAction, default=None,
        help="also fit scikit-learn's Ridge, RidgeCV and GridSearchCV as references "
        f"(default: only when n_samples * n_features <= {COMPARE_MAX_VALUES}; on "
        "bigger data they take minutes)")
    return parser


def main(argv=None):
    """Run the demo; return 0, or raise :class:`CLIError` (status 2) for bad input."""
    try:
        parser = _parser()
        args = parser.parse_args(argv)
        if (args.csv is None) != (args.target is None):
            parser.error("--csv and --target go together")
        if args.csv:
            X, y, _ = load_csv(args.csv, args.target)
            check_demo_data(args.csv, args.target, y)
            source = f"{args.csv} (target {args.target!r})"
        else:
            from sklearn.datasets import load_diabetes

            X, y = load_diabetes(return_X_y=True)
            source = "scikit-learn's diabetes data"
        if args.unpenalized and max(args.unpenalized) >= X.shape[1]:
            parser.error(f"--unpenalized names column {max(args.unpenalized)}, but the data "
                         f"has {X.shape[1]} columns")
        if args.feature_groups and len(args.feature_groups) != X.shape[1]:
            parser.error(f"--feature-groups has {len(args.feature_groups)} labels, but the data "
                         f"has {X.shape[1]} columns")
        if args.unpenalized and args.positive:
            parser.error("--unpenalized and --positive do not go together")
    except CLIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise
    _demo(X, y, source, args.alpha, args.compare, args.positive, args.unpenalized)
    if args.feature_groups:
        per_group, score, one = banded(X, y, args.feature_groups)
        print("\nBanded ridge (one alpha per feature group, leave-one-out): alpha_ "
              + ", ".join(f"{g}={a:.4g}" for g, a in per_group.items())
              + f"; best_score_ {score:.5g} (one alpha: {one:.5g})")
    return 0


def _demo(X, y, source, alpha, compare_flag, positive=False, unpenalized=()):
    n_samples, n_features = X.shape
    reference = (n_samples * n_features <= COMPARE_MAX_VALUES if compare_flag is None
                 else compare_flag)
    print(f"{'l2gd vs scikit-learn Ridge' if reference else 'l2gd'} on {source}: "
          f"{n_samples} samples, {n_features} features, alpha={alpha}"
          f"{', coefficients >= 0' if positive else ''}"
          f"{f', columns {list(unpenalized)} unpenalized' if unpenalized else ''}\n")
    if not reference:
        why = ("--no-compare" if compare_flag is False else
               f"{n_samples} x {n_features} values > {COMPARE_MAX_VALUES}")
        print(f"scikit-learn's reference fits (Ridge, RidgeCV, GridSearchCV) skipped "
              f"({why}); pass --compare to run them.\n")
    rows = compare(X, y, alpha=alpha, reference=reference, positive=positive,
                   unpenalized=unpenalized)
    against = ("lstsq" if unpenalized else "Ridge") if reference else "closed_form"
    print(format_table(rows, against=against), flush=True)
    print("\nChoosing alpha by cross-validation in Pipeline(StandardScaler(), ...) over "
          "GDRidgeCV's default grid of 100 alphas (best_score_: minus the mean squared "
          "leave-one-out error, or the mean R^2 over folds):\n")
    print(format_cv_table(compare_cv(X, y, reference=reference, positive=positive,
                                     unpenalized=unpenalized)))


if __name__ == "__main__":
    sys.exit(main())
