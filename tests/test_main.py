"""The demo (python -m l2gd) and the examples run and agree with Ridge."""

import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from l2gd.__main__ import CLIError, compare, compare_cv, load_csv, main

ROOT = Path(__file__).resolve().parents[1]


def test_compare_rows_agree_with_ridge():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    rows = compare(X, y)
    names = [r[0] for r in rows]
    assert names[0] == "sklearn Ridge" and "l2gd closed_form" in names and "l2gd gd" in names
    ref_r2 = rows[0][4]
    for name, seconds, n_iter, diff, r2 in rows[1:]:
        # SGD stops on a flat objective: on diabetes' collinear features its
        # coefficients stay visibly off while its predictions are close.
        stochastic = "sgd" in name
        assert diff < (np.inf if stochastic else 1e-6), name
        assert abs(r2 - ref_r2) < (1e-2 if stochastic else 1e-8), name
        assert seconds > 0


def test_main_runs_on_diabetes(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "diabetes" in out and "l2gd gd" in out and "max|coef-Ridge|" in out
    # Small data: every reference fit runs, in today's order.
    methods = [line[:30].strip() for line in out.split("method")[1].splitlines()[1:]]
    assert methods == ["l2gd GDRidgeCV()", "sklearn RidgeCV", "l2gd GDRidgeCV",
                       "sklearn GridSearchCV(Ridge)", "sklearn RidgeCV"]
    assert out.splitlines()[3].startswith("sklearn Ridge") and "skipped" not in out


def test_main_on_users_csv(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(80)
    path = tmp_path / "data.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,c,target", comments="")
    assert main(["--csv", str(path), "--target", "target"]) == 0
    assert "80 samples, 3 features" in capsys.readouterr().out


def test_main_errors_for_missing_file_and_column(tmp_path):
    with pytest.raises(SystemExit, match="does not exist"):
        main(["--csv", str(tmp_path / "nope.csv"), "--target", "y"])
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(SystemExit, match="'y' is not in"):
        main(["--csv", str(path), "--target", "y"])


def test_module_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "l2gd"], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    assert "l2gd closed_form" in out


def test_article_example_matches_ridge_and_shows_the_divergence():
    mod = runpy.run_path(str(ROOT / "examples" / "article_example.py"))
    x, y = mod["make_data"]()
    est = mod["with_l2gd"](x, y)
    from sklearn.linear_model import Ridge

    ref = Ridge(alpha=mod["N_POINTS"] * mod["LAMBDA"]).fit(x.reshape(-1, 1), y)
    assert abs(est.coef_[0] - ref.coef_[0]) < 1e-3
    w_bad, _ = mod["by_hand"](x, y, summed=True, n_iter=50)
    assert not np.isfinite(w_bad) or abs(w_bad) > 1e10


# ------------------------------------------------------------------- bad input: one line


