"""Forecasting a CSV time series as a task: shuffled windows, scored in the data's units.

See :mod:`rnnlab.tasks` for the interface every task implements and the training loop calls.
"""

import json
import math

import numpy as np

from rnnlab.datasets.scaling import Preprocessor
from rnnlab.datasets.series import season_for
from rnnlab.datasets.splitting import as_date
from rnnlab.datasets.timeseries import load_csv, prepare, recursive_forecast
from rnnlab.errors import ConfigError, DataError
from rnnlab.evaluation import metrics

__all__ = ["SeriesTask", "TRANSFORMS"]

#: ``data.transform`` -> the transforms of :class:`~rnnlab.datasets.scaling.Preprocessor`.
TRANSFORMS = {"none": [], "log": ["log"], "diff": ["diff"], "log+diff": ["log", "diff"]}


def _split_points(data):
    """``val``, ``test`` and ``names`` for :func:`~rnnlab.datasets.timeseries.prepare`: each
    part starts at its date (``data.val_start``, ``data.test_start``) or else by its fraction."""
    points, names = [], []
    for part in ("val", "test"):
        start = getattr(data, f"{part}_start")
        key = f"data.{part}_start" if start else f"data.{part}_fraction"
        try:
            as_date(start or "2000", key)   # checked here, read again by the split
        except ValueError as err:
            error = ConfigError(str(err))
            error.key = key
            raise error from None
        points.append(start or getattr(data, f"{part}_fraction"))
        names.append(key)
    return {"val": points[0], "test": points[1], "names": tuple(names)}


