"""Progress callbacks: l2gd's tasks in scikit-learn's callback API.

scikit-learn (>= 1.9, :mod:`sklearn.callback`) describes a fit as a tree of
tasks; callbacks (``ProgressBar``, ``ScoringMonitor``, your own) set with
``est.set_callbacks(...)`` are called at the beginning and end of each. The
tree of l2gd's estimators::

    GDRidgeRegressor fit
        iteration  (one per gd iteration, or per sgd epoch; a Dask fit's
                    iterations are its passes over the data)
    GDRidgeCV fit
        cross-validation
            fold   (one per split: the alpha path of its training rows)
                alpha  (one per alpha, for warm-started iterative paths)
        refit      (the GDRidgeRegressor on all rows, nested)

The current task travels in a :class:`contextvars.ContextVar`, so that the
one iteration loop (:class:`l2gd.solvers.IterativeSolver`) and the one fold
engine (:func:`l2gd._path.fold_scores`) report without a new argument, and
only where an estimator opened a task of the right kind: a solver run outside
an estimator (``ridge_path``) or a solve that is not the fit's own reports
nothing. Without callbacks set, no task below the root is created (the fit is
unchanged); without :mod:`sklearn.callback` (``_compat.HAS_CALLBACKS``),
nothing at all.
"""

import copy
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields, is_dataclass, replace

from . import _compat

_CURRENT = ContextVar("l2gd_callback_task", default=None)


@dataclass(frozen=True)
class Task:
    """A node of the task tree and what its callback hooks receive.

    ``kind``: ``"fit"`` (nothing nests in it implicitly), ``"solve"`` (the
    solver loop adds one subtask per iteration), ``"path"`` (the warm-started
    path adds one subtask per alpha). ``attributes``: None, or a function of
    ``(coef, intercept)`` in the solver's units giving the fitted attributes
    of the estimator as if the fit stopped there (the ``fitted_estimator`` of
    the hooks, built only when a callback asks for it).
    """

    context: object
    estimator: object
    X: object = None
    y: object = None
    metadata: dict = None
    kind: str = "fit"
    attributes: object = None

    def subtask(self, name, max_subtasks=0, **changes):
        """A child task (created, not begun)."""
        context = self.context.subcontext(task_name=name, max_subtasks=max_subtasks)
        return replace(self, context=context, **{"kind": "fit", **changes})

    def begin(self):
        """Call the callbacks' ``on_fit_task_begin``; return self."""
        self.context.call_on_fit_task_begin(
            estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata
        )
        return self

    def end(self, coef=None):
        """Call the callbacks' ``on_fit_task_end``; ``coef``: None, or a function
        returning ``(coef, intercept)`` in the solver's units. Return whether a
        callback asked to stop."""
        attributes = None
        if coef is not None and self.attributes is not None:
            convert = self.attributes

            def attributes():
                return convert(*coef())

        return bool(self.context.call_on_fit_task_end(
            estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata,
            reconstruction_attributes=attributes,
        ))


def current(kind=None):
    """The current task (of ``kind`` when given), or None."""
    task = _CURRENT.get()
    if task is None or (kind is not None and task.kind != kind):
        return None
    return task


@contextmanager
def running(task):
    """Make ``task`` (or None: no task) the current one inside the block."""
    token = _CURRENT.set(task)
    try:
        yield task
    finally:
        _CURRENT.reset(token)


@contextmanager
def fitting(estimator, X=None, y=None, sample_weight=None, max_subtasks=None):
    """The root task of ``estimator``'s fit: begun on entry, ended on a normal
    exit (with the fitted ``coef_`` and ``intercept_``), current inside the
    block when callbacks are set (None otherwise, which also hides any outer
    task from the fit's own solves). Dask collections are not passed to the
    hooks (a scorer would compute them)."""
    context = _compat.init_callback_context(estimator, max_subtasks)
    if context is None:
        with running(None):
            yield None
        return
    if _is_dask(X):
        X = y = sample_weight = None
    metadata = None if sample_weight is None else {"sample_weight": sample_weight}
    root = Task(context, estimator, X, y, metadata).begin()
    task = root if _compat.has_callbacks(estimator) else None
    with running(task):
        yield task
    root.context.call_on_fit_task_end(
        estimator=estimator, X=root.X, y=root.y, metadata=metadata,
        reconstruction_attributes=lambda: _fitted(estimator),
    )


def _fitted(estimator):
    return {k: getattr(estimator, k) for k in ("coef_", "intercept_") if hasattr(estimator, k)}


def _is_dask(X):
    return type(X).__module__.split(".")[0] == "dask"


def solving(estimator, attributes):
    """The block of ``estimator``'s own solve: its fit task becomes a ``"solve"``
    task (one subtask per iteration) with ``attributes``; any other current
    task is hidden. A fit task declared a leaf (the closed form) stays one."""
    task = current()
    if task is not None and task.estimator is estimator and task.context.max_subtasks != 0:
        return running(replace(task, kind="solve", attributes=attributes))
    return running(None)


def snapshot(state):
    """A copy of a solver state that finishing it cannot change: the state and
    its dataclass attributes are copied (arrays are shared, never written)."""
    new = copy.copy(state)
    if is_dataclass(state):
        for f in fields(state):
            value = getattr(state, f.name)
            if is_dataclass(value) and not isinstance(value, type):
                object.__setattr__(new, f.name, copy.copy(value))
    return new



def fit_nested(name, sub_estimator, *args, **kwargs):
    """``sub_estimator.fit(*args, **kwargs)`` as the subtask ``name`` of the
    current fit task, the callbacks propagated to it (its task tree nested in
    the meta-estimator's, as scikit-learn's searches do); a plain fit without
    one. Returns the fitted sub-estimator."""
    parent = current("fit")
    if parent is None:
        return sub_estimator.fit(*args, **kwargs)
    task = parent.subtask(name)
    with task.context.propagate_callback_context(sub_estimator):
        task.begin()
        sub_estimator.fit(*args, **kwargs)
        task.end()
    return sub_estimator
