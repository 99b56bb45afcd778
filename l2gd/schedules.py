"""Learning-rate schedules for the SGD solver.

A schedule is a small frozen dataclass: ``schedule(t)`` is the step size of
update ``t = 0, 1, 2, ...`` (``t`` counts mini-batch updates, across epochs
and across ``partial_fit`` calls). Schedules hold no per-fit state, so they
compare, clone, pickle and go through joblib unchanged.

Step sizes are on the **mean-scaled** objective ``f(w) / S`` (``f`` the
ridge objective of :class:`~l2gd.RidgeProblem`, ``S`` the total sample
weight), so a value does not depend on the number of samples; this is the
scale of :class:`~l2gd.solvers.GradientDescent`'s ``learning_rate`` too.

Two hooks let the solver talk to a schedule without knowing its type:

- ``bind(safe_step, strong_convexity)`` returns a schedule whose data-derived
  fields are filled in (``eta0=None`` means "the safe step of this data",
  see :class:`~l2gd.solvers.SGD`); a schedule with nothing to fill returns
  itself.
- ``on_plateau()`` is called when the monitored quantity (training objective,
  or validation score with early stopping) has stopped improving. It returns
  the schedule to continue with, or ``None`` when the schedule cannot adapt,
  and then the solver stops (converged). Only :class:`Adaptive` adapts.

Examples
--------
>>> from l2gd.schedules import Adaptive, Constant, InverseScaling
>>> InverseScaling(eta0=1.0, power_t=0.5)(3)
0.5
>>> Constant(0.1).on_plateau() is None
True
>>> Adaptive(eta0=1.0, divisor=4.0, n_reductions=1).on_plateau()
Adaptive(eta0=0.25, divisor=4.0, n_reductions=0)
"""

import math
from dataclasses import dataclass, replace
from numbers import Real

__all__ = [
    "Adaptive",
    "Constant",
    "InverseScaling",
    "Optimal",
    "Schedule",
    "as_schedule",
]


