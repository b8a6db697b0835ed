"""Forecast accuracy metrics: numpy arrays in, one float out.

``actual`` and ``forecast`` must have the same shape (any shape, e.g. ``(horizon,)`` or
``(batch, horizon, n_targets)``); each metric averages over every element.  MAPE and sMAPE are in
percent.
"""

import numbers

import numpy as np

__all__ = ["mae", "rmse", "mape", "smape", "mase"]


def _pair(actual, forecast):
    actual = np.asarray(actual, dtype=np.float64)
    forecast = np.asarray(forecast, dtype=np.float64)
    if actual.shape != forecast.shape:
        raise ValueError(f"forecast: expected the shape of actual {actual.shape}, got "
                         f"{forecast.shape}")
    if actual.size == 0:
        raise ValueError(f"actual: expected at least one value, got shape {actual.shape}")
    return actual, forecast


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
    ``train`` is 2-D, so a MASE below 1 beats the seasonal-naive forecast's in-sample error.

    Parameters
    ----------
    actual, forecast : array_like
        Equal shapes; with a 2-D ``train`` the last axis holds its ``n`` columns.
    train : array_like, shape (time,) or (time, n)
        The training series (more than ``m`` steps, not constant at lag ``m``).
    m : int
        Season length of the scaling forecast (1: the naive forecast).

    Returns
    -------
    float

    Examples
    --------
    >>> mase([5.0, 6.0], [6.0, 6.0], train=[1.0, 3.0, 5.0, 7.0])
    0.25
    """
    actual, forecast = _pair(actual, forecast)
    if not isinstance(m, numbers.Integral) or isinstance(m, bool) or m < 1:
        raise ValueError(f"m: expected an int >= 1, got {m!r}")
    train = np.asarray(train, dtype=np.float64)
    if train.ndim not in (1, 2) or train.shape[0] <= m:
        raise ValueError(f"train: expected shape (time,) or (time, n) with time > m = {m}, got "
                         f"{train.shape}")
    if train.ndim == 2 and actual.shape[-1:] != train.shape[1:]:
        raise ValueError(f"train: expected {actual.shape[-1:]} columns to match actual's last "
                         f"axis, got shape {train.shape}")
    scale = np.mean(np.abs(train[m:] - train[:-m]), axis=0)
    if np.any(scale == 0):
        raise ValueError(f"train: MASE is undefined because the series does not change at lag "
                         f"m = {m}")
    return float(np.mean(np.abs(actual - forecast) / scale))
