"""Classical forecasting baselines that every recurrent model has to beat.

Each baseline maps a history to an ``horizon``-step forecast.  Time runs along axis 0 of a 1-D
history ``(time,)`` and along axis -2 otherwise, so one series ``(time,)``, several series
``(time, n_series)`` and a batch of windows ``(batch, time, n_series)`` all work; the forecast has
the history's shape with ``time`` replaced by ``horizon``.
"""

import numbers

import numpy as np

__all__ = ["naive", "seasonal_naive", "drift", "seasonal_naive_drift", "BASELINES"]


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

    Parameters
    ----------
    history : array_like, shape (time,) or (..., time, n)
        At least ``m`` steps.
    horizon : int
        Steps to forecast; beyond ``m`` the last season repeats again.
    m : int
        Season length (12 for monthly data with a yearly season).

    Returns
    -------
    numpy.ndarray, shape (horizon,) or (..., horizon, n), float64

    Examples
    --------
    >>> seasonal_naive([1.0, 2.0, 3.0, 10.0, 20.0, 30.0], horizon=4, m=3)
    array([10., 20., 30., 10.])
    """
    if not isinstance(m, numbers.Integral) or isinstance(m, bool) or m < 1:
        raise ValueError(f"m: expected an int >= 1, got {m!r}")
    values = _as_history(history, horizon, at_least=m)
    rows = values.shape[-2] - m + np.arange(horizon) % m
    return _like(values[..., rows, :], history)


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
    (k + 1) * c``, where ``c = (sum of the last season - sum of the first season) / (T - m)`` is
    the mean of the seasonal differences ``history[t] - history[t - m]``.  With ``m = 1`` it is
    :func:`drift`.

    Parameters
    ----------
    history : array_like, shape (time,) or (..., time, n)
        At least ``m + 1`` steps.
    horizon : int
    m : int
        Season length.

    Returns
    -------
    numpy.ndarray, shape (horizon,) or (..., horizon, n), float64

    Examples
    --------
    >>> seasonal_naive_drift([1.0, 2.0, 3.0, 11.0, 12.0, 13.0], horizon=4, m=3)
    array([21., 22., 23., 31.])
    """
    if not isinstance(m, numbers.Integral) or isinstance(m, bool) or m < 1:
        raise ValueError(f"m: expected an int >= 1, got {m!r}")
    values = _as_history(history, horizon, at_least=m + 1)
    steps = np.arange(horizon)
    rows = values.shape[-2] - m + steps % m
    change = (values[..., m:, :] - values[..., :-m, :]).mean(axis=-2, keepdims=True)
    return _like(values[..., rows, :] + (steps // m + 1)[:, None] * change, history)


#: Every baseline as ``name -> f(history, horizon, season)``, in report order.
BASELINES = {
    "naive": lambda history, horizon, season: naive(history, horizon),
    "seasonal_naive": seasonal_naive,
    "drift": lambda history, horizon, season: drift(history, horizon),
    "seasonal_naive_drift": seasonal_naive_drift,
}
