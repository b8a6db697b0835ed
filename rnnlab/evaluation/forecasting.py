"""Forecasting a series run's test split beside classical baselines, and scoring it.

Everything is in the series' original units (forecasts go through ``Prepared.inverse``), and a
forecast made at an *origin* row ``t`` uses only the rows before ``t``::

    rows     0 ... training ... val_start ... validation ... test_start ....... test ....... n
    test forecast (tiled)                                   [block 1 ][block 2 ][block 3 ][b]
    rolling-origin backtest                                 [horizon ]
                                                             [horizon ]   ...   [horizon ]

* the **test forecast** tiles the test part with consecutive ``horizon``-long blocks (the last
  one cut at the end of the series), so each test row is forecast exactly once, at most
  ``horizon`` steps ahead: ``forecast.csv`` and ``forecast.png``;
* the **rolling-origin backtest** forecasts ``horizon`` steps from every test row where a whole
  horizon fits (the test windows of the run), scores each origin (``backtest.csv``) and averages
  the scores over the origins.

The network forecasts with the run's ``data.strategy``: ``direct`` predicts the whole horizon from
one window (and, asked for more steps than its horizon, feeds its forecast back in whole
horizons), ``recursive`` feeds one-step predictions back in
(:func:`~rnnlab.datasets.timeseries.recursive_forecast`).  Beside it stand the baselines of
:data:`rnnlab.evaluation.baselines.BASELINES`: naive, seasonal naive with the task's period
(``data.season``, or the calendar's when that is 0), drift, and seasonal naive with drift.

Scores (:func:`score`): MAE, RMSE, MAPE and sMAPE (in percent) and MASE, whose scale is the mean
absolute error of the in-sample seasonal-naive forecast (lag ``data.season``) over the training
part (Hyndman & Koehler 2006), the same scale for every forecaster and every table.  The test
forecast's figures are *pooled* over its points; the backtest's are the *mean over origins* of
each origin's score; the two differ on purpose, and every table says which it is.

Prediction intervals (:mod:`rnnlab.evaluation.intervals`): split conformal radii per horizon
step from the network's errors at every *validation* origin (outcomes in the validation part
only), and their coverage measured on the test part.  :func:`forecast_future` forecasts past the
end of the data with intervals calibrated on every held-out (validation and test) origin.

:func:`forecast_run` writes ``forecast.csv``, ``backtest.csv``, ``forecast.png`` and
``forecast.json``; :func:`future_run` writes ``future.csv``, ``future.png`` and ``future.json``;
``python -m rnnlab.forecast`` (:mod:`rnnlab.commands.forecast`) is their command.
"""

import csv
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.datasets.timeseries import Windows, recursive_forecast
from rnnlab.errors import DataError, RnnlabError
from rnnlab.evaluation import baselines, intervals, metrics
from rnnlab.evaluation.plots import plot_forecast
from rnnlab.files import atomic_write_json, atomic_write_text
from rnnlab.run import RunDir

__all__ = ["MODELS", "METRICS", "PERCENT", "score", "backtest", "format_report", "forecast_run",
           "check_future", "forecast_future", "future_run", "format_future"]

#: The forecasters compared, in report order: the network, then every baseline.
MODELS = ("rnn",) + tuple(baselines.BASELINES)
#: The metrics reported for each forecaster (MAPE and sMAPE in percent).
METRICS = ("mae", "rmse", "mape", "smape", "mase")
#: The metrics given in percent.
PERCENT = ("mape", "smape")


def score(actual, forecast, train, season):
    """Every metric of :data:`METRICS` for one forecast; ``None`` where a metric is undefined.

    Parameters
    ----------
    actual, forecast : array_like, shape (steps, n_targets)
        Raw values.
    train : array_like, shape (time, n_targets)
        The raw training part, which scales MASE (seasonal naive with period ``season``).
    season : int or float
        Seasonal period ``m`` of the MASE scale.

    Returns
    -------
    dict
        ``{metric: float or None}``: MAPE is ``None`` when an actual value is 0, MASE when the
        training part does not change at lag ``season``.

    Examples
    --------
    >>> score([[3.0], [0.0]], [[5.0], [2.0]], train=[[1.0], [3.0], [5.0]], season=1)
    {'mae': 2.0, 'rmse': 2.0, 'mape': None, 'smape': 125.0, 'mase': 1.0}
    """
    result = {"mae": metrics.mae(actual, forecast), "rmse": metrics.rmse(actual, forecast),
              "smape": metrics.smape(actual, forecast)}
    result["mape"] = metrics.mape(actual, forecast) if np.all(np.asarray(actual) != 0) else None
    train = np.asarray(train, dtype=np.float64)
    defined = len(train) > math.ceil(season) and np.all(
        np.any(metrics.season_changes(train, season) != 0, axis=0))
    result["mase"] = metrics.mase(actual, forecast, train, m=season) if defined else None
    return {name: result[name] for name in METRICS}


