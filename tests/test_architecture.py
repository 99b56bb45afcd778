"""The seams of the package, checked on its source: which module may import which.

These are the architecture's promises (README, Development): the Dask engine
knows chunks, reductions and TSQR but no estimator or solver; scikit-learn's
private API is imported in one module only.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "l2gd"


def _imports(path):
    """Module names imported by ``path``, relative ones resolved against l2gd,
    including imports inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ["l2gd"] + list(path.relative_to(PACKAGE).parent.parts)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


ESTIMATOR_OR_SOLVER = ("l2gd._ridge", "l2gd._cv", "l2gd._path", "l2gd.solvers", "l2gd._sources")


def test_dask_engine_imports_no_estimator_or_solver():
    imported = _imports(PACKAGE / "_dask.py")
    bad = sorted(n for n in imported if n.startswith(ESTIMATOR_OR_SOLVER))
    assert not bad, f"l2gd/_dask.py imports {bad}; it must stay an engine (chunk kernels, "
    "reductions, TSQR, persist policy)"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_sklearn_private_api_only_in_compat(path):
    if path.name == "_compat.py":
        return
    private = sorted(
        n for n in _imports(path)
        if n.startswith("sklearn") and any(part.startswith("_") for part in n.split(".")[1:])
    )
    assert not private, f"{path.name} imports scikit-learn private API {private}; use _compat.py"


def test_the_import_checker_sees_relative_and_nested_imports(tmp_path):
    # The checker itself must be able to fail: a relative import inside a function.
    names = _imports(PACKAGE / "_compat.py")
    assert any(n.startswith("sklearn") for n in names)
    assert "l2gd._stats.RidgeStats" in _imports(PACKAGE / "_dask.py")
