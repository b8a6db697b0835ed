"""The runs of a comparison: read from their directories, grouped by what differs, summarised.

:func:`load_runs` reads each run directory into a :class:`RunRecord`; :func:`group_runs` groups
the runs by the config values that differ between them (the seed and the run's name and folder
excepted); :func:`summarize` computes per group the mean and the sample standard deviation of
every final metric (:func:`mean_std`, :func:`metric_specs`).  :mod:`rnnlab.reports.comparison`
renders the result.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab import config
from rnnlab.errors import RnnlabError
from rnnlab.files import read_json
from rnnlab.run import RunDir
from rnnlab.run.metrics_log import read_metrics

__all__ = ["RunRecord", "load_runs", "group_runs", "mean_std", "metric_specs", "summarize",
           "BASELINE_MODELS", "BASELINE_METRICS", "IGNORED_KEYS"]

#: Config keys that never make runs belong to different groups.
IGNORED_KEYS = ("train.seed", "run.dir", "run.name", "run.progress")

# (name in report.json, path in summary.json, column header; None: kept in report.json only).
# Text is read in bits per character everywhere a person reads; the nats stay in the JSON.
_TEXT = [("val_bpc", ("best", "bpc"), "best val bits/char"),
         ("test_bpc", ("test", "bpc"), "test bits/char"),
         ("val_loss", ("best", "val_loss"), None), ("test_loss", ("test", "loss"), None),
         ("chars_per_s", ("throughput", "chars_per_s"), "chars/s")]
_SERIES = [("val_loss", ("best", "val_loss"), "best val loss (scaled)"),
           ("test_loss", ("test", "loss"), "test loss (scaled)"),
           ("test_rmse", ("test", "rmse"), "test RMSE (pooled)"),
           ("test_mae", ("test", "mae"), "test MAE (pooled)"),
           ("test_mase", ("test", "mase"), "test MASE (pooled)"),
           ("windows_per_s", ("throughput", "windows_per_s"), "windows/s")]
_TAIL = [("n_params", ("n_params",), "parameters"),
         ("wall_time", ("wall_time",), "training time (s)"), ("steps", ("steps",), "steps"),
         ("load_start", ("load", "start", "load_1min"), "load at start"),
         ("load_end", ("load", "end", "load_1min"), "load at end")]
#: The forecasters of the backtest table and their report names.
BASELINE_MODELS = (("rnn", "RNN"), ("naive", "naive"), ("seasonal_naive", "seasonal naive"),
                   ("drift", "drift"), ("seasonal_naive_drift", "seasonal naive + drift"))
BASELINE_METRICS = ("rmse", "mae", "mase")


@dataclass
class RunRecord:
    """One finished run, as read from its directory.

    Attributes
    ----------
    path : pathlib.Path
    config : rnnlab.config.Config
        The resolved config.
    summary : dict
        ``summary.json``.
    rows : list of dict
        ``metrics.csv``, one dict per evaluation.
    forecast : dict or None
        ``forecast.json`` of a series run, when one was made.

    Examples
    --------
    >>> from rnnlab import config
    >>> record = RunRecord(Path("runs/x"), config.Config(), {"steps": 10}, [])
    >>> record.name, record.kind, record.seed
    ('x', 'text', 0)
    """

    path: Path
    config: config.Config
    summary: dict
    rows: list
    forecast: dict = None

    @property
    def name(self):
        return self.path.name

    @property
    def kind(self):
        return self.config.data.kind

    @property
    def seed(self):
        return self.config.train.seed


def load_runs(run_dirs, forecasts=None):
    """Read run directories.

    Parameters
    ----------
    run_dirs : sequence of str or os.PathLike
        Directories written by ``python -m rnnlab.train``.
    forecasts : dict, optional
        Run directory -> a ``forecast.json`` path to use instead of ``RUN/forecast/forecast.json``.

    Returns
    -------
    list of RunRecord

    Raises
    ------
    RnnlabError
        For a directory that is not a finished run (no ``summary.json``), a ``metrics.csv``
        whose steps do not strictly increase (naming the line), or runs that mix text and
        series.

    Examples
    --------
    >>> load_runs(["no/such/run"])
    Traceback (most recent call last):
    ...
    rnnlab.errors.RnnlabError: no/such/run: no such run directory
    """
    records = []
    for run_dir in run_dirs:
        run = RunDir(run_dir).check(finished=True)
        forecast_path = Path((forecasts or {}).get(str(run_dir),
                                                   run.forecast_dir / "forecast.json"))
        forecast = read_json(forecast_path, expect=dict) if forecast_path.is_file() else None
        records.append(RunRecord(run.path, run.load_config(), run.read_summary(),
                                 read_metrics(run.metrics_file, increasing=True), forecast))
    kinds = sorted({record.kind for record in records})
    if len(kinds) > 1:
        raise RnnlabError(f"the runs mix data kinds ({', '.join(kinds)}); compare text runs and "
                          "series runs separately")
    return records


def _flat(config):
    return {f"{section}.{key}": value for section, values in config.items()
            for key, value in values.items()}


def _text(value):
    if isinstance(value, list):
        return ",".join(map(str, value))
    return json.dumps(value) if isinstance(value, bool) else str(value)


def group_runs(records):
    """Group runs by the config values that differ between them.

    Parameters
    ----------
    records : sequence of RunRecord

    Returns
    -------
    dict of str to list of RunRecord
        Label (``"model.cell=lstm"``, or ``"model.cell=lstm, train.lr=0.01"``) -> runs, in order
        of first appearance; when nothing but the seed differs, one group labelled by the cell.

    Examples
    --------
    >>> from rnnlab import config
    >>> def run(cell, seed):
    ...     cfg = config.load(None, [f"model.cell={cell}", f"train.seed={seed}"], check_files=False)
    ...     return RunRecord(Path(f"{cell}{seed}"), cfg, {}, [])
    >>> groups = group_runs([run("elman", 0), run("lstm", 0), run("elman", 1)])
    >>> {label: [r.name for r in runs] for label, runs in groups.items()}
    {'model.cell=elman': ['elman0', 'elman1'], 'model.cell=lstm': ['lstm0']}
    """
    flats = [_flat(record.config.to_dict()) for record in records]
    keys = [key for key in flats[0] if key not in IGNORED_KEYS
            and len({json.dumps(flat.get(key), sort_keys=True) for flat in flats}) > 1]
    groups = {}
    for record, flat in zip(records, flats):
        label = (", ".join(f"{key}={_text(flat.get(key))}" for key in keys)
                 or record.config.model.cell)
        groups.setdefault(label, []).append(record)
    return groups


def mean_std(values):
    """Mean and sample standard deviation of the values that are not None.

    Parameters
    ----------
    values : sequence of float or None

    Returns
    -------
    dict
        ``mean``, ``std`` (``ddof=1``; None for fewer than two values), ``n`` and ``values``.

    Examples
    --------
    >>> mean_std([1.0, 2.0, None, 3.0])
    {'mean': 2.0, 'std': 1.0, 'n': 3, 'values': [1.0, 2.0, 3.0]}
    """
    kept = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    mean = float(np.mean(kept)) if kept else None
    std = float(np.std(kept, ddof=1)) if len(kept) > 1 else None
    return {"mean": mean, "std": std, "n": len(kept), "values": kept}


def metric_specs(kind):
    """The final metrics: ``(json name, path in summary.json, column header)``.

    The header is None for a metric kept in ``report.json`` only: text is shown in bits per
    character, its losses in nats stay in the JSON.  Throughput and the machine's 1-minute load
    at the start and end of each run are there because they change what a time budget buys.

    Examples
    --------
    >>> [name for name, _, header in metric_specs("text") if header]
    ['val_bpc', 'test_bpc', 'chars_per_s', 'n_params', 'wall_time', 'steps', 'load_start', \
'load_end']
    >>> [name for name, _, header in metric_specs("text") if header is None]
    ['val_loss', 'test_loss']
    """
    return (_TEXT if kind == "text" else _SERIES) + _TAIL


def _lookup(tree, path):
    for key in path:
        if not isinstance(tree, dict) or tree.get(key) is None:
            return None
        tree = tree[key]
    return tree


def summarize(groups):
    """Per group: the runs, their seeds and mean ± std of every final metric.

    Parameters
    ----------
    groups : dict of str to list of RunRecord
        From :func:`group_runs`.

    Returns
    -------
    list of dict
        One per group: ``label``, ``runs``, ``seeds``, ``metrics`` (name -> :func:`mean_std`)
        and, for series runs with forecasts, ``baselines`` (``"<model>_<metric>"`` ->
        :func:`mean_std` over the backtest means) and ``coverage`` (interval level label such
        as ``"80"`` -> :func:`mean_std` of the measured test coverage, in percent).

    Examples
    --------
    >>> from rnnlab import config
    >>> def run(seed, val_loss):
    ...     cfg = config.load(None, [f"train.seed={seed}"], check_files=False)
    ...     return RunRecord(Path(f"s{seed}"), cfg, {"best": {"val_loss": val_loss}}, [])
    >>> [entry] = summarize(group_runs([run(0, 2.0), run(1, 3.0)]))
    >>> entry["label"], entry["runs"], entry["seeds"]
    ('lstm', ['s0', 's1'], [0, 1])
    >>> entry["metrics"]["val_loss"]
    {'mean': 2.5, 'std': 0.707, 'n': 2, 'values': [2.0, 3.0]}
    >>> entry["metrics"]["test_bpc"]["n"]  # missing from these summaries
    0
    """
    out = []
    for label, records in groups.items():
        kind = records[0].kind
        entry = {"label": label, "runs": [r.name for r in records],
                 "seeds": [r.seed for r in records],
                 "metrics": {name: mean_std([_lookup(r.summary, path) for r in records])
                             for name, path, _ in metric_specs(kind)}}
        if kind == "series" and any(r.forecast for r in records):
            entry["baselines"] = {
                f"{model}_{metric}": mean_std([_lookup(r.forecast, ("backtest", model, metric))
                                               for r in records])
                for model, _ in BASELINE_MODELS for metric in BASELINE_METRICS}
            labels = sorted({label for r in records if r.forecast
                             for label in _lookup(r.forecast, ("intervals", "levels")) or {}},
                            key=float)
            entry["coverage"] = {
                label: mean_std([None if c is None else 100.0 * c for c in
                                 (_lookup(r.forecast, ("intervals", "levels", label,
                                                       "coverage_test")) for r in records)])
                for label in labels}
        out.append(entry)
    return out

