"""The only module of l2gd that imports scikit-learn's private API.

Everything scikit-learn does not promise to keep stable is imported here once,
so that an upgrade that moves one of these names breaks one import, not the
package. Public scikit-learn API is imported where it is used.
"""

from sklearn.base import _fit_context
from sklearn.utils._array_api import (
    _is_numpy_namespace,
    check_same_namespace,
    get_namespace_and_device,
    move_to,
    supported_float_dtypes,
)
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

try:  # scikit-learn >= 1.9: progress callbacks (``est.set_callbacks(...)``)
    from sklearn.callback import CallbackSupportMixin

    #: Whether the installed scikit-learn has the callback API. Read at call
    #: time (``_compat.HAS_CALLBACKS``), so a test can switch it off.
    HAS_CALLBACKS = True
except ImportError:  # pragma: no cover - older scikit-learn

    class CallbackSupportMixin:
        """Stand-in for scikit-learn's mixin when it has no callback API."""

    HAS_CALLBACKS = False


def init_callback_context(estimator, max_subtasks):
    """The root callback context of ``estimator``'s fit (merged into its
    meta-estimator's task tree when it has one), or None without the callback
    API, or when there is nothing to report to: no callbacks and no
    meta-estimator's task tree (a fit without callbacks then costs nothing).
    Call it once, at the start of a method decorated by ``_fit_context``
    (which tears the callbacks down)."""
    if not HAS_CALLBACKS:
        return None
    if not (has_callbacks(estimator) or hasattr(estimator, "_parent_callback_ctx")):
        return None
    return estimator._init_callback_context(max_subtasks=max_subtasks)


def has_callbacks(estimator):
    """Whether callbacks are set on (or propagated to) ``estimator``."""
    return HAS_CALLBACKS and bool(getattr(estimator, "_skl_callbacks", None))

__all__ = [
    "HAS_CALLBACKS",
    "CallbackSupportMixin",
    "HasMethods",
    "Interval",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "_is_numpy_namespace",
    "check_same_namespace",
    "get_namespace_and_device",
    "has_callbacks",
    "init_callback_context",
    "move_to",
    "supported_float_dtypes",
    "validate_data",
]
