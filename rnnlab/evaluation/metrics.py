"""Forecast accuracy metrics: numpy arrays in, one float out.

``actual`` and ``forecast`` must have the same shape (any shape, e.g. ``(horizon,)`` or
``(batch, horizon, n_targets)``); each metric averages over every element.  MAPE and sMAPE are in
percent.
"""

import numbers

import numpy as np

__all__ = ["mae", "rmse", "mape", "smape", "mase", "check_season", "lagged", "season_changes"]


def _pair(actual, forecast):
    actual = np.asarray(actual, dtype=np.float64)
    forecast = np.asarray(forecast, dtype=np.float64)
    if actual.shape != forecast.shape:
        raise ValueError(f"forecast: expected the shape of actual {actual.shape}, got "
                         f"{forecast.shape}")
    if actual.size == 0:
        raise ValueError(f"actual: expected at least one value, got shape {actual.shape}")
    return actual, forecast


def check_season(m):
    """A season length as the number it is: an int when whole, else a float (weekly 52.18).

    Parameters
    ----------
    m : int or float
        At least 1 and finite.

    Returns
    -------
    int or float

    Raises
    ------
    ValueError
        For a bool, a non-number, a value below 1 or not finite.

    Examples
    --------
    >>> check_season(12.0), check_season(52.18)
    (12, 52.18)
    """
    if not isinstance(m, numbers.Real) or isinstance(m, bool) or not np.isfinite(m) or m < 1:
        raise ValueError(f"m: expected a number >= 1, got {m!r}")
    return int(m) if float(m).is_integer() else float(m)


def lagged(values, position):
    """``values`` at fractional positions along axis -2, linear between the neighbouring rows.

    Parameters
    ----------
    values : numpy.ndarray, shape (..., time, n)
    position : numpy.ndarray of float, shape (k,)
        In ``[0, time - 1]``; a whole position reads its row exactly.

    Returns
    -------
    numpy.ndarray, shape (..., k, n)

    Examples
    --------
    >>> lagged(np.array([[0.0], [10.0], [20.0]]), np.array([0.0, 1.25]))[:, 0]
    array([ 0. , 12.5])
    """
    low = np.floor(position).astype(np.int64)
    if low.size and (low.min() < 0 or position.max() > values.shape[-2] - 1):
        raise ValueError(f"position: expected values in [0, {values.shape[-2] - 1}], got "
                         f"{position.min()} to {position.max()}")
    weight = (position - low)[:, None]
    high = np.minimum(low + 1, values.shape[-2] - 1)
    return values[..., low, :] * (1.0 - weight) + values[..., high, :] * weight


def season_changes(values, m):
    """The changes over one season, ``values[t] - values[t - m]``, along axis -2.

    For a whole ``m`` these are plain differences at lag ``m``; for a fractional one (weekly
    data with a year of 365.25 / 7 = 52.18 weeks) ``values[t - m]`` is interpolated linearly
    between the two rows around it (:func:`lagged`).

    Parameters
    ----------
    values : array_like, shape (time,) or (..., time, n)
    m : int or float
        Season length, ``>= 1`` (:func:`check_season`).

    Returns
    -------
    numpy.ndarray
        Shape ``(time - ceil(m),)`` or ``(..., time - ceil(m), n)``: one change per row from
        row ``ceil(m)`` on.

    Examples
    --------
    >>> season_changes([1.0, 2.0, 4.0, 8.0], 2)
    array([3., 6.])
    >>> season_changes([0.0, 10.0, 20.0, 30.0], 1.5)
    array([15., 15.])
    """
    m = check_season(m)
    array = np.asarray(values, dtype=np.float64)
    series = array[:, None] if array.ndim == 1 else array
    rows = np.arange(int(np.ceil(m)), series.shape[-2])
    changes = series[..., rows, :] - lagged(series, rows - m)
    return changes[:, 0] if array.ndim == 1 else changes