def _tile_origins(start, stop, horizon):
    """Origins and lengths of consecutive ``horizon`` blocks covering rows ``[start, stop)``."""
    origins = np.arange(start, stop, horizon, dtype=np.int64)
    return origins, np.minimum(horizon, stop - origins)


def _backtest_origins(start, stop, horizon):
    """Every origin in rows ``[start, stop)`` with a whole horizon after it, in order."""
    if stop - start < horizon:
        raise DataError(f"the test part has {stop - start} rows, fewer than data.horizon = "
                        f"{horizon}; the backtest needs at least one whole horizon")
    return np.arange(start, stop - horizon + 1, dtype=np.int64)


def backtest(forecasters, targets, origins, horizon, train, season):
    """Rolling-origin evaluation: forecast ``horizon`` steps from each origin and score it.

    Parameters
    ----------
    forecasters : dict
        ``{name: f}`` where ``f(origins, steps)`` returns raw forecasts
        (len(origins), steps, n_targets) made from the rows before each origin.
    targets : numpy.ndarray, shape (time, n_targets)
        The raw target series.
    origins : numpy.ndarray of int, shape (k,)
        Rows of ``targets``, each with ``horizon`` rows after it.
    horizon : int
    train : numpy.ndarray, shape (time_train, n_targets)
        The raw training part (MASE scale).
    season : int or float

    Returns
    -------
    rows : list of dict
        One per origin: ``{"origin": t, "<name>_<metric>": value, ...}``.
    means : dict
        ``{name: {metric: mean over origins or None}}``; ``None`` when the metric is undefined
        at some origin.
    forecasts : dict
        ``{name: numpy.ndarray (k, horizon, n_targets)}``, each forecaster's raw forecasts.

    Examples
    --------
    >>> y = np.arange(10.0)[:, None]
    >>> last = lambda origins, steps: np.stack([baselines.naive(y[:t], steps) for t in origins])
    >>> rows, means, forecasts = backtest({"naive": last}, y, np.array([6, 7]), 2, y[:6], 1)
    >>> [row["origin"] for row in rows], means["naive"]["mae"], forecasts["naive"].shape
    ([6, 7], 1.5, (2, 2, 1))
    """
    rows = [{"origin": int(t)} for t in origins]
    means, forecasts = {}, {}
    actual = targets[origins[:, None] + np.arange(horizon)]
    for name, forecaster in forecasters.items():
        predicted = forecasts[name] = np.asarray(forecaster(origins, horizon), dtype=np.float64)
        scores = [score(a, p, train, season) for a, p in zip(actual, predicted)]
        for row, values in zip(rows, scores):
            row.update({f"{name}_{metric}": values[metric] for metric in METRICS})
        means[name] = {metric: (None if any(s[metric] is None for s in scores)
                                else float(np.mean([s[metric] for s in scores])))
                       for metric in METRICS}
    return rows, means, forecasts


def _baseline_forecasters(targets, season):
    """Every baseline of :data:`baselines.BASELINES` over the raw targets (time, n_targets)."""
    def make(name, baseline):
        rows = baselines.season_rows(season)
        need = {"seasonal_naive": rows, "seasonal_naive_drift": rows + 1, "drift": 2}.get(name, 1)

        def forecast(origins, steps):
            if origins.min() < need:
                raise DataError(f"{name.replace('_', ' ')} (season {season}) has too few rows "
                                f"before the first forecast origin ({origins.min()}; it needs "
                                f"{need})")
            return np.stack([baseline(targets[:t], steps, season) for t in origins])
        return forecast

    return {name: make(name, baseline) for name, baseline in baselines.BASELINES.items()}


def _model_forecaster(session, data):
    """Raw-unit forecasts of the run's network from the preprocessed rows before each origin.

    Any number of steps: the recursive strategy feeds one step back at a time, the direct one
    whole horizons.  An origin may be the end of the data (``len(series)``) unless the run has
    covariates, whose future values are unknown there.
    """
    values = data.preprocessor.transform(data.series.values)
    offset, lookback = data.preprocessor.offset, data.lookback
    n_targets = data.series.n_targets
    strategy = session.cfg.data.strategy
    predict = session.functions.predict

    def forecast(origins, steps):
        rows = origins - offset  # row i of ``values`` is raw row i + offset
        if rows.min() < lookback:
            raise DataError(f"origin row {origins.min()} has fewer than data.lookback = "
                            f"{lookback} preprocessed rows before it")
        x = values[rows[:, None] + np.arange(-lookback, 0)].astype(np.float32)
        block = 1 if strategy == "recursive" else data.horizon
        if strategy != "recursive" and steps <= data.horizon:
            scaled = np.asarray(predict(x)[0])
            if scaled.shape[1] < steps:
                raise DataError(f"the network forecasts {scaled.shape[1]} steps; the direct "
                                f"strategy needs data.horizon = {steps}")
            scaled = scaled[:, :steps]
        else:
            covariates = None
            if values.shape[1] > n_targets:
                if rows.max() + steps > len(values):
                    names = ", ".join(data.series.covariate_names)
                    raise DataError(f"forecasting {steps} steps from row {origins.max()} needs "
                                    f"future values of the covariates ({names}) that the data "
                                    "does not have; a run with data.covariates cannot forecast "
                                    "past the end of its data")
                covariates = values[rows[:, None] + np.arange(steps), n_targets:]
            scaled = recursive_forecast(lambda window: predict(window)[0], x, steps,
                                        covariates=covariates, block=block)
        return data.inverse(scaled, Windows(x, None, origins))

    return forecast


