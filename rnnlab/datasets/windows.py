"""Sliding windows for recurrent forecasters, and recursive multi-step forecasting.

A window at row ``t`` pairs ``lookback`` input rows with ``horizon`` target rows::

    rows:     ... t-lookback ........ t-1 | t ........ t+horizon-1 ...
                  \\______ inputs _______/   \\_______ targets _____/
                   all feature columns         first n_targets columns

:func:`make_windows` works on a whole array and takes ``[start, end)`` bounds on where targets
may lie.  Inputs may reach back before ``start`` (history) but, since ``t + horizon <= end``, no
window ever touches a row at or after ``end``.  That is what keeps splits leak-free: training
windows use ``end = val_start``; validation windows ``[val_start, test_start)`` may take their
inputs from training rows; test windows may take theirs from training and validation rows.
"""

from typing import NamedTuple

import numpy as np

__all__ = ["Windows", "make_windows", "recursive_forecast"]


class Windows(NamedTuple):
    """Input/target windows, ready for a recurrent layer.

    Attributes
    ----------
    x : numpy.ndarray, shape (batch, lookback, features), float32
        Inputs: targets and covariates.
    y : numpy.ndarray, shape (batch, horizon, n_targets), float32
        Targets: every horizon at once (direct multi-step forecasting).
    t : numpy.ndarray, shape (batch,), int64
        Row of each window's first target.

    Examples
    --------
    >>> w = make_windows(np.arange(6.0)[:, None], lookback=2, horizon=1)
    >>> x, y, t = w
    >>> len(w.t), x.shape, y.shape
    (4, (4, 2, 1), (4, 1, 1))
    """

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray


def make_windows(values, lookback, horizon, stride=1, start=0, end=None, n_targets=None):
    """Cut ``values`` into windows whose targets lie in rows ``[start, end)``.

    Window ``i`` has its first target at row ``t_i``, from the earliest allowed row
    ``max(start, lookback)`` up to ``end - horizon`` in steps of ``stride``; its inputs are rows
    ``[t_i - lookback, t_i)`` and its targets rows ``[t_i, t_i + horizon)``.

    Parameters
    ----------
    values : array_like, shape (time, features)
        The full (preprocessed) series; targets in the first ``n_targets`` columns.
    lookback, horizon : int
        Input and target lengths (>= 1).
    stride : int
        Rows between consecutive windows (>= 1).
    start, end : int
        Bounds on target rows; ``end`` defaults to ``time``.  Inputs may precede ``start``.
    n_targets : int, optional
        Number of target columns; default every column.

    Returns
    -------
    Windows
        ``x`` (batch, lookback, features) and ``y`` (batch, horizon, n_targets), float32, and ``t``
        (batch,).  ``batch`` is 0 when no window fits.

    Examples
    --------
    >>> values = np.arange(10.0)[:, None]
    >>> w = make_windows(values, lookback=3, horizon=2, start=6, end=10)
    >>> w.t
    array([6, 7, 8])
    >>> w.x[0].ravel(), w.y[0].ravel()
    (array([3., 4., 5.], dtype=float32), array([6., 7.], dtype=float32))
    """
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"values: expected shape (time, features), got {values.shape}")
    n_rows, n_features = values.shape
    for name, number in (("lookback", lookback), ("horizon", horizon), ("stride", stride)):
        if not isinstance(number, (int, np.integer)) or number < 1:
            raise ValueError(f"{name}: expected an int >= 1, got {number!r}")
    end = n_rows if end is None else end
    if not 0 <= start <= end <= n_rows:
        raise ValueError(f"start, end: expected 0 <= start <= end <= {n_rows}, got {start}, {end}")
    n_targets = n_features if n_targets is None else n_targets
    if not 1 <= n_targets <= n_features:
        raise ValueError(f"n_targets: expected 1 to {n_features}, got {n_targets!r}")
    t = np.arange(max(start, lookback), end - horizon + 1, stride, dtype=np.int64)
    x = values[t[:, None] + np.arange(-lookback, 0)]
    y = values[t[:, None] + np.arange(horizon), :n_targets]
    return Windows(x.astype(np.float32).reshape(len(t), lookback, n_features),
                   y.astype(np.float32).reshape(len(t), horizon, n_targets), t)