def mae(actual, forecast):
    """Mean absolute error, ``mean(|actual - forecast|)``.

    Parameters
    ----------
    actual, forecast : array_like
        Equal shapes.

    Returns
    -------
    float

    Examples
    --------
    >>> mae([1.0, 2.0, 3.0], [2.0, 2.0, 1.0])
    1.0
    """
    actual, forecast = _pair(actual, forecast)
    return float(np.mean(np.abs(actual - forecast)))


def rmse(actual, forecast):
    """Root mean squared error, ``sqrt(mean((actual - forecast) ** 2))``.

    Parameters
    ----------
    actual, forecast : array_like
        Equal shapes.

    Returns
    -------
    float

    Examples
    --------
    >>> rmse([0.0, 0.0], [3.0, 4.0]) ** 2
    12.5
    """
    actual, forecast = _pair(actual, forecast)
    return float(np.sqrt(np.mean((actual - forecast) ** 2)))


def mape(actual, forecast):
    """Mean absolute percentage error, ``100 * mean(|actual - forecast| / |actual|)``.

    Parameters
    ----------
    actual, forecast : array_like
        Equal shapes; ``actual`` must have no zeros (the error would be undefined).

    Returns
    -------
    float
        Percent.

    Examples
    --------
    >>> mape([100.0, 200.0], [110.0, 150.0])
    17.5
    """
    actual, forecast = _pair(actual, forecast)
    if (actual == 0).any():
        raise ValueError("actual: MAPE is undefined when an actual value is 0; use smape or mase")
    return float(100.0 * np.mean(np.abs(actual - forecast) / np.abs(actual)))


def smape(actual, forecast):
    """Symmetric MAPE, ``100 * mean(2 |actual - forecast| / (|actual| + |forecast|))``.

    Ranges over [0, 200]; a term where actual and forecast are both 0 counts as 0.

    Parameters
    ----------
    actual, forecast : array_like
        Equal shapes.

    Returns
    -------
    float
        Percent.

    Examples
    --------
    >>> smape([100.0, 0.0], [300.0, 0.0])
    50.0
    """
    actual, forecast = _pair(actual, forecast)
    total = np.abs(actual) + np.abs(forecast)
    error = 2.0 * np.abs(actual - forecast)
    terms = np.divide(error, total, out=np.zeros_like(total), where=total > 0)
    return float(100.0 * np.mean(terms))


def mase(actual, forecast, train, m=1):
    """Mean absolute scaled error: MAE divided by the in-sample seasonal-naive MAE.

    The scale is ``mean(|train[t] - train[t - m]|)`` over the training series, per column when
    ``train`` is 2-D, so a MASE below 1 beats the seasonal-naive forecast's in-sample error.  A
    fractional ``m`` interpolates ``train[t - m]`` (:func:`season_changes`).

    Parameters
    ----------
    actual, forecast : array_like
        Equal shapes; with a 2-D ``train`` the last axis holds its ``n`` columns.
    train : array_like, shape (time,) or (time, n)
        The training series (more than ``m`` steps, not constant at lag ``m``).
    m : int or float
        Season length of the scaling forecast (1: the naive forecast; 52.18 for weeks).

    Returns
    -------
    float

    Examples
    --------
    >>> mase([5.0, 6.0], [6.0, 6.0], train=[1.0, 3.0, 5.0, 7.0])
    0.25
    """
    actual, forecast = _pair(actual, forecast)
    m = check_season(m)
    train = np.asarray(train, dtype=np.float64)
    if train.ndim not in (1, 2) or train.shape[0] <= np.ceil(m):
        raise ValueError(f"train: expected shape (time,) or (time, n) with time > m = {m}, got "
                         f"{train.shape}")
    if train.ndim == 2 and actual.shape[-1:] != train.shape[1:]:
        raise ValueError(f"train: expected {actual.shape[-1:]} columns to match actual's last "
                         f"axis, got shape {train.shape}")
    scale = np.mean(np.abs(season_changes(train, m)), axis=0)
    if np.any(scale == 0):
        raise ValueError(f"train: MASE is undefined because the series does not change at lag "
                         f"m = {m}")
    return float(np.mean(np.abs(actual - forecast) / scale))