def _errors(forecaster, targets, origins, steps, stop):
    """Forecasts from ``origins`` and their errors (actual - forecast), NaN at rows >= stop."""
    predicted = np.asarray(forecaster(origins, steps), dtype=np.float64)
    rows = origins[:, None] + np.arange(steps)
    actual = np.full(predicted.shape, np.nan)
    inside = rows < stop
    actual[inside] = targets[rows[inside]]
    return predicted, actual - predicted


def _labels(series, rows):
    if series.dates is None:
        return [int(r) for r in rows]
    return list(np.datetime_as_string(series.dates[rows], unit="auto"))


def _csv(header, rows):
    """CSV text: floats with all their digits, ``None`` as an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else repr(float(v)) if isinstance(v, float) else v
                       for v in row] for row in rows])
    return buffer.getvalue()


def _test_forecast(forecasters, targets, start, horizon):
    """Tile rows [start, len(targets)) with horizon blocks: {name: (rows, n_targets)}, steps."""
    origins, steps = _tile_origins(start, len(targets), horizon)
    full = steps == horizon
    result = {}
    for name, forecaster in forecasters.items():
        parts = []
        if full.any():
            parts.append(forecaster(origins[full], horizon).reshape(-1, targets.shape[1]))
        if not full.all():
            parts.append(forecaster(origins[~full], int(steps[-1]))[0])
        result[name] = np.concatenate(parts)
    return result, np.concatenate([np.arange(1, s + 1) for s in steps])


def _series_data(session):
    """The :class:`~rnnlab.datasets.timeseries.Prepared` data of a series session."""
    kind = getattr(session.task, "kind", None)
    if kind != "series":
        raise DataError(f"forecast needs a series run (data.kind='series'); this run has "
                        f"data.kind={kind!r} (use python -m rnnlab.sample for text runs)")
    return session.task.prepared


def _out_dir(session, out_dir):
    """The output folder, default ``RUN/forecast``; refuses a path that is not a folder."""
    if out_dir is None:
        if getattr(session, "run_dir", None) is None:
            raise ValueError("out_dir: expected a folder for a session without a run directory, "
                             "got None")
        out_dir = RunDir(session.run_dir).forecast_dir
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise RnnlabError(f"{out_dir}: exists and is not a folder; expected an output folder")
    return out_dir


def _check_levels(levels):
    levels = tuple(levels)
    if not levels or not all(isinstance(v, float) and 0.0 < v < 1.0 for v in levels):
        raise RnnlabError(f"levels: expected interval levels between 0 and 1 (e.g. 0.8, 0.95), "
                          f"got {levels}")
    levels = tuple(sorted(set(levels)))
    labels = [intervals.level_label(level) for level in levels]
    if len(set(labels)) < len(labels):
        raise RnnlabError(f"levels: {levels} name the same band twice ({labels}); expected "
                          "levels that differ in percent")
    return levels


def _interval_record(radius, count, short, levels, coverages):
    """The JSON record of the intervals: per level, the radii per step and measured coverage."""
    record = {"method": "split conformal on absolute errors, per horizon step; radii made "
                        "non-decreasing along the horizon",
              "calibration_errors": count[:, 0].tolist(), "levels": {}}
    for i, level in enumerate(levels):
        record["levels"][intervals.level_label(level)] = {
            "level": level, "radius": radius[i].tolist(),
            "short_steps": [int(j) + 1 for j in np.flatnonzero(short[i].any(axis=1))],
            **{key: value[i] for key, value in coverages.items()}}
    return record


def forecast_run(session, out_dir=None, levels=intervals.LEVELS):
    """Forecast a series run's test split and backtest it against the baselines, with intervals.

    Parameters
    ----------
    session : rnnlab.training.session.Session
        A series session (``session.task.kind == "series"``), e.g. from
        :func:`rnnlab.training.session.load_run`; its ``functions.predict`` maps windows
        (batch, lookback, features) float32 to ``[yhat (batch, horizon, n_targets)]``.
    out_dir : str or os.PathLike, optional
        Where to write ``forecast.csv``, ``backtest.csv``, ``forecast.png`` and
        ``forecast.json`` (created if missing; only those four files are written).  Default
        ``<session.run_dir>/forecast``.
    levels : sequence of float
        Prediction interval levels (default 0.8 and 0.95).

    Returns
    -------
    dict
        What ``forecast.json`` holds: ``cell``, ``strategy``, ``horizon``, ``season`` and
        ``season_from`` (``data.season`` or the calendar), ``targets``, ``checkpoint_step``
        (or None), ``test_start``, ``test_rows`` and ``mase_scale``; ``test`` =
        ``{model: {metric: value}}`` pooled over the tiled test forecast and ``backtest`` =
        ``{"origins": k, model: {metric: mean over origins}}``, for each of :data:`MODELS` and
        :data:`METRICS` (``None`` where undefined; with several targets, over them too, and
        ``test_per_target`` = ``{target: {model: {metric: value}}}``); ``intervals``
        (calibrated on validation origins: per level the radii (horizon, n_targets), the
        ``short_steps``, and the measured ``coverage_test`` over the tiled test forecast and
        ``coverage_backtest`` pooled and ``coverage_backtest_per_step``); ``files``.

    Raises
    ------
    DataError
        For a text run, or a test part too short for one horizon.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> forecast_run(SimpleNamespace(task=SimpleNamespace(kind="text")))
    Traceback (most recent call last):
    ...
    rnnlab.errors.DataError: forecast needs a series run (data.kind='series'); this run has ...
    """
    data, out_dir = _series_data(session), _out_dir(session, out_dir)
    levels = _check_levels(levels)
    if data.split.val_start == data.split.test_start:
        raise DataError(f"{session.run_dir}: the run has no validation part (data.val_fraction "
                        "= 0: a refit, say), whose errors calibrate the intervals; forecast a run "
                        "with one")
    settings = session.cfg.data
    horizon, season = int(settings.horizon), metrics.check_season(session.task.season)
    series, targets = data.series, data.series.targets
    train, val_start, start = targets[:data.split.val_start], data.split.val_start, \
        data.split.test_start

    forecasters = {"rnn": _model_forecaster(session, data),
                   **_baseline_forecasters(targets, season)}
    origins = _backtest_origins(start, len(targets), horizon)
    rows, means, backtested = backtest(forecasters, targets, origins, horizon, train, season)
    tiled, steps = _test_forecast(forecasters, targets, start, horizon)
    actual = targets[start:]

    # intervals: calibrated on the validation origins, measured on the test part
    _, calibration = _errors(forecasters["rnn"], targets, np.arange(val_start, start), horizon,
                             stop=start)
    radius, count, short = intervals.radii(calibration, levels)
    predicted = backtested["rnn"]
    truth = targets[origins[:, None] + np.arange(horizon)]
    coverages = {"coverage_test": [], "coverage_backtest": [], "coverage_backtest_per_step": []}
    bands = {}
    for i, level in enumerate(levels):
        width = radius[i][steps - 1]                       # (test rows, n_targets)
        bands[level] = (tiled["rnn"] - width, tiled["rnn"] + width)
        coverages["coverage_test"].append(float(np.mean(np.abs(actual - tiled["rnn"]) <= width)))
        pooled, per_step = intervals.coverage(truth, predicted, radius[i])
        coverages["coverage_backtest"].append(pooled)
        coverages["coverage_backtest_per_step"].append(per_step)

    checkpoint = getattr(session, "checkpoint", None) or {}
    result = {"cell": session.cfg.model.cell, "strategy": settings.strategy,
              "horizon": horizon, "season": season,
              "season_from": "data.season" if settings.season else
                             f"the calendar ({series.freq or 'no dates'}; data.season = 0)",
              "targets": list(series.target_names),
              "checkpoint_step": (checkpoint.get("loop") or {}).get("step"),
              "test_start": _labels(series, [start])[0], "test_rows": len(actual),
              "training_rows": len(train), "mase_scale": _mase_scale(train, season),
              "test": {name: score(actual, tiled[name], train, season) for name in MODELS},
              "backtest": {"origins": len(rows), **means},
              **({"test_per_target": {
                  target: {name: score(actual[:, [j]], tiled[name][:, [j]], train[:, [j]], season)
                           for name in MODELS}
                  for j, target in enumerate(series.target_names)}}
                 if series.n_targets > 1 else {}),
              "intervals": {"calibration": f"the {start - val_start} validation origins "
                                           "(outcomes in the validation part only)",
                            **_interval_record(radius, count, short, levels, coverages)}}
    result["files"] = _write(out_dir, series, start, tiled, steps, rows, result, horizon, season,
                             bands)
    return result


def _mase_scale(train, season):
    """MASE's denominator per target (mean absolute lag-``season`` change of the training part)."""
    if len(train) <= math.ceil(season):
        return None
    return np.mean(np.abs(metrics.season_changes(train, season)), axis=0).tolist()