def _check_positive(value, name, cls, allow_none=True):
    if value is None and allow_none:
        return
    if (
        not isinstance(value, Real)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(
            f"{cls}.{name} must be a positive finite float"
            + (" or None" if allow_none else "")
            + f", got {value!r}."
        )


def _unbound(cls):
    return ValueError(
        f"{cls} has eta0=None (the safe step of the data) and is not bound to data yet; "
        "call schedule.bind(safe_step, strong_convexity) or pass eta0."
    )


class Schedule:
    """Base class of schedules: ``__call__(t)``, ``bind`` and ``on_plateau``."""

    def __call__(self, t):
        raise NotImplementedError

    def bind(self, safe_step, strong_convexity):
        """Schedule with data-derived fields filled in (here: itself)."""
        return self

    def on_plateau(self):
        """Schedule to continue with after a plateau, or None to stop."""
        return None


@dataclass(frozen=True)
class Constant(Schedule):
    """Constant step ``eta0``.

    Parameters
    ----------
    eta0 : float or None, default=None
        Step size; ``None`` means the safe step of the data.

    Examples
    --------
    >>> from l2gd.schedules import Constant
    >>> [Constant(0.5)(t) for t in range(3)]
    [0.5, 0.5, 0.5]
    >>> Constant().bind(safe_step=0.2, strong_convexity=0.0)
    Constant(eta0=0.2)
    """

    eta0: float = None

    def __post_init__(self):
        _check_positive(self.eta0, "eta0", "Constant")

    def __call__(self, t):
        if self.eta0 is None:
            raise _unbound("Constant")
        return self.eta0

    def bind(self, safe_step, strong_convexity):
        return self if self.eta0 is not None else replace(self, eta0=float(safe_step))


@dataclass(frozen=True)
class InverseScaling(Schedule):
    """Decaying step ``eta0 / (t + 1) ** power_t``.

    Parameters
    ----------
    eta0 : float or None, default=None
        Initial step; ``None`` means the safe step of the data.
    power_t : float, default=0.5
        Decay exponent, ``> 0``.

    Examples
    --------
    >>> from l2gd.schedules import InverseScaling
    >>> [InverseScaling(eta0=1.0, power_t=1.0)(t) for t in range(4)]
    [1.0, 0.5, 0.3333333333333333, 0.25]
    """

    eta0: float = None
    power_t: float = 0.5

    def __post_init__(self):
        _check_positive(self.eta0, "eta0", "InverseScaling")
        _check_positive(self.power_t, "power_t", "InverseScaling", allow_none=False)

    def __call__(self, t):
        if self.eta0 is None:
            raise _unbound("InverseScaling")
        return self.eta0 / (t + 1.0) ** self.power_t

    def bind(self, safe_step, strong_convexity):
        return self if self.eta0 is not None else replace(self, eta0=float(safe_step))


@dataclass(frozen=True)
class Optimal(Schedule):
    """Bottou's schedule ``1 / (strong_convexity * (t0 + t))``.

    The classical ``O(1/t)`` schedule for a strongly convex objective. On the
    mean-scaled ridge objective the strong convexity is at least
    ``2 * alpha / S`` (``S`` the total sample weight); that is the default.

    Parameters
    ----------
    strong_convexity : float or None, default=None
        Strong-convexity constant ``mu`` of the mean-scaled objective;
        ``None`` means ``2 * min(alpha) / S`` (requires ``alpha > 0``).
    t0 : float or None, default=None
        Offset; ``None`` chooses it so that the first step is the safe step,
        ``t0 = 1 / (mu * safe_step)``.

    Examples
    --------
    >>> from l2gd.schedules import Optimal
    >>> s = Optimal(strong_convexity=0.5, t0=2.0)
    >>> [s(t) for t in range(3)]
    [1.0, 0.6666666666666666, 0.5]
    >>> Optimal(strong_convexity=0.5).bind(safe_step=0.1, strong_convexity=1.0)
    Optimal(strong_convexity=0.5, t0=20.0)
    """

    strong_convexity: float = None
    t0: float = None

    def __post_init__(self):
        _check_positive(self.strong_convexity, "strong_convexity", "Optimal")
        _check_positive(self.t0, "t0", "Optimal")

    def __call__(self, t):
        if self.strong_convexity is None or self.t0 is None:
            raise ValueError(
                "Optimal needs strong_convexity and t0; call bind(safe_step, strong_convexity) "
                "or pass them."
            )
        return 1.0 / (self.strong_convexity * (self.t0 + t))

    def bind(self, safe_step, strong_convexity):
        mu = self.strong_convexity
        if mu is None:
            if not strong_convexity > 0:
                raise ValueError(
                    "learning_rate=Optimal() needs alpha > 0 (the strong convexity is "
                    "2 * alpha / sum(sample_weight)); pass Optimal(strong_convexity=...) or "
                    "use another schedule."
                )
            mu = float(strong_convexity)
        t0 = self.t0 if self.t0 is not None else 1.0 / (mu * float(safe_step))
        return replace(self, strong_convexity=mu, t0=t0)


@dataclass(frozen=True)
class Adaptive(Schedule):
    """Constant step, divided by ``divisor`` each time progress stalls.

    The solver detects the plateau (``n_iter_no_change`` epochs without an
    improvement larger than ``tol`` of the training objective, or of the
    validation score with early stopping) and calls :meth:`on_plateau`, which
    returns the reduced schedule while ``n_reductions > 0`` and ``None``
    afterwards (the solver then stops). With a constant step SGD settles in a
    noise ball whose radius is proportional to the step; each reduction
    shrinks it, so this converges without tuning. ``Adaptive()`` is what
    ``learning_rate="auto"`` means.

    Parameters
    ----------
    eta0 : float or None, default=None
        Current step; ``None`` means the safe step of the data.
    divisor : float, default=5.0
        Factor the step is divided by at each plateau, ``> 1``.
    n_reductions : int, default=4
        How many more times the step may be divided.

    Examples
    --------
    >>> from l2gd.schedules import Adaptive
    >>> s = Adaptive(eta0=1.0, divisor=2.0, n_reductions=2)
    >>> s = s.on_plateau(); s(100)
    0.5
    >>> s.on_plateau().on_plateau() is None
    True
    """

    eta0: float = None
    divisor: float = 5.0
    n_reductions: int = 4

    def __post_init__(self):
        _check_positive(self.eta0, "eta0", "Adaptive")
        _check_positive(self.divisor, "divisor", "Adaptive", allow_none=False)
        if not self.divisor > 1:
            raise ValueError(f"Adaptive.divisor must be > 1, got {self.divisor!r}.")
        if (
            not isinstance(self.n_reductions, int)
            or isinstance(self.n_reductions, bool)
            or self.n_reductions < 0
        ):
            raise ValueError(
                f"Adaptive.n_reductions must be a non-negative int, got {self.n_reductions!r}."
            )

    def __call__(self, t):
        if self.eta0 is None:
            raise _unbound("Adaptive")
        return self.eta0

    def bind(self, safe_step, strong_convexity):
        return self if self.eta0 is not None else replace(self, eta0=float(safe_step))

    def on_plateau(self):
        if self.n_reductions <= 0:
            return None
        return replace(self, eta0=self.eta0 / self.divisor, n_reductions=self.n_reductions - 1)


def as_schedule(learning_rate):
    """Turn a ``learning_rate`` parameter into a :class:`Schedule` (once).

    ``"auto"`` is :class:`Adaptive` ``()`` (safe step from the data, divided on
    plateaus); a positive float is :class:`Constant` ``(learning_rate)``; a
    schedule object is returned as is.

    Examples
    --------
    >>> from l2gd.schedules import as_schedule
    >>> as_schedule(0.1)
    Constant(eta0=0.1)
    >>> as_schedule("auto")
    Adaptive(eta0=None, divisor=5.0, n_reductions=4)
    """
    if isinstance(learning_rate, str):
        if learning_rate == "auto":
            return Adaptive()
    elif isinstance(learning_rate, Schedule):
        return learning_rate
    elif isinstance(learning_rate, Real) and not isinstance(learning_rate, bool):
        if math.isfinite(learning_rate) and learning_rate > 0:
            return Constant(float(learning_rate))
    raise ValueError(
        "learning_rate must be 'auto', a positive float or a schedule from l2gd.schedules "
        f"(Constant, InverseScaling, Optimal, Adaptive), got {learning_rate!r}."
    )
