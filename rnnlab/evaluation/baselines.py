"""Classical forecasting baselines that every recurrent model has to beat.

Each baseline maps a history to an ``horizon``-step forecast.  Time runs along axis 0 of a 1-D
history ``(time,)`` and along axis -2 otherwise, so one series ``(time,)``, several series
``(time, n_series)`` and a batch of windows ``(batch, time, n_series)`` all work; the forecast has
the history's shape with ``time`` replaced by ``horizon``.
"""

import math
import numbers

import numpy as np

from rnnlab.evaluation.metrics import check_season, lagged, season_changes

__all__ = ["naive", "seasonal_naive", "drift", "seasonal_naive_drift", "season_rows",
           "BASELINES"]


def _as_history(history, horizon, at_least):
    """Validate the arguments; return the history as float64 with time on axis -2."""
    values = np.asarray(history, dtype=np.float64)
    if values.ndim == 0:
        raise ValueError(f"history: expected shape (time,) or (..., time, n), got {values.shape}")
    if not isinstance(horizon, numbers.Integral) or isinstance(horizon, bool) or horizon < 1:
        raise ValueError(f"horizon: expected an int >= 1, got {horizon!r}")
    values = values[:, None] if values.ndim == 1 else values
    if values.shape[-2] < at_least:
        raise ValueError(f"history: expected at least {at_least} time steps, got "
                         f"{values.shape[-2]}")
    return values


def _like(forecast, history):
    """Undo the (time,) -> (time, 1) promotion."""
    return forecast[:, 0] if np.ndim(history) == 1 else forecast


def naive(history, horizon):
    """Repeat the last observed value: ``forecast[j] = history[-1]``.

    Parameters
    ----------
    history : array_like, shape (time,) or (..., time, n)
    horizon : int
        Steps to forecast.

    Returns
    -------
    numpy.ndarray, shape (horizon,) or (..., horizon, n), float64

    Examples
    --------
    >>> naive([3.0, 5.0, 4.0], horizon=2)
    array([4., 4.])
    """
    values = _as_history(history, horizon, at_least=1)
    return _like(np.repeat(values[..., -1:, :], horizon, axis=-2), history)


def seasonal_naive(history, horizon, m):
    """Repeat the last season: ``forecast[j] = history[T - m + (j mod m)]``.

    Each forecast row is the last observed row a whole number of seasons before it.  A
    fractional ``m`` (weekly data: 365.25 / 7 = 52.18) reads that row between two observations,
    linearly interpolated: ``forecast[j] = history(T + j - n_j m)`` with ``n_j = ceil((j + 1) /
    m)``, which for a whole ``m`` is the formula above.

    Parameters
    ----------
    history : array_like, shape (time,) or (..., time, n)
        At least :func:`season_rows` steps (``m``; ``floor(m) + 2`` for a fractional ``m``).
    horizon : int
        Steps to forecast; beyond ``m`` the last season repeats again.
    m : int or float
        Season length (12 for monthly data with a yearly season), ``>= 1``.

    Returns
    -------
    numpy.ndarray, shape (horizon,) or (..., horizon, n), float64

    Examples
    --------
    >>> seasonal_naive([1.0, 2.0, 3.0, 10.0, 20.0, 30.0], horizon=4, m=3)
    array([10., 20., 30., 10.])
    >>> seasonal_naive([0.0, 10.0, 20.0, 30.0], horizon=3, m=2.5)  # rows 1.5, 2.5, then 1
    array([15., 25., 10.])
    """
    m = check_season(m)
    values = _as_history(history, horizon, at_least=season_rows(m))
    rows, _ = _seasons_back(values.shape[-2], horizon, m)
    return _like(lagged(values, rows), history)


def season_rows(m):
    """The rows :func:`seasonal_naive` needs: ``m`` for a whole season, ``floor(m) + 2`` for a
    fractional one (its forecasts read between two rows up to ``m + 1`` rows back).

    Examples
    --------
    >>> season_rows(12), season_rows(52.18)
    (12, 54)
    """
    m = check_season(m)
    return m if isinstance(m, int) else math.floor(m) + 2


def _seasons_back(time, horizon, m):
    """For each step ``j``: the whole seasons ``n_j = ceil((j + 1) / m)`` to go back from row
    ``time + j`` to reach the history, and the (fractional) row ``time + j - n_j * m`` there."""
    steps = np.arange(horizon)
    if isinstance(m, int):
        seasons = steps // m + 1
    else:  # rounded so that (j + 1) / m = 2.0000000001 still counts as two whole seasons
        seasons = np.ceil(np.round((steps + 1) / m, 9)).astype(np.int64)
    return time + steps - seasons * m, seasons


def drift(history, horizon):
    """Extend the line through the first and last values: ``last + (j + 1) * slope``.

    The slope is ``(history[-1] - history[0]) / (T - 1)``, the average change per step.

    Parameters
    ----------
    history : array_like, shape (time,) or (..., time, n)
        At least 2 steps.
    horizon : int

    Returns
    -------
    numpy.ndarray, shape (horizon,) or (..., horizon, n), float64

    Examples
    --------
    >>> drift([1.0, 4.0, 3.0, 7.0], horizon=3)
    array([ 9., 11., 13.])
    """
    values = _as_history(history, horizon, at_least=2)
    first, last = values[..., :1, :], values[..., -1:, :]
    slope = (last - first) / (values.shape[-2] - 1)
    steps = np.arange(1, horizon + 1, dtype=np.float64)[:, None]
    return _like(last + steps * slope, history)


def seasonal_naive_drift(history, horizon, m):
    """Seasonal naive plus the average change per season (a seasonal random walk with drift).

    With ``k = j // m`` whole seasons ahead, ``forecast[j] = history[T - m + (j mod m)] +
    (k + 1) * c`` (for a fractional ``m``, :func:`seasonal_naive` plus ``n_j * c``), where ``c = (sum of the last season - sum of the first season) / (T - m)`` is
    the mean of the seasonal differences ``history[t] - history[t - m]``.  With ``m = 1`` it is
    :func:`drift`.

    Parameters
    ----------
    history : array_like, shape (time,) or (..., time, n)
        At least :func:`season_rows` ``+ 1`` steps.
    horizon : int
    m : int or float
        Season length, fractional as in :func:`seasonal_naive`.

    Returns
    -------
    numpy.ndarray, shape (horizon,) or (..., horizon, n), float64

    Examples
    --------
    >>> seasonal_naive_drift([1.0, 2.0, 3.0, 11.0, 12.0, 13.0], horizon=4, m=3)
    array([21., 22., 23., 31.])
    """
    m = check_season(m)
    values = _as_history(history, horizon, at_least=season_rows(m) + 1)
    rows, seasons = _seasons_back(values.shape[-2], horizon, m)
    change = season_changes(values, m).mean(axis=-2, keepdims=True)
    return _like(lagged(values, rows) + seasons[:, None] * change, history)


#: Every baseline as ``name -> f(history, horizon, season)``, in report order.
BASELINES = {
    "naive": lambda history, horizon, season: naive(history, horizon),
    "seasonal_naive": seasonal_naive,
    "drift": lambda history, horizon, season: drift(history, horizon),
    "seasonal_naive_drift": seasonal_naive_drift,
}