def _band_columns(names, levels):
    return [f"rnn_{side}_{intervals.level_label(level)}" + ("" if len(names) == 1 else f":{t}")
            for level in levels for side in ("lower", "upper") for t in names]


def _write(out_dir, series, start, tiled, steps, rows, result, horizon, season, bands):
    """Write the CSVs, the plot(s) and (last) forecast.json; return ``{kind: path}``."""
    files = {"csv": out_dir / "forecast.csv", "backtest": out_dir / "backtest.csv",
             "json": out_dir / "forecast.json", "plot": out_dir / "forecast.png"}
    files.update({f"plot_{j + 1}": out_dir / f"forecast_{j + 1}.png"
                  for j in range(1, series.n_targets)})
    names = list(series.target_names)
    columns = [model if len(names) == 1 else f"{model}:{target}"
               for model in ("actual",) + MODELS for target in names]
    columns += _band_columns(names, bands)
    table = np.concatenate([series.targets[start:]] + [tiled[name] for name in MODELS]
                           + [edge for level in bands for edge in bands[level]], axis=1)
    dates = _labels(series, np.arange(start, len(series)))
    atomic_write_text(files["csv"], _csv(
        ["date" if series.dates is not None else "index", "step"] + columns,
        [[when, step, *values] for when, step, values in zip(dates, steps, table.tolist())]))
    metric_columns = [f"{model}_{metric}" for model in MODELS for metric in METRICS]
    atomic_write_text(files["backtest"], _csv(
        ["origin"] + metric_columns,
        [[_labels(series, [row["origin"]])[0]] + [row[c] for c in metric_columns]
         for row in rows]))
    x = series.dates if series.dates is not None else np.arange(len(series))
    first = max(0, start - max(4 * horizon, math.ceil(3 * season), 24))
    for j in range(series.n_targets):
        values = series.targets[:, j]
        plot_forecast(files["plot" if j == 0 else f"plot_{j + 1}"], values[first:start],
                      values[start:], tiled["rnn"][:, j],
                      baselines={"naive": tiled["naive"][:, j],
                                 f"seasonal naive (m={season})": tiled["seasonal_naive"][:, j],
                                 "seasonal naive + drift": tiled["seasonal_naive_drift"][:, j]},
                      bands={f"{intervals.level_label(level)} %": (lo[:, j], hi[:, j])
                             for level, (lo, hi) in bands.items()},
                      history_x=x[first:start], forecast_x=x[start:],
                      title=f"{result['cell']} forecast of the test part in blocks of {horizon} "
                            "steps", ylabel=series.target_names[j])
    paths = {key: str(path) for key, path in files.items()}
    atomic_write_json(files["json"], dict(result, files=paths))
    return paths


