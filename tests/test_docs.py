"""Structural checks of the documentation sources (not a build).

The full build, ``python -m sphinx -W -b html docs docs/_build/html``, runs
in CI; these checks are cheap and catch the usual drift: a public name
missing from the API reference, a gallery example without a title.
"""

import ast
import re
from pathlib import Path

import pytest

pytest.importorskip("sphinx")

import l2gd  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("*.py"))


def _api_source():
    return (DOCS / "api.rst").read_text(encoding="utf-8")


def _documented_names(text):
    """Names listed in autosummary blocks, or written as ``l2gd.<name>``."""
    names = set(re.findall(r"^   ([A-Za-z_][A-Za-z0-9_.]*)\s*$", text, flags=re.MULTILINE))
    names |= set(re.findall(r"l2gd\.([A-Za-z_][A-Za-z0-9_]*)", text))
    return names


@pytest.mark.parametrize("name", l2gd.__all__)
def test_every_public_name_is_in_the_api_reference(name):
    assert name in _documented_names(_api_source()), (
        f"l2gd.{name} is in l2gd.__all__ but not in docs/api.rst"
    )


@pytest.mark.parametrize("module", ["l2gd.solvers", "l2gd.schedules", "l2gd.plot", "l2gd.onnx"])
def test_every_name_of_the_public_modules_is_in_the_api_reference(module):
    mod = pytest.importorskip(module)
    text = _api_source()
    assert f".. automodule:: {module}" in text
    missing = sorted(set(mod.__all__) - _documented_names(text))
    assert not missing, f"{module}: {missing} not in docs/api.rst"


def test_the_names_found_are_not_everything():
    # The parser must be able to fail: a name that is not documented is not found.
    assert "not_a_public_name" not in _documented_names(_api_source())
    assert "GDRidgeCV" not in _documented_names("Some text about ridge.")


def test_the_gallery_has_examples():
    assert len(EXAMPLES) >= 6
    assert (DOCS / "examples" / "GALLERY_HEADER.rst").is_file()


def _title(path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    if not doc:
        return None
    lines = doc.strip().splitlines()
    if len(lines) < 2 or not re.fullmatch(r"=+", lines[1].strip()):
        return None
    return lines[0].strip() if len(lines[1].strip()) >= len(lines[0].strip()) else None


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_gallery_example_has_a_title_docstring(path):
    assert path.name.startswith("plot_"), "sphinx-gallery runs only files named plot_*.py"
    assert _title(path), f"{path.name} needs a docstring starting with a title underlined by '='"


def test_title_check_can_fail(tmp_path):
    bad = tmp_path / "plot_bad.py"
    bad.write_text('"""No title here."""\nx = 1\n', encoding="utf-8")
    assert _title(bad) is None
    short = tmp_path / "plot_short.py"
    short.write_text('"""\nA long title\n=====\n"""\n', encoding="utf-8")
    assert _title(short) is None


def test_user_guide_pages_are_in_the_toctree():
    index = (DOCS / "user_guide" / "index.rst").read_text(encoding="utf-8")
    for page in sorted((DOCS / "user_guide").glob("*.rst")):
        if page.stem != "index":
            assert f"   {page.stem}\n" in index, f"{page.name} is not in the user guide toctree"


def test_the_gallery_order_names_every_example():
    text = (DOCS / "_gallery_order.py").read_text(encoding="utf-8")
    order = ast.literal_eval(re.search(r"ORDER = (\[.*?\])", text, flags=re.DOTALL).group(1))
    assert sorted(order) == [p.name for p in EXAMPLES]
