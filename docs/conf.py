"""Sphinx configuration of l2gd's documentation site.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` from the
repository root (the ``docs`` extra installs what it needs).
"""

import os
import sys
import warnings

# The l2gd of this checkout, whether or not it is installed.
sys.path.insert(0, os.path.abspath(".."))
# _gallery_order.py, next to this file.
sys.path.insert(0, os.path.abspath(os.path.dirname(__file__)))

import l2gd  # noqa: E402

project = "l2gd"
author = "The l2gd developers"
copyright = "The l2gd developers"
release = l2gd.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "examples/GALLERY_HEADER.rst"]
default_role = "literal"

# API reference: one page per public object, generated from the docstrings.
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()

# The gallery: docs/examples/*.py run at build time, output in docs/auto_examples.
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "_gallery_order.ExampleOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "show_memory": False,
}

# Examples are small on purpose; their convergence or boundary warnings are
# part of what they show, not build problems.
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

html_theme = "pydata_sphinx_theme"
html_title = f"l2gd {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
html_show_sourcelink = False


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Leave out the ``set_*_request`` methods scikit-learn generates.

    They are documented by scikit-learn (metadata routing), and their
    docstrings refer to labels of scikit-learn's own site.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