def _future_index(series, steps):
    """The dates (or row numbers) of the ``steps`` rows after the end of the series."""
    n = len(series)
    if series.dates is None:
        return pd.RangeIndex(n, n + steps, name="index")
    freq = series.freq         # data.freq, or the step load_csv inferred and checked
    if freq is None and n >= 3:  # a Series made in Python without one
        with pd.option_context("future.infer_freq_returns_offset", True):
            freq = pd.infer_freq(pd.DatetimeIndex(series.dates))
    if freq is None:
        raise DataError(f"{series.source}: cannot tell the step between the dates, so the "
                        "future has no dates; set data.freq (e.g. MS, W, D)")
    index = pd.date_range(pd.Timestamp(series.dates[-1]), periods=steps + 1, freq=freq)[1:]
    return pd.DatetimeIndex(index, name="date")


def check_future(session, steps, levels=intervals.LEVELS, out_dir=None):
    """Everything that can make :func:`future_run` fail, checked before any work.

    ``rnnlab.forecast --future H --refit`` calls it before training the refit, so a bad request
    writes nothing.

    Parameters
    ----------
    session, steps, levels, out_dir
        As for :func:`future_run`.

    Returns
    -------
    data : rnnlab.datasets.timeseries.Prepared
        The run's data (read and checked against its metadata).
    levels : tuple of float
        Sorted.
    index : pandas.Index
        The future rows' dates (or row numbers).

    Raises
    ------
    DataError, RnnlabError
        A text run, a run without held-out rows, ``steps`` out of range, a run with covariates
        asked for steps past their data, dates without a calendar step, bad levels or an
        output path that is not a folder.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> check_future(SimpleNamespace(task=SimpleNamespace(kind="text")), 3)
    Traceback (most recent call last):
    ...
    rnnlab.errors.DataError: forecast needs a series run (data.kind='series'); this run has ...
    """
    data = _series_data(session)
    levels = _check_levels(levels)
    series, settings = data.series, session.cfg.data
    n, val_start = len(series), data.split.val_start
    if val_start == n:
        raise RnnlabError(f"{session.run_dir}: the run has no held-out rows (a refit, or "
                          "data.val_fraction = data.test_fraction = 0) whose errors would "
                          "calibrate the intervals; forecast the run it refits with --future H "
                          "--refit")
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1 \
            or steps > n - val_start:
        raise RnnlabError(f"--future: expected 1 to {n - val_start} steps (the held-out rows, "
                          f"whose errors calibrate every step's interval), got {steps!r}")
    fed_back = settings.strategy == "recursive" or steps > settings.horizon
    if series.covariate_names and fed_back:
        raise DataError(f"forecasting {steps} steps from row {n} needs future values of the "
                        f"covariates ({', '.join(series.covariate_names)}) that the data does "
                        "not have; a run with data.covariates cannot forecast past the end of "
                        "its data")
    if out_dir is not None or getattr(session, "run_dir", None) is not None:
        _out_dir(session, out_dir)
    return data, levels, _future_index(series, steps)


