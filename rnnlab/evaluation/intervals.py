"""Prediction intervals from held-out forecast errors (split conformal), and their coverage.

A forecaster is run from many *calibration* origins whose outcomes it never trained on (rnnlab
uses the validation part, which also chose the checkpoint, so its errors may be slightly
smaller than the test part's: the measured coverage shows by how much); the
absolute errors at each horizon step ``j`` give that step's interval radius.  At level ``p`` with
``n`` calibration errors the radius is the ``ceil((n + 1) p)``-th smallest error, the split
conformal rule: if future errors are exchangeable with the calibration errors, the interval
``forecast ± radius`` covers the outcome with probability at least ``p``.  Where ``n`` is too
small for that rank (``ceil((n + 1) p) > n``, e.g. fewer than 19 errors at 95 %), the largest
error is used and the step is flagged *short*: such a band promises less than ``p``.

Radii are made non-decreasing along the horizon (an ``h``-step forecast is never reported as
more certain than an ``(h - 1)``-step one; with few calibration errors the raw per-step radii
would zig-zag).  :func:`coverage` measures what a band actually covered on other data, which is
what every report prints beside the nominal level.
"""

import math

import numpy as np

__all__ = ["LEVELS", "radii", "coverage", "level_label"]

#: The default interval levels.
LEVELS = (0.8, 0.95)


def level_label(level):
    """The level as a column suffix: ``0.8 -> '80'``, ``0.975 -> '97.5'``.

    Examples
    --------
    >>> level_label(0.8), level_label(0.975)
    ('80', '97.5')
    """
    return format(round(100 * level, 6), "g")


def radii(errors, levels=LEVELS):
    """Split-conformal interval radii per level, horizon step and target.

    Parameters
    ----------
    errors : array_like, shape (origins, steps, n_targets)
        Forecast minus actual (or actual minus forecast) at each calibration origin; NaN where
        the outcome is not in the calibration data (it is left out).
    levels : sequence of float
        Nominal coverages, each in (0, 1).

    Returns
    -------
    radius : numpy.ndarray, shape (len(levels), steps, n_targets)
        Half-widths, non-decreasing along ``steps``; NaN where a step has no calibration error.
    count : numpy.ndarray of int, shape (steps, n_targets)
        Calibration errors behind each step.
    short : numpy.ndarray of bool, shape (len(levels), steps, n_targets)
        Where ``count`` was too small for the conformal rank, so the largest error was used.

    Raises
    ------
    ValueError
        For a level outside (0, 1) or errors that are not 3-d.

    Examples
    --------
    >>> e = np.arange(1.0, 21.0)[:, None, None]             # 20 errors at one step
    >>> r, n, short = radii(e, levels=(0.5, 0.95))
    >>> r.ravel(), int(n[0, 0]), short.ravel()
    (array([11., 20.]), 20, array([False, False]))
    >>> radii(e[:10], levels=(0.95,))[2].ravel()              # rank 11 of 10 errors
    array([ True])
    """
    errors = np.abs(np.asarray(errors, dtype=np.float64))
    if errors.ndim != 3:
        raise ValueError(f"errors: expected shape (origins, steps, n_targets), got {errors.shape}")
    levels = tuple(float(level) for level in levels)
    if not levels or not all(0.0 < level < 1.0 for level in levels):
        raise ValueError(f"levels: expected numbers strictly between 0 and 1, got {levels}")
    known = ~np.isnan(errors)
    count = known.sum(axis=0)
    ordered = np.sort(np.where(known, errors, np.inf), axis=0)   # NaNs last, as +inf
    radius = np.full((len(levels),) + errors.shape[1:], np.nan)
    short = np.zeros(radius.shape, dtype=bool)
    for i, level in enumerate(levels):
        for step, target in np.ndindex(*errors.shape[1:]):
            n = int(count[step, target])
            if n == 0:
                continue
            rank = math.ceil((n + 1) * level - 1e-9)   # (25 * 0.56 is 14.000000000000002)
            short[i, step, target] = rank > n
            radius[i, step, target] = ordered[min(rank, n) - 1, step, target]
    filled = np.where(np.isnan(radius), -np.inf, radius)
    radius = np.where(np.isnan(radius), np.nan, np.maximum.accumulate(filled, axis=1))
    return radius, count, short


def coverage(actual, forecast, radius):
    """The fraction of outcomes inside ``forecast ± radius``, pooled and per step.

    Parameters
    ----------
    actual, forecast : array_like, shape (origins, steps, n_targets)
        NaN in ``actual`` marks an outcome that is not there (left out).
    radius : array_like, shape (steps, n_targets)
        One level's radii, as from :func:`radii`; outcomes at a step whose radius is NaN (no
        calibration error) are left out too.

    Returns
    -------
    pooled : float or None
        Over every known outcome; ``None`` when there is none.
    per_step : list of (float or None)
        One per horizon step, pooled over origins and targets; ``None`` where nothing was scored.

    Examples
    --------
    >>> actual = np.array([[[1.0], [5.0]], [[2.0], [np.nan]]])
    >>> coverage(actual, np.zeros_like(actual), np.array([[2.5], [2.0]]))
    (0.6666666666666666, [1.0, 0.0])
    """
    actual = np.asarray(actual, dtype=np.float64)
    forecast = np.asarray(forecast, dtype=np.float64)
    radius = np.asarray(radius, dtype=np.float64)
    if actual.ndim != 3 or forecast.shape != actual.shape or radius.shape != actual.shape[1:]:
        raise ValueError(f"actual {actual.shape}, forecast {forecast.shape}, radius "
                         f"{radius.shape}: expected (origins, steps, n), the same, and (steps, n)")
    known = ~np.isnan(actual) & np.isfinite(radius)          # a step without a radius: not scored
    inside = (np.abs(actual - forecast) <= radius) & known
    per_step = [float(inside[:, j].sum() / known[:, j].sum()) if known[:, j].any() else None
                for j in range(actual.shape[1])]
    pooled = float(inside.sum() / known.sum()) if known.any() else None
    return pooled, per_step
