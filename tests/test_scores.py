"""Scores from parts against scikit-learn's metrics, computed independently."""

import numpy as np
import pytest
from sklearn.metrics import r2_score

from l2gd._scores import r2_from_parts, r2_scores


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("per_target", [False, True])
def test_batched_r2_equals_r2_score_per_alpha(weighted, per_target):
    rng = np.random.default_rng(0)
    Y = rng.standard_normal((30, 3))
    pred = Y[:, None, :] + rng.standard_normal((30, 4, 3))  # 4 "alphas"
    sw = rng.uniform(0, 2, 30) if weighted else None
    got = r2_scores(Y, pred, sw, per_target=per_target)
    for a in range(4):
        ref = r2_score(
            Y, pred[:, a, :], sample_weight=sw,
            multioutput="raw_values" if per_target else "uniform_average",
        )
        np.testing.assert_allclose(got[a], ref, rtol=1e-12)


@pytest.mark.parametrize("exact", [True, False])
def test_constant_target_follows_force_finite(exact):
    Y = np.full((5, 1), 2.0)
    pred = Y.copy() if exact else Y + 1.0
    assert r2_scores(Y, pred)[0] == r2_score(Y, pred)
    assert r2_from_parts(0.0, 0.0) == 1.0 and r2_from_parts(1.0, 0.0) == 0.0