def forecast_future(session, steps, levels=intervals.LEVELS, refit=None):
    """Forecast ``steps`` rows past the end of a series run's data, with intervals and baselines.

    The network is the run's (trained on the training part); its window is the last
    ``lookback`` rows of the data.  Intervals are split conformal
    (:mod:`rnnlab.evaluation.intervals`) from the network's ``steps``-step errors at every
    held-out origin (validation and test rows; outcomes inside the data).  Their honesty is
    measured the same way one split earlier: bands calibrated on the validation origins alone
    and scored on the test origins give ``attrs["coverage_test"]``.

    With ``refit`` (the run's model trained again on every row, :mod:`rnnlab.training.refit`),
    the point forecast is the refit's and the bands are centred on it.  A refit has no
    held-out rows, so its bands keep the radii of the run's network: calibrated, and measured,
    on the run's held-out errors.

    Parameters
    ----------
    session : rnnlab.training.session.Session
        A series session, as for :func:`forecast_run`.
    steps : int
        Rows to forecast: 1 to the number of held-out rows (each step's interval needs errors).
    levels : sequence of float
        Interval levels (default 0.8 and 0.95).
    refit : rnnlab.training.session.Session, optional
        The run refitted on all its data (:func:`rnnlab.training.refit.refit`).

    Returns
    -------
    pandas.DataFrame
        ``steps`` rows indexed by date (``date``; the data's calendar) or by row number
        (``index``) for a series without dates; columns ``step`` (1..steps), ``rnn``,
        ``rnn_lower_<level>``, ``rnn_upper_<level>`` and every baseline of :data:`MODELS`
        (``<column>:<target>`` for several targets).  ``attrs`` holds the JSON record: ``cell``,
        ``steps``, ``season``, ``targets``, ``last_observed``, ``refit`` (None, or its
        ``run_dir``, ``steps`` and ``rows``), ``calibration_origins``,
        ``intervals`` (radii (steps, n_targets), ``short_steps`` and ``coverage_test`` per
        level).

    Raises
    ------
    DataError
        For a text run, a run with covariates asked for more steps than a direct network's
        horizon (or any step past the data for a recursive one: the covariates' future is
        unknown), or dates without a calendar step.
    RnnlabError
        For ``steps`` below 1 or above the held-out (validation and test) rows.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> forecast_future(SimpleNamespace(task=SimpleNamespace(kind="text")), 3)
    Traceback (most recent call last):
    ...
    rnnlab.errors.DataError: forecast needs a series run (data.kind='series'); this run has ...
    """
    data, levels, index = check_future(session, steps, levels)
    series, targets = data.series, data.series.targets
    season = metrics.check_season(session.task.season)
    val_start, test_start, n = data.split.val_start, data.split.test_start, len(series)
    rnn = _model_forecaster(session, data)
    if refit is None:
        point = rnn(np.array([n]), steps)[0]                          # (steps, n_targets)
    else:
        refitted = _series_data(refit)
        if len(refitted.series) != n or refitted.split.val_start != n:
            raise DataError(f"{refit.run_dir}: a refit trains on all {n} rows of the run's data; "
                            f"this one trained on {refitted.split.val_start} of "
                            f"{len(refitted.series)}")
        point = _model_forecaster(refit, refitted)(np.array([n]), steps)[0]

    held_out = np.arange(val_start, n)
    predicted, errors = _errors(rnn, targets, held_out, steps, stop=n)
    radius, count, short = intervals.radii(errors, levels)
    early, _, _ = intervals.radii(np.where((held_out[:, None] + np.arange(steps) < test_start)
                                           [..., None], errors, np.nan)[held_out < test_start],
                                  levels)
    test_rows = held_out >= test_start
    coverage = [intervals.coverage((predicted + errors)[test_rows], predicted[test_rows],
                                   early[i]) for i in range(len(levels))]

    names = list(series.target_names)
    suffix = (lambda t: "") if len(names) == 1 else (lambda t: f":{t}")
    frame = pd.DataFrame(index=index)
    frame["step"] = np.arange(1, steps + 1)
    for j, target in enumerate(names):
        frame[f"rnn{suffix(target)}"] = point[:, j]
    for i, level in enumerate(levels):
        for side, sign in (("lower", -1.0), ("upper", 1.0)):
            for j, target in enumerate(names):
                frame[f"rnn_{side}_{intervals.level_label(level)}{suffix(target)}"] = \
                    point[:, j] + sign * radius[i, :, j]
    for name, forecaster in _baseline_forecasters(targets, season).items():
        values = forecaster(np.array([n]), steps)[0]
        for j, target in enumerate(names):
            frame[f"{name}{suffix(target)}"] = values[:, j]
    coverages = {"coverage_test": [c[0] for c in coverage],
                 "coverage_test_per_step": [c[1] for c in coverage]}
    frame.attrs = {
        "cell": session.cfg.model.cell, "strategy": session.cfg.data.strategy,
        "steps": int(steps), "season": season, "targets": names,
        "last_observed": _labels(series, [n - 1])[0],
        "refit": None if refit is None else {
            "run_dir": str(refit.run_dir), "rows": n,
            "steps": int(((refit.checkpoint or {}).get("loop") or {}).get("step") or 0)},
        "calibration_origins": len(held_out),
        "intervals": {"calibration": f"the {len(held_out)} held-out origins (validation and "
                                     "test rows; outcomes inside the data)" + (
                          "" if refit is None else " of the run's network, trained on the "
                          "training part; the refit has no held-out rows, so its bands keep "
                          "these radii"),
                      **_interval_record(radius, count, short, levels, coverages)}}
    return frame


