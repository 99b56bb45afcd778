"""The displays of l2gd.plot draw the right data: each line is checked against an
independent computation (scikit-learn's Ridge, RidgeCV and GridSearchCV, NumPy's
SVD and float64 formulas), not against l2gd's own output."""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import Ridge, RidgeCV  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402

from l2gd import AlphaBoundaryWarning, GDRidgeCV, GDRidgeRegressor  # noqa: E402
from l2gd.plot import (  # noqa: E402
    CVCurveDisplay,
    LossCurveDisplay,
    RegularizationPathDisplay,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _data(n=80, p=5, n_targets=None, noise=2.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3.0, p)
    shape = (p,) if n_targets is None else (p, n_targets)
    coef = rng.standard_normal(shape)
    y = X @ coef + 1.5 + noise * rng.standard_normal((n,) if n_targets is None else (n, n_targets))
    return X, y


def _ridge_objective(X, y, alpha, sample_weight=None):
    """Ridge's objective at scikit-learn's solution, in float64."""
    ref = Ridge(alpha=alpha, solver="svd").fit(X, y, sample_weight=sample_weight)
    r = y - X @ ref.coef_ - ref.intercept_
    sw = np.ones(len(y)) if sample_weight is None else sample_weight
    return float(sw @ r**2 + alpha * ref.coef_ @ ref.coef_)


def _dof(X, alphas, sample_weight=None):
    """Effective degrees of freedom from the SVD of the weighted-centered design."""
    sw = np.ones(len(X)) if sample_weight is None else sample_weight
    Xc = X - sw @ X / sw.sum()
    s = np.linalg.svd(np.sqrt(sw)[:, None] * Xc, compute_uv=False)
    return np.array([np.sum(s**2 / (s**2 + a)) for a in np.atleast_1d(alphas)])


def _one_se(alphas, mean, std, k):
    """The one-standard-error rule, written out: the largest alpha whose mean is
    within std[best] / sqrt(k - 1) of the best mean."""
    best = np.argmax(mean)
    threshold = mean[best] - std[best] / np.sqrt(k - 1)
    return alphas[mean >= threshold].max()


def _xy_sorted(line):
    x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    assert np.all(np.diff(x) >= 0), "lines are drawn in increasing x"
    return x, y


# ---------------------------------------------------------------------------
# LossCurveDisplay
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["gd", "sgd"])
def test_loss_curve_objective_is_loss_curve(solver):
    X, y = _data(n=200, p=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sgd may stop at max_iter
        est = GDRidgeRegressor(alpha=3.0, solver=solver, max_iter=30, random_state=0).fit(X, y)
    disp = LossCurveDisplay.from_estimator(est)
    x, v = disp.line_.get_data()
    np.testing.assert_array_equal(x, np.arange(1, len(est.loss_curve_) + 1))
    np.testing.assert_array_equal(v, est.loss_curve_)
    assert disp.ax_.get_yscale() == "log"
    assert disp.ax_.get_xlabel() == "Iteration"
    assert disp.ax_.get_ylabel() == "Objective"
    assert disp.ax_.get_legend().get_texts()[0].get_text() == f"GDRidgeRegressor ({solver})"
    assert disp.figure_ is disp.ax_.figure


def test_loss_curve_gap_to_sklearn_optimum():
    X, y = _data(n=150, p=10)
    X[:, 0] *= 30.0  # ill-conditioned: many gd iterations
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    est = GDRidgeRegressor(alpha=2.0, solver="gd", tol=1e-12, max_iter=400).fit(
        X, y, sample_weight=w
    )
    X0, y0 = X.copy(), y.copy()
    disp = LossCurveDisplay.from_estimator(est, X, y, sample_weight=w, kind="gap")
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    opt = _ridge_objective(X, y, 2.0, w)
    gap = np.asarray(est.loss_curve_) - opt
    drawn = np.asarray(disp.line_.get_ydata(), float)
    # Gaps well above rounding are drawn as computed; those <= 0 are not drawn.
    big = gap > 1e-9 * opt
    assert big.sum() >= 3
    np.testing.assert_allclose(drawn[big], gap[big], rtol=1e-6)
    assert np.all(np.isnan(drawn[gap <= 0]) | (np.abs(gap[gap <= 0]) < 1e-9 * opt))
    assert drawn[0] > drawn[np.flatnonzero(big)[-1]]  # the gap decreases
    assert disp.ax_.get_ylabel() == "Objective - optimum"
    assert disp.ax_.get_yscale() == "log"


def test_loss_curve_display_from_history_and_given_axes():
    fig, ax = plt.subplots()
    history = [10.0, 4.0, 2.5, 2.0]
    disp = LossCurveDisplay(loss_curve=history, optimum=2.0, kind="gap").plot(
        ax=ax, name="run", line_kw={"color": "red"}
    )
    assert disp.ax_ is ax and disp.figure_ is fig
    y = np.asarray(disp.line_.get_ydata(), float)
    np.testing.assert_array_equal(y[:3], [8.0, 2.0, 0.5])
    assert np.isnan(y[3])  # a zero gap cannot be drawn on a log axis
    assert disp.line_.get_color() == "red"
    assert disp.line_.get_label() == "run"


def test_loss_curve_bad_arguments():
    X, y = _data()
    est = GDRidgeRegressor(solver="gd").fit(X, y)
    with pytest.raises(ValueError, match="kind"):
        LossCurveDisplay.from_estimator(est, kind="loss")
    with pytest.raises(ValueError, match="X and y"):
        LossCurveDisplay.from_estimator(est, kind="gap")
    with pytest.raises(ValueError, match="optimum"):
        LossCurveDisplay(loss_curve=[1.0], kind="gap").plot()
    with pytest.raises(ValueError, match="loss_curve"):
        LossCurveDisplay(loss_curve=[]).plot()
    with pytest.raises(TypeError, match="estimator must be a GDRidgeRegressor"):
        LossCurveDisplay.from_estimator(GDRidgeCV().fit(X, y))
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(GDRidgeRegressor())


# ---------------------------------------------------------------------------
# RegularizationPathDisplay
# ---------------------------------------------------------------------------
def test_path_lines_are_sklearn_ridge_coefficients():
    X, y = _data(p=4)
    alphas = np.logspace(-2, 4, 12)
    est = GDRidgeRegressor(alpha=10.0)
    disp = RegularizationPathDisplay.from_estimator(est, X, y, alphas=alphas[::-1])
    assert len(disp.lines_) == 4
    ref = np.array([Ridge(alpha=a).fit(X, y).coef_ for a in alphas])  # (n_alphas, p)
    for j, line in enumerate(disp.lines_):
        x, c = _xy_sorted(line)
        np.testing.assert_allclose(x, alphas, rtol=1e-12)
        np.testing.assert_allclose(c, ref[:, j], rtol=1e-8, atol=1e-10)
        assert line.get_label() == f"x{j}"
    assert disp.ax_.get_xscale() == "log"
    assert disp.ax_.get_xlabel() == "alpha"
    assert disp.ax_.get_ylabel() == "Coefficient"
    np.testing.assert_array_equal(disp.alpha_line_.get_xdata(), [10.0, 10.0])


def test_path_against_dof_with_weights_and_cv_alpha():
    X, y = _data(n=60, p=6)
    w = np.random.default_rng(2).uniform(0.2, 3.0, len(y))
    alphas = np.logspace(-3, 5, 15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlphaBoundaryWarning)
        cv = GDRidgeCV(alphas=alphas).fit(X, y, sample_weight=w)
    disp = RegularizationPathDisplay.from_estimator(
        cv, X, y, alphas=alphas, x_axis="dof", sample_weight=w
    )
    dof = _dof(X, alphas, w)
    ref = np.array([Ridge(alpha=a).fit(X, y, sample_weight=w).coef_ for a in alphas])
    order = np.argsort(dof)
    for j, line in enumerate(disp.lines_):
        x, c = _xy_sorted(line)
        np.testing.assert_allclose(x, dof[order], rtol=1e-10)
        np.testing.assert_allclose(c, ref[order, j], rtol=1e-8, atol=1e-10)
    assert disp.ax_.get_xlabel() == "Effective degrees of freedom"
    assert disp.ax_.get_xscale() == "linear"
    assert 0 < x.min() and x.max() < 6
    np.testing.assert_allclose(disp.alpha_line_.get_xdata(), _dof(X, cv.alpha_, w)[0])


def test_path_multitarget_feature_names_and_zero_alpha():
    pd = pytest.importorskip("pandas")
    X, Y = _data(p=3, n_targets=2)
    frame = pd.DataFrame(X, columns=["age", "bmi", "bp"])
    alphas = np.array([0.0, 0.1, 1.0, 10.0])
    disp = RegularizationPathDisplay.from_estimator(
        GDRidgeRegressor(alpha=[1.0, 5.0]), frame, Y, alphas=alphas, target=1
    )
    ref = np.array([Ridge(alpha=a).fit(X, Y[:, 1]).coef_ for a in alphas[1:]])
    lstsq = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), Y[:, 1], rcond=None)[0]
    for j, line in enumerate(disp.lines_):
        x, c = _xy_sorted(line)
        np.testing.assert_array_equal(x, alphas)
        np.testing.assert_allclose(c[1:], ref[:, j], rtol=1e-8)
        np.testing.assert_allclose(c[0], lstsq[j], rtol=1e-8)
    assert [ln.get_label() for ln in disp.lines_] == ["age", "bmi", "bp"]
    assert [t.get_text() for t in disp.ax_.get_legend().get_texts()][:3] == ["age", "bmi", "bp"]
    assert disp.ax_.get_xscale() == "symlog"  # alpha = 0 on the grid
    np.testing.assert_array_equal(disp.alpha_line_.get_xdata(), [5.0, 5.0])  # target 1's


