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
one window, ``recursive`` feeds one-step predictions back in
(:func:`~rnnlab.datasets.timeseries.recursive_forecast`).  Beside it stand the naive forecast and
the seasonal-naive forecast with period ``data.season``; MASE is scaled by the seasonal-naive
in-sample error on the training part.  ``forecast.json`` holds every metric.

:func:`forecast_run` writes ``forecast.csv``, ``backtest.csv``, ``forecast.png`` and ``forecast.json``;
``python -m rnnlab.forecast`` (:mod:`rnnlab.commands.forecast`) is its command.
"""

import csv
import io
from pathlib import Path

import numpy as np

from rnnlab.datasets.timeseries import Windows, recursive_forecast
from rnnlab.errors import DataError, RnnlabError
from rnnlab.evaluation import baselines, metrics
from rnnlab.evaluation.plots import plot_forecast
from rnnlab.files import atomic_write_json, atomic_write_text
from rnnlab.run import RunDir

__all__ = ["MODELS", "METRICS", "score", "backtest", "format_report", "forecast_run"]

#: The forecasters compared, in report order.
MODELS = ("rnn", "naive", "seasonal_naive")
#: The metrics reported for each forecaster (MAPE and sMAPE in percent).
METRICS = ("mae", "rmse", "mape", "smape", "mase")


def score(actual, forecast, train, season):
    """Every metric of :data:`METRICS` for one forecast; ``None`` where a metric is undefined.

    Parameters
    ----------
    actual, forecast : array_like, shape (steps, n_targets)
        Raw values.
    train : array_like, shape (time, n_targets)
        The raw training part, which scales MASE (seasonal naive with period ``season``).
    season : int
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
    defined = len(train) > season and np.all(np.any(train[season:] != train[:-season], axis=0))
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
    season : int

    Returns
    -------
    rows : list of dict
        One per origin: ``{"origin": t, "<name>_<metric>": value, ...}``.
    means : dict
        ``{name: {metric: mean over origins or None}}``; ``None`` when the metric is undefined
        at some origin.

    Examples
    --------
    >>> y = np.arange(10.0)[:, None]
    >>> last = lambda origins, steps: np.stack([baselines.naive(y[:t], steps) for t in origins])
    >>> rows, means = backtest({"naive": last}, y, np.array([6, 7]), 2, y[:6], season=1)
    >>> [row["origin"] for row in rows], means["naive"]["mae"]
    ([6, 7], 1.5)
    """
    rows = [{"origin": int(t)} for t in origins]
    means = {}
    actual = targets[origins[:, None] + np.arange(horizon)]
    for name, forecaster in forecasters.items():
        predicted = np.asarray(forecaster(origins, horizon), dtype=np.float64)
        scores = [score(a, p, train, season) for a, p in zip(actual, predicted)]
        for row, values in zip(rows, scores):
            row.update({f"{name}_{metric}": values[metric] for metric in METRICS})
        means[name] = {metric: (None if any(s[metric] is None for s in scores)
                                else float(np.mean([s[metric] for s in scores])))
                       for metric in METRICS}
    return rows, means


def _baseline_forecasters(targets, season):
    """The naive and seasonal-naive forecasters over the raw targets (time, n_targets)."""
    def naive(origins, steps):
        return np.stack([baselines.naive(targets[:t], steps) for t in origins])

    def seasonal(origins, steps):
        if origins.min() < season:
            raise DataError(f"data.season = {season} exceeds the {origins.min()} rows before the "
                            f"first forecast origin; seasonal naive needs a whole season")
        return np.stack([baselines.seasonal_naive(targets[:t], steps, season) for t in origins])

    return {"naive": naive, "seasonal_naive": seasonal}


def _model_forecaster(session, data):
    """Raw-unit forecasts of the run's network from the preprocessed rows before each origin."""
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
        if strategy == "recursive":
            covariates = None
            if values.shape[1] > n_targets:
                covariates = values[rows[:, None] + np.arange(steps), n_targets:]
            scaled = recursive_forecast(lambda window: predict(window)[0], x, steps,
                                        covariates=covariates)
        else:
            scaled = np.asarray(predict(x)[0])
            if scaled.shape[1] < steps:
                raise DataError(f"the network forecasts {scaled.shape[1]} steps; the direct "
                                f"strategy needs data.horizon = {steps}")
            scaled = scaled[:, :steps]
        return data.inverse(scaled, Windows(x, None, origins))

    return forecast


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


