"""Time series forecasting data: a CSV file in, leak-free train / validation / test windows out.

The whole pipeline is one call after loading::

    series = load_csv("data/airline_passengers.csv", "Passengers", date="Month")
    data = prepare(series, lookback=24, horizon=12, val=0.15, test=0.15,
                   transforms=["log", "diff:12"], scaler="standard")
    data.train.x, data.train.y      # (batch, 24, 1) and (batch, 12, 1), float32
    raw = data.inverse(forecast, data.test)   # model output back in passengers
    state = data.to_dict()          # JSON: split, window sizes, fitted scaler; save with the run

Leakage is impossible by construction, in this order:

1. :func:`split` cuts the *raw* series into training, validation and test rows.
2. The :class:`Preprocessor` is fitted on the raw training rows only (its transforms are causal,
   so transforming the whole series afterwards lets no later row into an earlier one).
3. :func:`make_windows` bounds where targets may lie: training targets stay in the training rows
   (so training inputs do too); validation windows may read training rows as input history, and
   test windows training and validation rows, but never the other way round.

This module is the public surface; the pieces live in :mod:`~rnnlab.datasets.series` (loading),
:mod:`~rnnlab.datasets.splitting` (splitting), :mod:`~rnnlab.datasets.scaling` (transforms,
scaler) and :mod:`~rnnlab.datasets.windows` (windows, recursive forecasting).
"""

from dataclasses import dataclass

import numpy as np

from rnnlab.datasets.scaling import SCALERS, Preprocessor
from rnnlab.datasets.series import MISSING_POLICIES, Series, load_csv
from rnnlab.datasets.splitting import Split, split
from rnnlab.datasets.windows import Windows, make_windows, recursive_forecast
from rnnlab.errors import DataError

__all__ = ["Series", "load_csv", "Split", "split", "Preprocessor", "Windows", "make_windows",
           "recursive_forecast", "Prepared", "prepare", "MISSING_POLICIES", "SCALERS"]


@dataclass(frozen=True, eq=False)
class Prepared:
    """The output of :func:`prepare`: windows for each part plus the fitted preprocessing.

    Attributes
    ----------
    split : Split
        The raw series and its part boundaries.
    preprocessor : Preprocessor
        Fitted on the training rows.
    train, val, test : Windows
        ``x`` (batch, lookback, features) and ``y`` (batch, horizon, n_targets), float32,
        preprocessed; ``t`` is the *raw* series row of each window's first target.
    lookback, horizon, stride : int

    Examples
    --------
    >>> data = prepare(Series(np.arange(1.0, 41.0), ("y",)), lookback=4, horizon=2)
    >>> data.train.x.shape, data.val.y.shape, data.test.t[:2]
    ((23, 4, 1), (5, 2, 1), array([34, 35]))
    """

    split: Split
    preprocessor: Preprocessor
    train: Windows
    val: Windows
    test: Windows
    lookback: int
    horizon: int
    stride: int

    @property
    def series(self):
        """The raw :class:`Series`."""
        return self.split.series

    def actuals(self, windows):
        """The raw target values each window forecasts.

        Parameters
        ----------
        windows : Windows
            One of :attr:`train`, :attr:`val`, :attr:`test`.

        Returns
        -------
        numpy.ndarray, shape (batch, horizon, n_targets), float64

        Examples
        --------
        >>> data = prepare(Series(np.arange(1.0, 41.0), ("y",)), lookback=4, horizon=2)
        >>> data.actuals(data.test)[0].ravel()
        array([35., 36.])
        """
        return self.series.targets[windows.t[:, None] + np.arange(self.horizon)]

    def inverse(self, forecast, windows):
        """Map a forecast for ``windows`` back to raw units, using each window's known history.

        Parameters
        ----------
        forecast : array_like, shape (batch, steps, d)
            Preprocessed forecasts of the first ``d`` targets, one per window, starting at the
            window's first target row.
        windows : Windows
            The windows the forecast was made from (their ``t`` locates the history).

        Returns
        -------
        numpy.ndarray, shape (batch, steps, d), float64

        Examples
        --------
        >>> data = prepare(Series(np.arange(1.0, 41.0) ** 2, ("y",)), lookback=4, horizon=2,
        ...                transforms=["log", "diff"])
        >>> bool(np.allclose(data.inverse(data.test.y, data.test), data.actuals(data.test)))
        True
        """
        forecast = np.asarray(forecast, dtype=np.float64)
        if forecast.ndim != 3 or forecast.shape[0] != len(windows.t):
            raise ValueError(f"forecast: expected shape ({len(windows.t)}, steps, n_targets), "
                             f"got {forecast.shape}")
        offset = self.preprocessor.offset
        rows = windows.t[:, None] + np.arange(-offset, 0)
        history = self.series.targets[rows][..., :forecast.shape[-1]]
        return self.preprocessor.inverse_transform(forecast, history if offset else None)

    def to_dict(self):
        """Everything needed to redo the preprocessing, as a JSON-serialisable dict.

        Restore the fitted preprocessing with ``Preprocessor.from_dict(state["preprocessor"])``.

        Examples
        --------
        >>> state = prepare(Series(np.arange(40.0), ("y",)), lookback=4, horizon=2).to_dict()
        >>> sorted(state)
        ['columns', 'horizon', 'lookback', 'n_targets', 'preprocessor', 'source', 'split', 'stride']
        """
        return {"source": self.series.source, "columns": list(self.series.columns),
                "n_targets": self.series.n_targets, "lookback": self.lookback,
                "horizon": self.horizon, "stride": self.stride, "split": self.split.to_dict(),
                "preprocessor": self.preprocessor.to_dict()}