class SeriesTask:
    """Forecasting a CSV time series from windows (see :mod:`rnnlab.tasks`).

    Parameters
    ----------
    cfg : dict
        A resolved config with ``data.kind = "series"``.
    meta : dict, optional
        A run's ``meta.json``: the network is sized from it and the data, read lazily, must give
        the same split and preprocessing.
    meta_source : str
        What ``meta`` was read from, for error messages.

    Attributes
    ----------
    kind : str
        ``"series"``.
    prepared : rnnlab.datasets.timeseries.Prepared
        Windows of ``data.horizon`` targets for evaluation (read lazily when ``meta`` is given).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rnnlab import config
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "s.csv"
    >>> rows = "".join(f"{i},{10 + i % 4 + i // 8}\\n" for i in range(60))  # seasonal, rising
    >>> _ = path.write_text("t,y\\n" + rows)
    >>> cfg = config.load(None, ["data.kind=series", f"data.path={path}", "data.target=y",
    ...     "data.lookback=8", "data.horizon=4", "data.season=4", "train.batch_size=16",
    ...     "data.val_fraction=0.2", "data.test_fraction=0.2"])
    >>> task = SeriesTask(cfg)
    >>> task.batches_per_epoch(), [a.shape for a in task.train_batch(0, 1)]
    (2, [(9, 8, 1), (9, 4, 1)])
    >>> tmp.cleanup()
    """

    kind = "series"
    #: The training loss, with its unit.
    loss_label = "MSE of the scaled values"

    def __init__(self, cfg, meta=None, meta_source="meta"):
        self.cfg = cfg
        self._meta_source = meta_source
        self._data = cfg.data
        self._train = cfg.train
        self._meta = meta
        self._orders = {}
        self._prepared = None
        self._fit = None
        self._season = None
        if meta is None:
            self._load()
            self.n_features = len(self._prepared.series.columns)
            self.n_targets = self.prepared.series.n_targets
        else:
            saved = meta.get("data") or {}
            try:
                self.n_features = len(saved["columns"])
                self.n_targets = int(saved["n_targets"])
            except (KeyError, TypeError, ValueError):
                raise DataError(f"{meta_source}: 'data' lacks columns/n_targets; expected the "
                                "metadata of a series run") from None
            try:
                Preprocessor.from_dict(saved["preprocessor"])
            except (KeyError, TypeError, ValueError, ConfigError, DataError) as err:
                raise DataError(f"{meta_source}: 'data.preprocessor' is damaged ({err}); "
                                f"expected the fitted scaler rnnlab.train wrote") from None

    @property
    def recursive(self):
        """Whether the network forecasts one step and is rolled out (``data.strategy``)."""
        return self._data.strategy == "recursive"

    def _load(self):
        data = self._data
        series = load_csv(data.path, list(data.target), date=data.date or None,
                          covariates=data.covariates, missing=data.missing,
                          date_format=data.date_format or None, freq=data.freq or None,
                          dayfirst=data.dayfirst)
        options = dict(lookback=data.lookback, stride=data.stride,
                       transforms=TRANSFORMS[data.transform], scaler=data.scaler,
                       **_split_points(data))
        prepared = prepare(series, horizon=data.horizon, **options)
        fit = prepare(series, horizon=1, **options) if self.recursive else prepared
        if self._meta is None:  # a new run: checked before its directory is made
            self._check_batch(fit)
        season = metrics.check_season(data.season or season_for(series.freq))
        said = f"data.season = {season}" if data.season else \
            f"{season} (the season of the calendar {series.freq or '(no dates)'}; data.season = 0)"
        if len(prepared.split.train) <= math.ceil(season):
            raise DataError(f"{data.path}: {said} needs more than {math.ceil(season)} training "
                            f"rows for MASE; the training part has {len(prepared.split.train)}")
        train = prepared.split.train[:, :series.n_targets]
        flat = np.mean(np.abs(metrics.season_changes(train, season)), axis=0) == 0
        if np.any(flat):
            raise DataError(f"{data.path}: target {series.target_names[np.argmax(flat)]!r} "
                            f"does not change at lag {said} in the training part, so MASE is "
                            f"undefined; expected a varying series")
        self._season = season
        if self._meta is not None:
            saved = json.loads(json.dumps(self._meta.get("data")))
            if json.loads(json.dumps(prepared.to_dict())) != saved:
                raise DataError(f"{data.path}: its split or fitted preprocessing differs from "
                                f"the run's metadata ({self._meta_source}); the data file "
                                "changed since training, or the metadata was edited")
        self._prepared, self._fit = prepared, fit

    def _ready(self):
        if self._prepared is None:
            self._load()

    @property
    def season(self):
        """int or float: the seasonal period of seasonal naive and MASE: ``data.season`` (an int
        when whole), or when that is 0 the calendar's (:func:`rnnlab.datasets.series.season_for`)."""
        self._ready()
        return self._season

    @property
    def prepared(self):
        """rnnlab.datasets.timeseries.Prepared: the evaluation windows (data read on first use)."""
        self._ready()
        return self._prepared

    def has_split(self, split):
        """Whether ``split`` (``"val"`` or ``"test"``) holds windows to evaluate."""
        return len({"val": self.prepared.val, "test": self.prepared.test}[split].t) > 0

    def network_shape(self):
        """The sizes the forecaster is built with (:func:`rnnlab.model.networks.build_network`).

        Returns
        -------
        dict
            ``lookback``, ``n_features``, ``horizon`` (1 with ``data.strategy = "recursive"``,
            which feeds one-step forecasts back) and ``n_targets``.
        """
        return {"lookback": self._data.lookback, "n_features": self.n_features,
                "horizon": 1 if self.recursive else self._data.horizon,
                "n_targets": self.n_targets}

    def batches_per_epoch(self):
        """``ceil(training windows / batch_size)``; the last batch may be smaller.

        Training asks first: fewer windows than one batch is an error here (as for text), while
        a run trained so still loads for forecasting.
        """
        self._ready()
        self._check_batch(self._fit)
        return math.ceil(len(self._fit.train.t) / self._train.batch_size)

    def _check_batch(self, fit):
        data, batch, windows = self._data, self._train.batch_size, len(fit.train.t)
        if windows < batch:
            raise DataError(f"{data.path}: {windows} training windows (data.lookback = "
                            f"{data.lookback}, data.horizon = {data.horizon}, data.stride = "
                            f"{data.stride}) are too few for train.batch_size = {batch}; "
                            f"expected at least one full batch: lower train.batch_size or "
                            f"data.stride")

    def step_items(self):
        """What one training step reads: ``(batch_size, "windows")``."""
        return self._train.batch_size, "windows"

    def train_batch(self, epoch, index):
        """Windows ``x`` (batch, lookback, features) and targets ``y`` (batch, h, n_targets).

        The windows are shuffled once per epoch by ``np.random.default_rng([seed, epoch])``.
        """
        self._ready()
        if not 0 <= index < self.batches_per_epoch():
            raise ValueError(f"index={index!r}: expected a batch index in "
                             f"[0, {self.batches_per_epoch()})")
        if epoch not in self._orders:
            self._orders = {epoch: np.random.default_rng([self._train.seed, epoch]).permutation(
                len(self._fit.train.t))}
        size = self._train.batch_size
        chosen = self._orders[epoch][index * size:(index + 1) * size]
        return self._fit.train.x[chosen], self._fit.train.y[chosen]

    def windows(self, split):
        """The evaluation windows of a split (``"val"`` or ``"test"``), horizon ``data.horizon``."""
        self._ready()
        windows = {"val": self.prepared.val, "test": self.prepared.test}[split]
        if len(windows.t) == 0:
            raise DataError(f"{self._data.path}: the {split} part holds no window; nothing to "
                            f"evaluate")
        limit = self._train.eval_batches * self._train.batch_size
        return windows if not limit else type(windows)(*(a[:limit] for a in windows))

    def forecast(self, functions, windows):
        """Scaled forecasts ``(batch, horizon, n_targets)`` for windows, direct or recursive."""
        predict = functions.predict
        if not self.recursive:
            return np.asarray(predict(windows.x)[0])
        prep = self.prepared
        covariates = None
        if self.n_features > self.n_targets:
            values = prep.preprocessor.transform(prep.series.values)
            rows = windows.t[:, None] - prep.preprocessor.offset + np.arange(prep.horizon)
            covariates = values[rows][..., self.n_targets:]

        return recursive_forecast(lambda x: predict(x)[0], windows.x, prep.horizon, covariates)

    def evaluate(self, functions, split="val"):
        """Forecast a split and score it in scaled and in original units.

        Parameters
        ----------
        functions : rnnlab.model.compile.Functions
            Uses ``predict(x) -> [yhat]``.
        split : {'val', 'test'}

        Returns
        -------
        dict
            ``loss`` (MSE on scaled values over the horizon), and ``rmse``, ``mae`` and ``mase``
            in the data's units; MASE divides by the in-sample MAE of the seasonal-naive forecast
            (period :attr:`season`) on the training rows.
        """
        windows = self.windows(split)
        scaled = self.forecast(functions, windows)
        loss = float(np.mean((scaled.astype(np.float64) - windows.y) ** 2))
        raw = self.prepared.inverse(scaled, windows)
        actual = self.prepared.actuals(windows)
        train = self.prepared.split.train[:, :self.n_targets]
        return {"loss": loss, "rmse": metrics.rmse(actual, raw), "mae": metrics.mae(actual, raw),
                "mase": metrics.mase(actual, raw, train, m=self.season)}

    def on_evaluation(self, session, step, rundir):
        """Nothing to write at an evaluation (forecast plots come from ``rnnlab.forecast``)."""
        return []

    def meta(self):
        """The JSON-ready metadata saved with a run: split, window sizes, fitted preprocessing.

        Returns
        -------
        dict
            ``kind``, ``data`` (:meth:`Prepared.to_dict`), ``season``, ``strategy`` and ``sizes``
            (windows per part).
        """
        self._ready()
        prep = self.prepared
        return {"kind": self.kind, "data": prep.to_dict(), "season": self.season,
                "strategy": self._data.strategy,
                "sizes": {"train": len(self._fit.train.t), "val": len(prep.val.t),
                          "test": len(prep.test.t)},
                "batches_per_epoch": self.batches_per_epoch()}
