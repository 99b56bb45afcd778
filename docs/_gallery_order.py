"""The reading order of the gallery (sphinx-gallery's ``within_subsection_order``)."""

import os

ORDER = [
    "plot_textbook_gradient_descent.py",
    "plot_cv_curve.py",
    "plot_regularization_path.py",
    "plot_l2_vs_l1.py",
    "plot_out_of_core.py",
    "plot_dask.py",
]


class ExampleOrder:
    """Sort key: the examples of ``ORDER`` first, in that order, then the others by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = os.path.basename(filename)
        return (ORDER.index(name), "") if name in ORDER else (len(ORDER), name)

    def __repr__(self):
        return f"<{type(self).__name__}>"