def prepare(series, lookback, horizon, stride=1, val=0.15, test=0.15, transforms=(),
            scaler="standard", names=("val", "test")):
    """Split, preprocess (fitted on training rows) and window a series, leak-free.

    Parameters
    ----------
    series : Series
        From :func:`load_csv`; targets and covariates are all input features.
    lookback, horizon : int
        Input steps and forecast steps per window (use ``horizon=1`` for recursive forecasting
        with :func:`recursive_forecast`).
    stride : int
        Rows between consecutive windows, in every part.
    val, test : float or date
        As in :func:`split`.
    transforms : sequence of str
        As in :class:`Preprocessor`, applied to the targets: ``'log'``, ``'diff'``, ``'diff:12'``.
    scaler : {'standard', 'minmax', 'none'}
    names : (str, str)
        What the errors call ``val`` and ``test``, as in :func:`split`.

    Returns
    -------
    Prepared

    Raises
    ------
    DataError
        Naming the file: a series shorter than ``lookback + horizon`` (plus the differencing
        lags), a split that leaves a part empty or without a whole window, or values the
        transforms cannot take (log of a non-positive number).

    Examples
    --------
    >>> data = prepare(Series(np.arange(1.0, 41.0), ("y",)), lookback=4, horizon=2, scaler="minmax")
    >>> data.train.x.dtype, data.split.val_start, float(data.train.y.max())
    (dtype('float32'), 28, 1.0)
    """
    for name, number in (("lookback", lookback), ("horizon", horizon), ("stride", stride)):
        if not isinstance(number, (int, np.integer)) or number < 1:
            raise ValueError(f"{name}: expected an int >= 1, got {number!r}")
    preprocessor = Preprocessor(transforms, scaler, n_targets=series.n_targets)
    offset, n_rows, source = preprocessor.offset, len(series), series.source
    if n_rows < lookback + horizon + offset:
        lags = f" plus {offset} rows consumed by differencing" if offset else ""
        raise DataError(f"{source}: the series has {n_rows} rows; it needs at least lookback + "
                        f"horizon = {lookback + horizon}{lags}")
    parts = split(series, val, test, names)
    try:
        preprocessor.fit(parts.train)
        values = preprocessor.transform(series.values)
    except DataError as err:
        raise DataError(f"{source}: {err}") from None

    bounds = {"training": (0, parts.val_start), "validation": (parts.val_start, parts.test_start),
              "test": (parts.test_start, n_rows)}
    windows = {}
    for part, (first, stop) in bounds.items():
        found = make_windows(values, lookback, horizon, stride, start=max(first - offset, 0),
                             end=stop - offset, n_targets=series.n_targets)
        if stop > first and len(found.t) == 0:
            need = lookback + horizon + offset if part == "training" else horizon
            raise DataError(f"{source}: the {part} part (rows {first + 1}-{stop}) holds no window "
                            f"of lookback={lookback}, horizon={horizon}: it has {stop - first} "
                            f"rows and needs at least {need}")
        windows[part] = found._replace(t=found.t + offset)
    return Prepared(parts, preprocessor, windows["training"], windows["validation"],
                    windows["test"], lookback, horizon, stride)