def test_path_bad_arguments():
    X, y = _data()
    est = GDRidgeRegressor()
    with pytest.raises(ValueError, match="x_axis"):
        RegularizationPathDisplay.from_estimator(est, X, y, x_axis="lambda")
    with pytest.raises(ValueError, match="target"):
        RegularizationPathDisplay.from_estimator(est, X, y, target=1)
    with pytest.raises(ValueError, match="legend"):
        RegularizationPathDisplay.from_estimator(est, X, y, alphas=3, legend="yes")
    with pytest.raises(ValueError, match="feature_names"):
        RegularizationPathDisplay.from_estimator(
            est, X, y, alphas=3, feature_names=["a", "b"]
        )
    with pytest.raises(TypeError, match="estimator"):
        RegularizationPathDisplay.from_estimator(Ridge(), X, y)
    disp = RegularizationPathDisplay(alphas=[1.0, 2.0], coefs=np.ones((3, 2)))
    with pytest.raises(ValueError, match="dof"):
        disp.plot(x_axis="dof")
    with pytest.raises(ValueError, match="coefs"):
        RegularizationPathDisplay(alphas=[1.0, 2.0], coefs=np.ones((3, 3))).plot()


# ---------------------------------------------------------------------------
# CVCurveDisplay
# ---------------------------------------------------------------------------
def _band(poly):
    """The lower and upper edge of a fill_between band, by x."""
    verts = poly.get_paths()[0].vertices
    lower, upper = {}, {}
    for x, y in verts:
        lower[x] = min(lower.get(x, np.inf), y)
        upper[x] = max(upper.get(x, -np.inf), y)
    xs = np.array(sorted(lower))
    return xs, np.array([lower[x] for x in xs]), np.array([upper[x] for x in xs])


