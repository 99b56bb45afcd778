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

__all__ = [
    "HasMethods",
    "Interval",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "_is_numpy_namespace",
    "check_same_namespace",
    "get_namespace_and_device",
    "move_to",
    "supported_float_dtypes",
    "validate_data",
]