def _csv(tmp_path, text, name="d.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


def _rows(n_rows, n_cols=3, seed=0):
    """``n_rows`` lines of ``n_cols`` non-constant numbers."""
    rng = np.random.default_rng(seed)
    return "".join(",".join(f"{v:.6g}" for v in row) + "\n"
                   for row in rng.standard_normal((n_rows, n_cols)))


BAD_CSV = {
    "empty file": ("", "is empty"),
    "header only": ("a,b,y\n", "no data rows"),
    "one data row": ("a,b,y\n1,2,3\n", "only 1 data row"),
    "too few rows for split and 5-fold CV": ("a,b,y\n" + _rows(9), "at least 10"),
    "NaN cell": ("a,b,y\n1,2,3\n4,nan,6\n", "line 3, column 'b': nan"),
    "infinite cell": ("a,b,y\n1,2,3\n4,1e400,6\n", "line 3, column 'b': inf"),
    "non-numeric cell": ("a,b,y\n1,x,3\n", "line 2: column 'b' holds 'x'"),
    "empty cell": ("a,b,y\n1,2,3\n4,,6\n", "column 'b' is empty"),
    "short row": ("a,b,y\n1,2,3\n4,5\n", "line 3: 2 fields, but the header names 3"),
    "no feature columns": ("y\n" + _rows(12, 1), "no feature columns"),
    "duplicate column names": ("a,a,y\n1,2,3\n", "duplicate column names: a"),
    "unnamed column": ("a,,y\n1,2,3\n", "column 2 of the header"),
    "empty first line": ("\na,b,y\n1,2,3\n", "first line"),
    "constant target": ("a,b,y\n" + "".join(f"{i},{i * i},5\n" for i in range(12)),
                        "'y' is constant"),
    "no header row": ("1,2,3\n4,5,6\n", "a header row is needed"),
    "not UTF-8": ("a,b,y\n".encode("utf-16"), "not UTF-8"),
}


def _assert_one_error_line(err, phrase):
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert phrase in lines[0], err
    assert "Traceback" not in err


@pytest.mark.parametrize("case", BAD_CSV)
def test_bad_csv_gives_one_error_line_and_status_2(tmp_path, capsys, case):
    text, phrase = BAD_CSV[case]
    with pytest.raises(SystemExit) as exc:
        main(["--csv", _csv(tmp_path, text), "--target", "y"])
    assert exc.value.code == 2
    _assert_one_error_line(capsys.readouterr().err, phrase)


@pytest.mark.parametrize(
    "argv, phrase",
    [
        (["--alpha", "-1"], "argument --alpha: must be a finite number >= 0, got '-1'"),
        (["--alpha", "nan"], "got 'nan'"),
        (["--alpha", "inf"], "got 'inf'"),
        (["--alpha", "abc"], "got 'abc'"),
        (["--csv", "x.csv"], "--csv and --target go together"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments_give_one_error_line_and_status_2(capsys, argv, phrase):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    _assert_one_error_line(capsys.readouterr().err, phrase)


def test_directory_and_missing_file_give_one_error_line(tmp_path, capsys):
    for path, phrase in [(tmp_path, "is a directory"), (tmp_path / "no.csv", "does not exist")]:
        with pytest.raises(SystemExit) as exc:
            main(["--csv", str(path), "--target", "y"])
        assert exc.value.code == 2
        _assert_one_error_line(capsys.readouterr().err, phrase)


@pytest.mark.parametrize("kind", ["nan", "alpha"])
def test_command_line_errors_have_no_traceback(tmp_path, kind):
    args = {
        "nan": ["--csv", _csv(tmp_path, "a,b,y\n1,nan,3\n"), "--target", "y"],
        "alpha": ["--alpha", "-1"],
    }[kind]
    proc = subprocess.run([sys.executable, "-m", "l2gd", *args], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2
    _assert_one_error_line(proc.stderr, "")
    assert proc.stdout == ""


def test_error_names_the_line_across_blocks_and_blank_lines(tmp_path):
    text = "a,b,y\n" + _rows(20) + "\n\n" + _rows(10) + "1,oops,2\n" + _rows(5)
    with pytest.raises(SystemExit, match="line 34: column 'b' holds 'oops'"):
        load_csv(_csv(tmp_path, text), "y", block_bytes=16)
    text = "a,b,y\r\n" + _rows(20).replace("\n", "\r\n") + "1,2,nan\r\n"
    with pytest.raises(SystemExit, match="line 22, column 'y': nan"):
        load_csv(_csv(tmp_path, text), "y", block_bytes=16)


# ------------------------------------------------------------------- the chunked reader


def _oracle(path, j):
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return np.delete(data, j, axis=1), data[:, j]


@pytest.mark.parametrize("block_bytes", [1, 7, 64, 1000, 1 << 20])
def test_chunked_reader_matches_loadtxt(tmp_path, block_bytes):
    rng = np.random.default_rng(1)
    data = rng.standard_normal((57, 4)) * 10.0 ** rng.integers(-30, 30, (57, 4))
    path = tmp_path / "d.csv"
    np.savetxt(path, data, delimiter=",", header="a,b,t,c", comments="", fmt="%.17g")
    X, y, names = load_csv(str(path), "t", block_bytes=block_bytes)
    X_ref, y_ref = _oracle(path, 2)
    assert names == ["a", "b", "c"]
    assert X.dtype == np.float64 and X.flags.c_contiguous
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)


@pytest.mark.parametrize("line_end", ["\r\n", "\r"])
def test_crlf_and_cr_line_ends_read_like_lf(tmp_path, line_end):
    text = "a,b,y\n" + _rows(30) + "\n"
    lf = _csv(tmp_path, text, "lf.csv")
    other = _csv(tmp_path, text.replace("\n", line_end), "other.csv")
    for block_bytes in (5, 1 << 20):
        X, y, _ = load_csv(other, "y", block_bytes=block_bytes)
        X_ref, y_ref = _oracle(lf, 2)
        np.testing.assert_array_equal(X, X_ref)
        np.testing.assert_array_equal(y, y_ref)


def test_bom_quoted_names_and_quoted_numbers_are_read(tmp_path, capsys):
    body = _rows(40)
    plain = _csv(tmp_path, "y,b,c\n" + body, "plain.csv")
    quoted_body = "".join('"' + line.replace(",", '","') + '"\r\n' for line in body.split("\n")
                          if line)
    bom = _csv(tmp_path, b"\xef\xbb\xbf" + ('"y", "b" ,"c"\r\n' + quoted_body).encode(), "bom.csv")
    X, y, names = load_csv(bom, "y", block_bytes=32)
    X_ref, y_ref = _oracle(plain, 0)
    assert names == ["b", "c"]
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)
    assert main(["--csv", bom, "--target", "y", "--no-compare"]) == 0
    assert "40 samples, 2 features" in capsys.readouterr().out


def test_reading_a_big_file_reports_progress(tmp_path, capsys):
    path = _csv(tmp_path, "a,b,y\n" + _rows(200))
    load_csv(path, "y", block_bytes=256, progress_bytes=0)
    err = capsys.readouterr().err.splitlines()
    assert len(err) >= 5 and all(line.startswith(f"reading {path}: ") for line in err)
    assert err[-1].startswith(f"reading {path}: 200 rows (100%), done in")
    load_csv(path, "y", block_bytes=256)  # small file: silent
    assert capsys.readouterr().err == ""


# ------------------------------------------------------------- reference fits on request


def _small_csv(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 3))
    path = tmp_path / "s.csv"
    np.savetxt(path, np.column_stack([X, X @ [1.0, -2.0, 0.5] + 0.1 * rng.standard_normal(40)]),
               delimiter=",", header="a,b,c,y", comments="")
    return str(path)


def test_reference_fits_are_skipped_on_big_data_unless_asked(tmp_path, capsys, monkeypatch):
    import l2gd.__main__ as cli

    monkeypatch.setattr(cli, "COMPARE_MAX_VALUES", 100)  # 40 x 3 counts as big
    path = _small_csv(tmp_path)
    assert main(["--csv", path, "--target", "y"]) == 0
    out = capsys.readouterr().out
    assert "skipped (40 x 3 values > 100); pass --compare" in out
    assert "sklearn" not in out and "max|coef-closed_form|" in out and "l2gd gd" in out
    assert "l2gd GDRidgeCV" in out and "5-fold" in out
    assert main(["--csv", path, "--target", "y", "--compare"]) == 0
    out = capsys.readouterr().out
    assert "sklearn Ridge" in out and "GridSearchCV" in out and "skipped" not in out


def test_no_compare_skips_reference_fits_on_small_data(tmp_path, capsys):
    assert main(["--csv", _small_csv(tmp_path), "--target", "y", "--no-compare"]) == 0
    out = capsys.readouterr().out
    assert "skipped (--no-compare)" in out and "sklearn" not in out


def test_help_says_when_reference_fits_run(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--compare, --no-compare" in out and "n_samples * n_features <= 200000" in out


def test_compare_without_reference_measures_against_the_exact_solution():
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 4))
    y = X @ [1.0, 2.0, -1.0, 0.0] + rng.standard_normal(60)
    X_copy = X.copy()
    rows = compare(X, y, alpha=2.0, reference=False)
    np.testing.assert_array_equal(X, X_copy)  # the caller's data is left alone
    assert [r.name for r in rows] == ["l2gd closed_form", "l2gd gd", "l2gd sgd"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    ref = Ridge(alpha=2.0).fit(scaler.transform(X_train), y_train)
    closed, gd = rows[0], rows[1]
    assert closed.max_abs_coef_diff == 0.0 and gd.max_abs_coef_diff < 1e-6
    assert abs(closed.test_r2 - ref.score(scaler.transform(X_test), y_test)) < 1e-10


def test_positive_demo_runs_supporting_solvers_against_ridge_positive(capsys):
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    X, y = load_diabetes(return_X_y=True)
    rows = compare(X, y, positive=True)
    names = [r[0] for r in rows]
    assert names == ["sklearn Ridge", "l2gd closed_form", "l2gd gd"]  # sgd has no bounds
    scale = np.max(np.abs(Ridge(alpha=1.0).fit(X, y).coef_))
    for name, _, _, diff, r2 in rows[1:]:
        # lbfgs at tol=1e-10 is itself about 1e-6 relative off the constrained optimum.
        assert diff < 1e-5 * scale and abs(r2 - rows[0][4]) < 1e-6, name
    cv_rows = compare_cv(X, y, n_alphas=10, positive=True)
    assert [r.method for r in cv_rows] == ["l2gd GDRidgeCV", "sklearn GridSearchCV(Ridge)"]
    assert cv_rows[0].alpha == pytest.approx(cv_rows[1].alpha, rel=1e-12)
    assert cv_rows[0].best_score == pytest.approx(cv_rows[1].best_score, rel=1e-6)
    assert main(["--positive"]) == 0
    out = capsys.readouterr().out
    assert "coefficients >= 0" in out and "l2gd sgd" not in out


def test_unpenalized_demo_matches_the_augmented_lstsq(capsys):
    """--unpenalized: every solver against an independent float64 least-squares
    solution of the augmented system, and k-fold CV against GridSearchCV of it."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    rows = compare(X, y, alpha=5.0, unpenalized=(0, 2))
    assert [r[0] for r in rows] == ["lstsq augmented", "l2gd closed_form", "l2gd gd", "l2gd sgd"]
    closed, gd, sgd = rows[1], rows[2], rows[3]
    assert closed.max_abs_coef_diff < 1e-10 and gd.max_abs_coef_diff < 1e-6
    assert sgd.max_abs_coef_diff < 1e-2  # coefficients of order 10-700
    # Unpenalized columns differ from plain Ridge: the comparison is not vacuous.
    plain = compare(X, y, alpha=5.0)
    assert abs(plain[0].test_r2 - rows[0].test_r2) > 1e-6
    cv_rows = compare_cv(X, y, n_alphas=10, unpenalized=(0, 2))
    assert cv_rows[0].alpha == pytest.approx(cv_rows[1].alpha, rel=1e-12)
    assert cv_rows[0].best_score == pytest.approx(cv_rows[1].best_score, rel=1e-9)
    assert main(["--unpenalized", "0,2"]) == 0
    assert "columns [0, 2] unpenalized" in capsys.readouterr().out
    bad_args = (["--unpenalized", "x"], ["--unpenalized", "99"], ["--unpenalized", "1", "--positive"])
    for bad in bad_args:
        with pytest.raises(CLIError):
            main(bad)


def test_feature_groups_demo_is_banded_ridge(capsys):
    """--feature-groups: the per-group alphas of GDRidgeCV(feature_groups), whose
    leave-one-out score is at least the single alpha's (equal weights are a candidate)."""
    from sklearn.datasets import load_diabetes

    from l2gd.__main__ import banded

    X, y = load_diabetes(return_X_y=True)
    labels = ("a", "a", "b", "b", "b", "c", "c", "c", "c", "c")
    per_group, score, one = banded(X, y, labels, n_alphas=10)
    assert sorted(per_group) == ["a", "b", "c"]
    assert score >= one
    assert len(set(per_group.values())) == 3  # the groups got different penalties
    assert main(["--feature-groups", ",".join(labels), "--no-compare"]) == 0
    assert "Banded ridge" in capsys.readouterr().out
    with pytest.raises(CLIError):
        main(["--feature-groups", "a,b"])