def test_cv_curve_kfold_against_gridsearchcv():
    X, y = _data(n=100, p=8, noise=4.0)
    alphas = np.logspace(-1, 4, 16)
    rng = np.random.default_rng(3)
    shuffled = rng.permutation(alphas)  # the display sorts; GDRidgeCV keeps the user's order
    cv = GDRidgeCV(alphas=shuffled, cv=5).fit(X, y)
    disp = CVCurveDisplay.from_estimator(cv, folds=True)
    grid = GridSearchCV(Ridge(), {"alpha": alphas}, cv=KFold(5)).fit(X, y)
    mean = grid.cv_results_["mean_test_score"]
    std = grid.cv_results_["std_test_score"]
    x, m = _xy_sorted(disp.line_)
    np.testing.assert_allclose(x, alphas)
    np.testing.assert_allclose(m, mean, rtol=1e-9)
    bx, lo, hi = _band(disp.fill_between_[0])
    np.testing.assert_allclose(bx, alphas)
    se = std / np.sqrt(5 - 1)
    np.testing.assert_allclose(lo, mean - se, rtol=1e-9)
    np.testing.assert_allclose(hi, mean + se, rtol=1e-9)
    assert len(disp.fold_lines_) == 5
    for i, fl in enumerate(disp.fold_lines_):
        np.testing.assert_allclose(_xy_sorted(fl)[1], grid.cv_results_[f"split{i}_test_score"],
                                   rtol=1e-9)
    # The markers: the chosen alpha is GridSearchCV's best, the 1-SE alpha the rule's.
    best = grid.best_params_["alpha"]
    np.testing.assert_allclose(disp.chosen_markers_[0].get_xdata(), [best])
    np.testing.assert_allclose(disp.chosen_markers_[0].get_ydata(), [mean.max()], rtol=1e-9)
    one_se = _one_se(alphas, mean, std, 5)
    assert one_se > best  # the data makes the two markers differ
    np.testing.assert_allclose(disp.one_se_markers_[0].get_xdata(), [one_se])
    np.testing.assert_allclose(disp.alpha_1se_, [one_se])
    np.testing.assert_allclose(
        disp.one_se_markers_[0].get_ydata(), mean[alphas == one_se], rtol=1e-9
    )
    assert disp.ax_.get_xscale() == "log"
    assert disp.ax_.get_xlabel() == "alpha"
    assert disp.ax_.get_ylabel() == "R^2"
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert {"Mean score", "chosen alpha", "1-SE alpha", "splits"} <= set(labels)