def future_run(session, steps, out_dir=None, levels=intervals.LEVELS, refit=None):
    """:func:`forecast_future`, written to ``future.csv``, ``future.png`` and ``future.json``.

    Parameters
    ----------
    session, steps, levels, refit
        As for :func:`forecast_future`.
    out_dir : str or os.PathLike, optional
        Default ``<session.run_dir>/forecast``; only those three files are written.

    Returns
    -------
    dict
        The frame's ``attrs`` plus ``files`` (``{kind: path}``) and ``frame`` (the DataFrame).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> future_run(SimpleNamespace(task=SimpleNamespace(kind="text")), 3)
    Traceback (most recent call last):
    ...
    rnnlab.errors.DataError: forecast needs a series run (data.kind='series'); this run has ...
    """
    _series_data(session)
    out_dir = _out_dir(session, out_dir)
    frame = forecast_future(session, steps, levels, refit)
    data = session.task.prepared
    series = data.series
    files = {"csv": out_dir / "future.csv", "json": out_dir / "future.json",
             "plot": out_dir / "future.png"}
    files.update({f"plot_{j + 1}": out_dir / f"future_{j + 1}.png"
                  for j in range(1, series.n_targets)})
    labels = (list(np.datetime_as_string(frame.index.to_numpy("datetime64[us]"), unit="auto"))
              if series.dates is not None else [int(i) for i in frame.index])
    atomic_write_text(files["csv"], _csv([frame.index.name] + list(frame.columns),
                                         [[when] + row for when, row in
                                          zip(labels, frame.to_numpy(dtype=object).tolist())]))
    season, names = frame.attrs["season"], list(series.target_names)
    refitted = " (refit on all rows)" if frame.attrs["refit"] else ""
    x = series.dates if series.dates is not None else np.arange(len(series))
    first = max(0, len(series) - max(4 * steps, math.ceil(3 * season), 48))
    fx = frame.index.to_numpy("datetime64[us]") if series.dates is not None \
        else frame.index.to_numpy()
    for j, target in enumerate(names):
        col = (lambda c: c) if len(names) == 1 else (lambda c, t=target: f"{c}:{t}")
        plot_forecast(files["plot" if j == 0 else f"plot_{j + 1}"],
                      series.targets[first:, j], None, frame[col("rnn")].to_numpy(),
                      baselines={f"seasonal naive (m={season})":
                                 frame[col("seasonal_naive")].to_numpy(),
                                 "seasonal naive + drift":
                                 frame[col("seasonal_naive_drift")].to_numpy()},
                      bands={f"{label} %": (frame[col(f"rnn_lower_{label}")].to_numpy(),
                                            frame[col(f"rnn_upper_{label}")].to_numpy())
                             for label in frame.attrs["intervals"]["levels"]},
                      history_x=x[first:], forecast_x=fx,
                      title=f"{frame.attrs['cell']} forecast{refitted} of the {steps} steps "
                            f"after {frame.attrs['last_observed']}", ylabel=target)
    paths = {key: str(path) for key, path in files.items()}
    atomic_write_json(files["json"], dict(frame.attrs, files=paths))
    return dict(frame.attrs, files=paths, frame=frame)


