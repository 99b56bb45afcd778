"""The textbook recipe for L2-regularized linear regression by gradient descent.

y = 4x + noise on 100 points, lambda = 0.1, learning rate 0.01, 1000
iterations, gradient written by hand on the mean loss

    J(w, b) = (1/n) sum_i (y_i - w x_i - b)^2 + lambda w^2

which is Ridge's objective divided by n, with alpha = n * lambda. l2gd's
learning_rate is a step on exactly that mean-scaled objective, so the same
numbers work, and both agree with scikit-learn's Ridge.
"""

import numpy as np
from sklearn.linear_model import Ridge

from l2gd import GDRidgeRegressor
from l2gd.solvers import GradientDescent

N_POINTS, LAMBDA, LEARNING_RATE, N_ITER = 100, 0.1, 0.01, 1000


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = 2 * rng.random(N_POINTS)
    y = 4 * x + rng.standard_normal(N_POINTS)
    return x, y


def by_hand(x, y, summed=False, n_iter=N_ITER):
    """Gradient descent written by hand. ``summed=True`` is the classic bug:
    the gradient of the summed loss, with no 1/n, at the same learning rate."""
    w = b = 0.0
    scale = 1.0 if summed else 1.0 / len(x)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n_iter):
            r = y - (w * x + b)
            grad_w = -2 * scale * np.sum(x * r) + 2 * LAMBDA * w
            grad_b = -2 * scale * np.sum(r)
            w, b = w - LEARNING_RATE * grad_w, b - LEARNING_RATE * grad_b
    return w, b


def with_l2gd(x, y):
    est = GDRidgeRegressor(
        alpha=N_POINTS * LAMBDA,
        solver=GradientDescent(learning_rate=LEARNING_RATE, acceleration="none"),
        max_iter=N_ITER,
        tol=1e-4,
    )
    return est.fit(x.reshape(-1, 1), y)


def main():
    x, y = make_data()
    w_hand, b_hand = by_hand(x, y)
    est = with_l2gd(x, y)
    ref = Ridge(alpha=N_POINTS * LAMBDA).fit(x.reshape(-1, 1), y)
    print(f"by hand (mean loss): w={w_hand:.6f} b={b_hand:.6f}")
    print(f"l2gd gd:             w={est.coef_[0]:.6f} b={est.intercept_:.6f} "
          f"({est.n_iter_} iterations)")
    print(f"sklearn Ridge:       w={ref.coef_[0]:.6f} b={ref.intercept_:.6f}")
    w_bad, _ = by_hand(x, y, summed=True, n_iter=50)
    print(f"by hand, summed loss without 1/n, 50 steps: w={w_bad:.3g}  (diverged)")


if __name__ == "__main__":
    main()