def test_cv_curve_marks_the_1se_choice_of_the_estimator():
    X, y = _data(n=100, p=8, noise=4.0)
    alphas = np.logspace(-1, 4, 16)
    cv = GDRidgeCV(alphas=alphas, cv=5, selection="1se").fit(X, y)
    disp = CVCurveDisplay.from_estimator(cv)
    grid = GridSearchCV(Ridge(), {"alpha": alphas}, cv=KFold(5)).fit(X, y)
    one_se = _one_se(alphas, grid.cv_results_["mean_test_score"],
                     grid.cv_results_["std_test_score"], 5)
    np.testing.assert_allclose(disp.chosen_markers_[0].get_xdata(), [one_se])
    np.testing.assert_allclose(disp.chosen_alpha_, [one_se])
    np.testing.assert_allclose(disp.one_se_markers_[0].get_xdata(), [one_se])
    # from_cv_results chooses by the same rule.
    disp2 = CVCurveDisplay.from_cv_results(cv.cv_results_, selection="1se")
    np.testing.assert_allclose(disp2.chosen_alpha_, [one_se])
    disp3 = CVCurveDisplay.from_cv_results(cv.cv_results_)
    np.testing.assert_allclose(disp3.chosen_alpha_, [grid.best_params_["alpha"]])
    assert disp3.ax_.get_ylabel() == "Mean test score"


def test_cv_curve_leave_one_out_against_ridgecv():
    X, y = _data(n=60, p=5, noise=3.0)
    alphas = np.logspace(-2, 4, 14)
    cv = GDRidgeCV(alphas=alphas).fit(X, y)
    disp = CVCurveDisplay.from_estimator(cv)
    ref = RidgeCV(alphas=alphas, store_cv_results=True).fit(X, y)
    sq = ref.cv_results_  # (n_samples, n_alphas) squared leave-one-out errors
    mean, std = -sq.mean(axis=0), sq.std(axis=0)
    x, m = _xy_sorted(disp.line_)
    np.testing.assert_allclose(m, mean, rtol=1e-8)
    _, lo, hi = _band(disp.fill_between_[0])
    np.testing.assert_allclose(hi - lo, 2 * std / np.sqrt(len(y) - 1), rtol=1e-7)
    np.testing.assert_allclose(disp.chosen_markers_[0].get_xdata(), [ref.alpha_])
    np.testing.assert_allclose(disp.alpha_1se_, [_one_se(alphas, mean, std, len(y))])
    assert disp.ax_.get_ylabel() == "Minus the mean squared LOO error"
    with pytest.raises(ValueError, match="n_splits"):
        CVCurveDisplay.from_cv_results(cv.cv_results_)
    d2 = CVCurveDisplay.from_cv_results(cv.cv_results_, n_splits=cv.n_splits_)
    np.testing.assert_allclose(d2.alpha_1se_, disp.alpha_1se_)
    with pytest.raises(ValueError, match="folds"):
        CVCurveDisplay.from_estimator(cv, folds=True)


