"""Test configuration.

scikit-learn checks array API support only when SciPy's array API mode is on,
and SciPy reads ``SCIPY_ARRAY_API`` once, at import. Set it here, before any
test module imports scipy or scikit-learn, so the array API checks run instead
of being skipped silently (tests/test_array_api.py fails if they would be).
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")
