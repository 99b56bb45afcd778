"""
The textbook gradient-descent recipe, and why hand-written sums diverge
=======================================================================

The classic recipe for L2-regularized linear regression by gradient descent:
``y = 4x + noise`` on 100 points, ``lambda = 0.1``, learning rate 0.01, 1000
iterations, with the gradient written by hand on the *mean* loss

.. math::

    J(w, b) = \\frac{1}{n} \\sum_i (y_i - w x_i - b)^2 + \\lambda w^2 .

That is Ridge's objective divided by :math:`n`, with
``alpha = n * lambda = 10``. l2gd's ``learning_rate`` is a step on exactly that
mean-scaled objective, so the same numbers work, and both agree with
scikit-learn's :class:`~sklearn.linear_model.Ridge`.

Written on the *summed* loss instead, with the same learning rate and no
``1/n``, every step is ``n = 100`` times larger and the iterates blow up.
"""

# %%
# The data and the hand-written recipe
# ------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge

from l2gd import GDRidgeRegressor
from l2gd.solvers import GradientDescent

N_POINTS, LAMBDA, LEARNING_RATE, N_ITER = 100, 0.1, 0.01, 1000

rng = np.random.default_rng(0)
x = 2 * rng.random(N_POINTS)
y = 4 * x + rng.standard_normal(N_POINTS)


def by_hand(x, y, summed=False, n_iter=N_ITER):
    """Gradient descent written by hand; returns the path of w.

    ``summed=True`` is the classic bug: the gradient of the summed loss, with
    no 1/n, at the same learning rate.
    """
    w = b = 0.0
    scale = 1.0 if summed else 1.0 / len(x)
    path = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n_iter):
            r = y - (w * x + b)
            grad_w = -2 * scale * np.sum(x * r) + 2 * LAMBDA * w
            grad_b = -2 * scale * np.sum(r)
            w, b = w - LEARNING_RATE * grad_w, b - LEARNING_RATE * grad_b
            path.append(w)
    return w, b, np.array(path)


w_hand, b_hand, path_mean = by_hand(x, y)

# %%
# The same steps with l2gd, and scikit-learn's exact answer
# ---------------------------------------------------------
# ``acceleration="none"`` makes :class:`~l2gd.solvers.GradientDescent` take
# plain steps of the given ``learning_rate`` on the mean-scaled objective: the
# textbook's iteration. ``alpha`` is ``n * lambda``.
est = GDRidgeRegressor(
    alpha=N_POINTS * LAMBDA,
    solver=GradientDescent(learning_rate=LEARNING_RATE, acceleration="none"),
    max_iter=N_ITER,
    tol=1e-4,
).fit(x.reshape(-1, 1), y)
ref = Ridge(alpha=N_POINTS * LAMBDA).fit(x.reshape(-1, 1), y)

print(f"by hand (mean loss): w={w_hand:.6f} b={b_hand:.6f}")
print(f"l2gd gd:             w={est.coef_[0]:.6f} b={est.intercept_:.6f} "
      f"({est.n_iter_} iterations)")
print(f"sklearn Ridge:       w={ref.coef_[0]:.6f} b={ref.intercept_:.6f}")

# %%
# The summed loss at the same learning rate diverges
# --------------------------------------------------
# The gradient of the summed loss is ``n`` times larger. Gradient descent is
# stable only while the learning rate times the largest eigenvalue ``L`` of
# the Hessian (in ``w`` and ``b``) stays below 2; for the summed loss it is
# above, so the error is multiplied at every step and reaches ``inf``
# within a few dozen steps.
_, _, path_sum = by_hand(x, y, summed=True, n_iter=60)
hessian_sum = 2 * np.array([[np.sum(x**2) + LAMBDA, np.sum(x)], [np.sum(x), N_POINTS]])
L_sum = np.linalg.eigvalsh(hessian_sum)[-1]
print(f"learning rate x L: mean loss {LEARNING_RATE * L_sum / N_POINTS:.3f}, "
      f"summed loss {LEARNING_RATE * L_sum:.1f} (stable below 2)")
print(f"summed loss, |w| after 60 steps: {abs(path_sum[-1]):.3g}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
ax1.plot(path_mean)
ax1.axhline(ref.coef_[0], color="k", ls="--", label="Ridge")
ax1.set(xlabel="iteration", ylabel="w", title="mean loss: converges")
ax1.legend()
ax2.semilogy(np.abs(path_sum))
ax2.set(xlabel="iteration", ylabel="|w|", title="summed loss, same step: diverges")
fig.tight_layout()

# %%
# l2gd cannot make that mistake
# -----------------------------
# The gradient is written once, in :class:`~l2gd.RidgeProblem`; learning rates
# are defined on the mean-scaled objective so they do not grow with ``n``;
# the default step comes from the Lipschitz constant; and a learning rate that
# blows the objective up stops with a ``ValueError`` naming the value used and
# the stable bound, never with NaN coefficients.
try:
    GDRidgeRegressor(
        alpha=N_POINTS * LAMBDA,
        solver=GradientDescent(learning_rate=10.0, acceleration="none"),
    ).fit(x.reshape(-1, 1), y)
except ValueError as exc:
    print(exc)