def test_cv_curve_gcv_has_no_band_and_no_1se():
    X, y = _data(n=60, p=5, noise=3.0)
    alphas = np.logspace(-2, 4, 14)
    cv = GDRidgeCV(alphas=alphas, cv="gcv").fit(X, y)
    disp = CVCurveDisplay.from_estimator(cv)
    # MASS's GCV, from the SVD: RSS / (n - df)^2 of the fit on all rows.
    gcv = np.array([
        np.sum((y - Ridge(alpha=a).fit(X, y).predict(X)) ** 2) / (len(y) - _dof(X, a)[0]) ** 2
        for a in alphas
    ])
    np.testing.assert_allclose(_xy_sorted(disp.line_)[1], -gcv, rtol=1e-8)
    assert disp.fill_between_ is None and disp.one_se_markers_ is None
    assert disp.alpha_1se_ is None
    np.testing.assert_allclose(disp.chosen_markers_[0].get_xdata(), [alphas[np.argmin(gcv)]])
    assert disp.ax_.get_ylabel() == "Minus the GCV criterion"
    with pytest.raises(ValueError, match="selection"):
        CVCurveDisplay.from_cv_results(cv.cv_results_, selection="1se")


def test_cv_curve_one_curve_per_target():
    X, Y = _data(n=90, p=6, n_targets=2, noise=3.0)
    Y[:, 1] += 6.0 * np.random.default_rng(4).standard_normal(len(Y))  # another best alpha
    alphas = np.logspace(-1, 4, 12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlphaBoundaryWarning)
        cv = GDRidgeCV(alphas=alphas, cv=4, alpha_per_target=True).fit(X, Y)
    disp = CVCurveDisplay.from_estimator(cv, folds=True)
    assert len(disp.lines_) == 2 and disp.line_ is None
    assert len(disp.fold_lines_) == 8 and len(disp.fill_between_) == 2
    for j in range(2):
        grid = GridSearchCV(Ridge(), {"alpha": alphas}, cv=KFold(4)).fit(X, Y[:, j])
        np.testing.assert_allclose(_xy_sorted(disp.lines_[j])[1],
                                   grid.cv_results_["mean_test_score"], rtol=1e-9)
        np.testing.assert_allclose(disp.chosen_markers_[j].get_xdata(),
                                   [grid.best_params_["alpha"]])
        assert disp.lines_[j].get_label() == f"target {j}"
    np.testing.assert_allclose(disp.chosen_alpha_, cv.alpha_)
    one = CVCurveDisplay.from_estimator(cv, target=1)
    assert len(one.lines_) == 1
    np.testing.assert_allclose(one.chosen_alpha_, [cv.alpha_[1]])
    np.testing.assert_array_equal(one.line_.get_ydata(), disp.lines_[1].get_ydata())


def test_cv_curve_zero_alpha_on_symlog():
    X, y = _data(n=60, p=4, noise=0.5)
    alphas = np.array([0.0, 0.1, 1.0, 10.0, 100.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlphaBoundaryWarning)
        cv = GDRidgeCV(alphas=alphas, cv=3).fit(X, y)
    disp = CVCurveDisplay.from_estimator(cv)
    assert disp.ax_.get_xscale() == "symlog"
    np.testing.assert_array_equal(_xy_sorted(disp.line_)[0], alphas)


def test_cv_curve_bad_arguments():
    X, y = _data()
    cv = GDRidgeCV(alphas=np.logspace(-1, 3, 6), cv=3).fit(X, y)
    with pytest.raises(ValueError, match="target"):
        CVCurveDisplay.from_estimator(cv, target=1)
    with pytest.raises(ValueError, match="selection"):
        CVCurveDisplay.from_cv_results(cv.cv_results_, selection="max")
    with pytest.raises(ValueError, match="n_splits"):
        CVCurveDisplay.from_cv_results(cv.cv_results_, n_splits=5)
    with pytest.raises(ValueError, match="cv_results"):
        CVCurveDisplay.from_cv_results({"alphas": [1.0]})
    with pytest.raises(ValueError, match="chosen_alpha"):
        CVCurveDisplay(alphas=[1.0, 2.0], mean_test_score=[0.1, 0.2],
                       std_test_score=[0.0, 0.0], n_splits=3, chosen_alpha=5.0).plot()
    with pytest.raises(ValueError, match="std_test_score"):
        CVCurveDisplay(alphas=[1.0, 2.0], mean_test_score=[0.1, 0.2],
                       std_test_score=[0.0], n_splits=3).plot()
    with pytest.raises(TypeError, match="GDRidgeCV"):
        CVCurveDisplay.from_estimator(GDRidgeRegressor().fit(X, y))
    with pytest.raises(NotFittedError):
        CVCurveDisplay.from_estimator(GDRidgeCV())


# ---------------------------------------------------------------------------
# matplotlib is optional
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda est, cv, X, y: LossCurveDisplay.from_estimator(est),
        lambda est, cv, X, y: LossCurveDisplay(loss_curve=[1.0]).plot(),
        lambda est, cv, X, y: RegularizationPathDisplay.from_estimator(est, X, y),
        lambda est, cv, X, y: CVCurveDisplay.from_estimator(cv),
        lambda est, cv, X, y: CVCurveDisplay.from_cv_results(cv.cv_results_),
    ],
    ids=["loss.from_estimator", "loss.plot", "path.from_estimator", "cv.from_estimator",
         "cv.from_cv_results"],
)
def test_clear_error_without_matplotlib(monkeypatch, call):
    X, y = _data()
    est = GDRidgeRegressor(solver="gd").fit(X, y)
    cv = GDRidgeCV(alphas=np.logspace(-3, 5, 9), cv=3).fit(X, y)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"requires matplotlib.*l2gd\[plot\]"):
        call(est, cv, X, y)