def _number(value, metric):
    if value is None:
        return "-"
    if metric in PERCENT:
        return f"{value:.2f} %"
    return format(value, ".4f" if metric == "mase" else ".3f")


def _coverage_lines(record, measured):
    """The intervals' table: ``measured`` is ``[(key in each level's record, column title)]``."""
    lines = [f"prediction intervals: {record['method']}; calibrated on {record['calibration']}",
             f"{'level':<8}" + "".join(f"{title:>28}" for _, title in measured)]
    for label, level in record["levels"].items():
        cells = "".join(f"{'-' if level[key] is None else f'{100 * level[key]:.1f} %':>28}"
                        for key, _ in measured)
        note = (f"   (step(s) {', '.join(map(str, level['short_steps']))}: too few errors "
                "for this level; the largest is used)") if level["short_steps"] else ""
        lines.append(f"{label + ' %':<8}{cells}{note}")
    return lines


def format_report(result):
    """The metric tables of :func:`forecast_run`'s result as plain text.

    Parameters
    ----------
    result : dict
        As returned by :func:`forecast_run`.

    Returns
    -------
    str
        Two tables (test forecast pooled over its points; backtest means over origins), and
        one test table per target when there are several; one row per model, ``-`` where
        undefined, MAPE and sMAPE with ``%``; the MASE scale; and the intervals' measured
        coverage when the result has them.

    Examples
    --------
    >>> row = {"mae": 1.0, "rmse": 2.0, "mape": None, "smape": 3.0, "mase": 0.5}
    >>> res = {"test_rows": 4, "horizon": 2, "season": 1, "test": {m: row for m in MODELS},
    ...        "backtest": {"origins": 3, **{m: row for m in MODELS}}}
    >>> print(format_report(res).splitlines()[2])
    rnn                       1.000      2.000          -     3.00 %     0.5000
    """
    lines = []
    per_target = result.get("test_per_target") or {}
    over = f", the {len(per_target)} targets together" if per_target else ""
    tables = [(result["test"], f"test forecast: pooled over its {result['test_rows']} rows "
                               f"(forecast in blocks of {result['horizon']}){over}"),
              (result["backtest"], f"rolling-origin backtest: mean over "
                                   f"{result['backtest']['origins']} origins of each origin's "
                                   f"{result['horizon']}-step score{over}")]
    tables += [(scores, f"test forecast of {target}: pooled over its {result['test_rows']} rows")
               for target, scores in per_target.items()]
    for scores, title in tables:
        lines.append(title)
        lines.append(f"{'model':<21}" + "".join(f"{m.upper():>11}" for m in METRICS))
        for model in MODELS:
            lines.append(f"{model:<21}" + "".join(f"{_number(scores[model][m], m):>11}"
                                                  for m in METRICS))
        lines.append("")
    source = f", from {result['season_from']}" if result.get("season_from") else ""
    lines.append(f"MASE: error / mean absolute in-sample seasonal-naive (m={result['season']}"
                 f"{source}) error of the training part (Hyndman & Koehler 2006); below 1 "
                 "beats it")
    if "intervals" in result:
        lines += [""] + _coverage_lines(result["intervals"], [
            ("coverage_test", f"covered: {result['test_rows']} test rows"),
            ("coverage_backtest", "covered: backtest points")])
    return "\n".join(lines)


def format_future(result):
    """:func:`future_run`'s result as text: the forecast table and the intervals' coverage.

    Parameters
    ----------
    result : dict
        As returned by :func:`future_run`.

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"step": [1], "rnn": [3.0]}, index=pd.Index([7], name="index"))
    >>> record = {"method": "m", "calibration": "c", "levels": {}}
    >>> print(format_future({"frame": frame, "steps": 1, "last_observed": 6,
    ...                      "intervals": record}).splitlines()[0])
    forecast of the 1 steps after 6
    """
    frame = result["frame"]
    refit = result.get("refit")
    model = (f" by the refit on all {refit['rows']} rows ({refit['steps']} steps, "
             f"{refit['run_dir']})" if refit else "")
    lines = [f"forecast{model} of the {result['steps']} steps after {result['last_observed']}",
             frame.to_string(float_format=lambda v: f"{v:.4g}"), ""]
    return "\n".join(lines + _coverage_lines(
        result["intervals"], [("coverage_test", "covered on the test part*")]) + [
        "* the coverage of bands calibrated on the validation origins alone, scored on the test "
        "origins: how the printed bands (calibrated on both) may be expected to do"])