def forecast_run(session, out_dir=None):
    """Forecast a series run's test split and backtest it against naive and seasonal naive.

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

    Returns
    -------
    dict
        What ``forecast.json`` holds: ``cell``, ``strategy``, ``horizon``, ``season``,
        ``targets``, ``checkpoint_step`` (or None), ``test_start`` and ``test_rows``; ``test`` =
        ``{model: {metric: value}}`` for the tiled test forecast and ``backtest`` =
        ``{"origins": k, model: {metric: mean over origins}}``, for each of :data:`MODELS` and
        :data:`METRICS` (``None`` where undefined); ``files`` = ``{kind: path}``.

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
    kind = getattr(session.task, "kind", None)
    if kind != "series":
        raise DataError(f"forecast needs a series run (data.kind='series'); this run has "
                        f"data.kind={kind!r} (use python -m rnnlab.sample for text runs)")
    if out_dir is None:
        if getattr(session, "run_dir", None) is None:
            raise ValueError("out_dir: expected a folder for a session without a run directory, "
                             "got None")
        out_dir = RunDir(session.run_dir).forecast_dir
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise RnnlabError(f"{out_dir}: exists and is not a folder; expected an output folder")
    data = session.task.prepared
    settings = session.cfg.data
    horizon, season = int(settings.horizon), int(settings.season)
    series, targets = data.series, data.series.targets
    train, start = targets[:data.split.val_start], data.split.test_start

    forecasters = {"rnn": _model_forecaster(session, data),
                   **_baseline_forecasters(targets, season)}
    rows, means = backtest(forecasters, targets, _backtest_origins(start, len(targets), horizon),
                           horizon, train, season)
    tiled, steps = _test_forecast(forecasters, targets, start, horizon)
    actual = targets[start:]
    checkpoint = getattr(session, "checkpoint", None) or {}
    result = {"cell": session.cfg.model.cell, "strategy": settings.strategy,
              "horizon": horizon, "season": season, "targets": list(series.target_names),
              "checkpoint_step": (checkpoint.get("loop") or {}).get("step"),
              "test_start": _labels(series, [start])[0], "test_rows": len(actual),
              "test": {name: score(actual, tiled[name], train, season) for name in MODELS},
              "backtest": {"origins": len(rows), **means}}
    result["files"] = _write(out_dir, series, start, tiled, steps, rows, result, horizon, season)
    return result


def _write(out_dir, series, start, tiled, steps, rows, result, horizon, season):
    """Write the CSVs, the plot(s) and (last) forecast.json; return ``{kind: path}``."""
    files = {"csv": out_dir / "forecast.csv", "backtest": out_dir / "backtest.csv",
             "json": out_dir / "forecast.json", "plot": out_dir / "forecast.png"}
    files.update({f"plot_{j + 1}": out_dir / f"forecast_{j + 1}.png"
                  for j in range(1, series.n_targets)})
    names = list(series.target_names)
    columns = [model if len(names) == 1 else f"{model}:{target}"
               for model in ("actual",) + MODELS for target in names]
    table = np.concatenate([series.targets[start:]] + [tiled[name] for name in MODELS], axis=1)
    dates = _labels(series, np.arange(start, len(series)))
    atomic_write_text(files["csv"], _csv(
        ["date" if series.dates is not None else "index", "step"] + columns,
        [[when, step, *values] for when, step, values in zip(dates, steps, table.tolist())]))
    metric_columns = [f"{model}_{metric}" for model in MODELS for metric in METRICS]
    atomic_write_text(files["backtest"], _csv(
        ["origin"] + metric_columns,
        [[_labels(series, [row["origin"]])[0]] + [row[c] for c in metric_columns]
         for row in rows]))
    for j in range(series.n_targets):
        _plot(files["plot" if j == 0 else f"plot_{j + 1}"], series, start, tiled, horizon,
              season, j, result["cell"])
    paths = {key: str(path) for key, path in files.items()}
    atomic_write_json(files["json"], dict(result, files=paths))
    return paths


def _plot(path, series, start, tiled, horizon, season, target, cell):
    """Draw one target's test forecast with :func:`rnnlab.evaluation.plots.plot_forecast`."""
    first = max(0, start - max(4 * horizon, 3 * season, 24))
    x = series.dates if series.dates is not None else np.arange(len(series))
    values = series.targets[:, target]
    return plot_forecast(path, values[first:start], values[start:], tiled["rnn"][:, target],
                         baselines={"naive": tiled["naive"][:, target],
                                    f"seasonal naive (m={season})":
                                        tiled["seasonal_naive"][:, target]},
                         history_x=x[first:start], forecast_x=x[start:],
                         title=f"{cell} forecast of the test part in blocks of {horizon} steps",
                         ylabel=series.target_names[target])


def format_report(result):
    """The metric tables of :func:`forecast_run`'s result as plain text.

    Parameters
    ----------
    result : dict
        As returned by :func:`forecast_run`.

    Returns
    -------
    str
        Two tables (test forecast; backtest means), one row per model, ``-`` where undefined.

    Examples
    --------
    >>> row = {"mae": 1.0, "rmse": 2.0, "mape": None, "smape": 3.0, "mase": 0.5}
    >>> res = {"test_rows": 4, "horizon": 2, "test": {m: row for m in MODELS},
    ...        "backtest": {"origins": 3, **{m: row for m in MODELS}}}
    >>> print(format_report(res).splitlines()[2])
    rnn                    1.000      2.000          -      3.000     0.5000
    """
    lines = []
    for key, title in (("test", f"test forecast ({result['test_rows']} rows, blocks of "
                                f"{result['horizon']})"),
                       ("backtest", f"rolling-origin backtest (mean over "
                                    f"{result['backtest']['origins']} origins)")):
        lines.append(title)
        lines.append(f"{'model':<16}" + "".join(f"{m.upper():>11}" for m in METRICS))
        for model in MODELS:
            cells = []
            for metric in METRICS:
                value = result[key][model][metric]
                fmt = ".4f" if metric == "mase" else ".3f"
                cells.append(f"{'-' if value is None else format(value, fmt):>11}")
            lines.append(f"{model:<16}" + "".join(cells))
    return "\n".join(lines)