def test_importing_l2gd_plot_does_not_import_matplotlib():
    code = "import sys, l2gd.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_readme_figure_script_writes_the_pictures(tmp_path):
    script = Path(__file__).resolve().parent.parent / "examples" / "make_readme_figures.py"
    out = subprocess.run([sys.executable, str(script), "--out", str(tmp_path)],
                         capture_output=True, text=True, check=True)
    for name in ("loss_curve", "regularization_path", "cv_curve"):
        png = tmp_path / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert str(png) in out.stdout


def test_path_follows_the_estimators_penalty_structure():
    """The path of a model with positive=True, penalty_factor or feature_groups is that
    model's, not plain ridge's (it passed through its own fit); dof counts
    unpenalized features."""
    from l2gd import effective_dof

    X, y = _data(p=4)
    alphas = np.logspace(-2, 3, 6)
    f = np.array([0.0, 1.0, 4.0, 0.5])
    est = GDRidgeRegressor(alpha=10.0, penalty_factor=f)
    disp = RegularizationPathDisplay.from_estimator(est, X, y, alphas=alphas)
    fitted = est.fit(X, y)
    ref = np.array([GDRidgeRegressor(alpha=a, penalty_factor=f).fit(X, y).coef_ for a in alphas])
    for j, line in enumerate(disp.lines_):
        x, c = _xy_sorted(line)
        np.testing.assert_allclose(c, ref[:, j], rtol=1e-8, atol=1e-10)
    dof_disp = RegularizationPathDisplay.from_estimator(est, X, y, alphas=alphas, x_axis="dof")
    x, _ = _xy_sorted(dof_disp.lines_[0])
    assert x.min() > 1.0 - 1e-6  # the unpenalized feature always counts 1
    np.testing.assert_allclose(np.sort(x), np.sort(effective_dof(X, alphas, penalty_factor=f)))
    pos = RegularizationPathDisplay.from_estimator(
        GDRidgeRegressor(positive=True), X, y, alphas=alphas
    )
    assert all(np.all(_xy_sorted(line)[1] >= 0) for line in pos.lines_)
    with pytest.raises(ValueError, match="positive=True"):
        RegularizationPathDisplay.from_estimator(
            GDRidgeRegressor(positive=True), X, y, alphas=alphas, x_axis="dof"
        )
    groups = [0, 0, 1, 1]
    band = GDRidgeCV(alphas=alphas, feature_groups=groups, random_state=0).fit(X, y)
    bdisp = RegularizationPathDisplay.from_estimator(band, X, y, alphas=[band.alpha_.min(),
                                                                        band.alpha_.max()])
    mark = float(bdisp.alpha_line_.get_xdata()[0])
    through = RegularizationPathDisplay.from_estimator(band, X, y, alphas=[mark])
    coefs = np.array([line.get_ydata()[0] for line in through.lines_])
    np.testing.assert_allclose(coefs, band.coef_, rtol=1e-8, atol=1e-10)
    assert fitted.coef_.shape == (4,)