def recursive_forecast(predict, window, steps, covariates=None, block=1):
    """Forecast ``steps`` ahead by feeding predictions back as inputs, ``block`` steps at a time.

    At each round ``predict`` sees the current window; its first ``block`` predicted steps become
    the window's newest rows (with those steps' known covariates appended) and as many of the
    oldest rows drop out.  ``block=1`` is the classic one-step recursion; a direct multi-step
    forecaster with horizon ``h`` extends past its horizon with ``block=h``.

    Parameters
    ----------
    predict : callable
        Maps inputs (batch, lookback, features) to predictions (batch, n_targets) or
        (batch, h, n_targets), of which the first ``block`` steps are used.
    window : array_like, shape (batch, lookback, features)
        The last known inputs, targets first.
    steps : int
        Number of steps to forecast (>= 1).
    covariates : array_like, shape (batch, steps, features - n_targets), optional
        The covariates' known future values; required when ``features > n_targets``.
    block : int
        Predicted steps kept per round (1 to ``h``); the window keeps its newest ``lookback``
        rows, so a block longer than the window replaces it whole.

    Returns
    -------
    numpy.ndarray, shape (batch, steps, n_targets)
        In ``window``'s dtype.

    Examples
    --------
    >>> window = np.array([[[1.0], [2.0], [3.0]]])            # (1, 3, 1)
    >>> def step(x):                                           # next = last + (last - first) / 2
    ...     return x[:, -1] + (x[:, -1] - x[:, 0]) / 2
    >>> recursive_forecast(step, window, steps=3)[0].ravel()
    array([4., 5., 6.])
    >>> two = lambda x: np.stack([x[:, -1] + 1, x[:, -1] + 2], axis=1)   # (1, 2, 1)
    >>> recursive_forecast(two, window, steps=5, block=2)[0].ravel()
    array([4., 5., 6., 7., 8.])
    """
    window = np.array(window)
    if window.ndim != 3:
        raise ValueError(f"window: expected shape (batch, lookback, features), got {window.shape}")
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps: expected an int >= 1, got {steps!r}")
    batch, _, n_features = window.shape
    future = np.zeros((batch, steps, 0), window.dtype) if covariates is None \
        else np.asarray(covariates, dtype=window.dtype)
    if future.ndim != 3 or future.shape[:2] != (batch, steps):
        raise ValueError(f"covariates: expected shape ({batch}, {steps}, n_covariates), "
                         f"got {future.shape}")
    if not isinstance(block, (int, np.integer)) or isinstance(block, bool) or block < 1:
        raise ValueError(f"block: expected an int >= 1, got {block!r}")
    lookback = window.shape[1]
    forecasts, done = [], 0
    while done < steps:
        output = np.asarray(predict(window), dtype=window.dtype)
        guess = output[:, :block] if output.ndim == 3 else output[:, None]
        if guess.ndim != 3 or guess.shape[0] != batch or guess.shape[1] < block:
            raise ValueError(f"predict: expected an output of shape ({batch}, n_targets) or "
                             f"({batch}, h >= {block}, n_targets), got {output.shape}")
        if guess.shape[2] + future.shape[2] != n_features:
            raise ValueError(f"covariates: predict returns {guess.shape[2]} target(s) and "
                             f"covariates holds {future.shape[2]} column(s), but the window has "
                             f"{n_features} features; pass the covariates' future values")
        take = min(block, steps - done)
        forecasts.append(guess[:, :take])
        rows = np.concatenate([guess[:, :take], future[:, done:done + take]], axis=2)
        window = np.concatenate([window, rows], axis=1)[:, -lookback:]
        done += take
    return np.concatenate(forecasts, axis=1)
